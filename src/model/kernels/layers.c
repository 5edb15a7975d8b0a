// General per-layer kernels for convolutional networks, in NHWC layout, for WebAssembly SIMD: what
// tfjs-backend-wasm lacks or does slowly for training. A 3×3 convolution's forward pass and its input
// gradient are tfjs' own (XNNPACK); its weight gradient is our im2col below followed by tfjs' matmul
// (XNNPACK too); max-pooling keeps where each maximum came from, so that its backward pass is a
// scatter. tfjs' Conv3DBackpropFilterV2 (the only filter gradient it has) took 138 ms for a batch
// that im2col + matmul does in 6 ms, and its MaxPoolGrad 22 ms for what the scatter does in 1 ms.
//
// Memory is tfjs-backend-wasm's own (this module imports it), as for conv_pool.c. Every size is an
// argument: N images, H×W pixels, C channels (a multiple of 4 for the pooling kernels).

#include <wasm_simd128.h>

// cols[(ky·3 + kx)·C + c][(img·H + y)·W + x] = x[img][y + ky − 1][x + kx − 1][c], 0 outside the
// image: the patches of a 3×3 "same" convolution, one row per tap and channel, in the order of a
// [3, 3, C, F] (HWIO) filter reshaped to [9·C, F], so that cols · ∂y [N·H·W, F] is ∂filter; and a
// last row of ones, which makes the same product's last row ∂bias (tfjs' sum over the first axis
// of a [50176, 16] ∂y took 3.3 ms, the extra row 0.1 ms).
__attribute__((export_name("im2col_3x3")))
void im2col_3x3(int n, int h, int w, int c, const float* x, float* cols) {
  const int m = n * h * w;
  for (int ky = 0; ky < 3; ky++) {
    for (int kx = 0; kx < 3; kx++) {
      for (int ch = 0; ch < c; ch++) {
        float* row = cols + ((ky * 3 + kx) * c + ch) * m;
        for (int img = 0; img < n; img++) {
          const float* image = x + img * h * w * c + ch;
          for (int y = 0; y < h; y++) {
            const int sy = y + ky - 1;
            float* out = row + (img * h + y) * w;
            if (sy < 0 || sy >= h) {
              for (int xx = 0; xx < w; xx++) out[xx] = 0;
              continue;
            }
            const float* src = image + sy * w * c;
            for (int xx = 0; xx < w; xx++) {
              const int sx = xx + kx - 1;
              out[xx] = sx >= 0 && sx < w ? src[sx * c] : 0;
            }
          }
        }
      }
    }
  }
  float* ones = cols + 9 * c * m;
  for (int i = 0; i < m; i++) ones[i] = 1;
}

// out[img][y][x][c] = max over the 2×2 window at (2y, 2x) of in; argmax (may be 0, for inference)
// holds the index into `in` of the first maximum in row-major window order, where PyTorch's
// max_pool2d routes the gradient. H and W are even; C is a multiple of 4.
__attribute__((export_name("max_pool_2x2_forward")))
void max_pool_2x2_forward(int n, int h, int w, int c, const float* in, float* out, int* argmax) {
  const int ph = h / 2, pw = w / 2, row = w * c;
  for (int img = 0; img < n; img++) {
    for (int y = 0; y < ph; y++) {
      for (int x = 0; x < pw; x++) {
        const int at = ((img * h + 2 * y) * w + 2 * x) * c;  // the window's top-left, channel 0
        const int o = ((img * ph + y) * pw + x) * c;
        for (int ch = 0; ch < c; ch += 4) {
          const int offsets[4] = {at + ch, at + c + ch, at + row + ch, at + row + c + ch};
          v128_t m = wasm_v128_load(in + offsets[0]);
          v128_t where = wasm_i32x4_make(offsets[0], offsets[0] + 1, offsets[0] + 2, offsets[0] + 3);
          for (int q = 1; q < 4; q++) {
            const v128_t v = wasm_v128_load(in + offsets[q]);
            const v128_t greater = wasm_f32x4_gt(v, m);  // strictly: the first maximum wins
            m = wasm_v128_bitselect(v, m, greater);
            const v128_t index =
                wasm_i32x4_make(offsets[q], offsets[q] + 1, offsets[q] + 2, offsets[q] + 3);
            where = wasm_v128_bitselect(index, where, greater);
          }
          wasm_v128_store(out + o + ch, m);
          if (argmax) wasm_v128_store(argmax + o + ch, where);
        }
      }
    }
  }
}

// din = the gradient of max_pool_2x2_forward's input, when that input was a ReLU's output: each
// pooled value's gradient dout[i] goes to where its maximum came from, if it was positive (ReLU's
// gradient is 0 at 0). `size` is the number of pooled values, `in_size` of inputs.
__attribute__((export_name("max_pool_2x2_backward")))
void max_pool_2x2_backward(int size, int in_size, const float* dout, const float* out,
                           const int* argmax, float* din) {
  for (int i = 0; i < in_size; i++) din[i] = 0;
  for (int i = 0; i < size; i++) {
    if (out[i] > 0) din[argmax[i]] += dout[i];
  }
}
