// General per-layer kernels for convolutional networks, in NHWC layout, for WebAssembly SIMD: what
// tfjs-backend-wasm lacks or does slowly for training. A 3×3 convolution's forward pass and its input
// gradient are tfjs' own (XNNPACK); its weight gradient is our im2col below followed by tfjs' matmul
// (XNNPACK too); max-pooling keeps where each maximum came from, so that its backward pass is a
// scatter. tfjs' Conv3DBackpropFilterV2 (the only filter gradient it has) took 138 ms for a batch
// that im2col + matmul does in 6 ms, and its MaxPoolGrad 22 ms for what the scatter does in 1 ms.
// Adam's update of a parameter is one pass here instead of eleven tfjs operations.
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

// One Adam step of n parameters (src/train/adam.ts): the moments m, v and the parameters p updated
// from the gradient g into m2, v2, p2, with each operation of the eleven tfjs ops it replaces, in
// their order, rounded to float32 as they round it (no fused multiply-add), so the same bits:
//   m2 = m·β1 + g·(1 − β1);  v2 = v·β2 + g²·(1 − β2);  p2 = p − m2 / (√(v2 / c2) + ε) · step
// where c2 = 1 − β2^t and step = lr / (1 − β1^t), each given already rounded to float32.
__attribute__((export_name("adam_step")))
void adam_step(int n, const float* p, const float* g, const float* m, const float* v, float* p2,
               float* m2, float* v2, float beta1, float one_minus_beta1, float beta2,
               float one_minus_beta2, float c2, float eps, float step) {
  const v128_t b1 = wasm_f32x4_splat(beta1), nb1 = wasm_f32x4_splat(one_minus_beta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), nb2 = wasm_f32x4_splat(one_minus_beta2);
  const v128_t vc2 = wasm_f32x4_splat(c2), veps = wasm_f32x4_splat(eps);
  const v128_t vstep = wasm_f32x4_splat(step);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gi = wasm_v128_load(g + i);
    const v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1),
                                     wasm_f32x4_mul(gi, nb1));
    const v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2),
                                     wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), nb2));
    const v128_t denom = wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, vc2)), veps);
    const v128_t delta = wasm_f32x4_mul(wasm_f32x4_div(mi, denom), vstep);
    wasm_v128_store(m2 + i, mi);
    wasm_v128_store(v2 + i, vi);
    wasm_v128_store(p2 + i, wasm_f32x4_sub(wasm_v128_load(p + i), delta));
  }
  for (; i < n; i++) {
    const float mi = m[i] * beta1 + g[i] * one_minus_beta1;
    const float vi = v[i] * beta2 + (g[i] * g[i]) * one_minus_beta2;
    const float denom = __builtin_sqrtf(vi / c2) + eps;
    m2[i] = mi;
    v2[i] = vi;
    p2[i] = p[i] - (mi / denom) * step;
  }
}
