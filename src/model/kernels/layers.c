// General per-layer kernels for convolutional networks, in NHWC layout, for WebAssembly SIMD: what
// tfjs-backend-wasm lacks or does slowly. A conv block (3×3 "same" convolution, bias, ReLU, 2×2
// max-pooling) is one pass that keeps where each maximum came from, so that the pooling's backward
// pass is a routing of each gradient to its place; the convolution's input gradient is the same
// convolution kernel on the turned filter, and its weight gradient is one more kernel. tfjs'
// Conv3DBackpropFilterV2 (the only filter gradient it has) took 138 ms for a batch that ours does in
// a few, and its MaxPoolGrad 22 ms for what ours does in 1 ms. Adam's update of a parameter is one
// pass here instead of eleven tfjs operations.
//
// Memory is tfjs-backend-wasm's own (this module imports it), as for conv_pool.c, and no kernel
// uses a stack in it: scratch is the caller's. Every size is an argument: N images, H×W pixels, C
// input channels, F filters.

#include <wasm_simd128.h>

// Sixteen floats in four SIMD registers: what the convolution kernels accumulate, sixteen filters at
// a time. Always inlined, so that they stay in registers (no kernel here may use a stack: its memory
// is tfjs').
typedef struct {
  v128_t v[4];
} f32x16;

#define INLINE static inline __attribute__((always_inline))

INLINE f32x16 zero16(void) {
  const v128_t z = wasm_f32x4_splat(0);
  return (f32x16){{z, z, z, z}};
}

INLINE f32x16 load16(const float* p) {
  return (f32x16){{wasm_v128_load(p), wasm_v128_load(p + 4), wasm_v128_load(p + 8),
                   wasm_v128_load(p + 12)}};
}

INLINE void store16(float* p, f32x16 a) {
  for (int i = 0; i < 4; i++) wasm_v128_store(p + 4 * i, a.v[i]);
}

// a + s·d, lane by lane: a multiply, then an add (no fused multiply-add), as layers_cpu.ts rounds.
INLINE f32x16 madd16(f32x16 a, v128_t s, f32x16 d) {
  for (int i = 0; i < 4; i++) a.v[i] = wasm_f32x4_add(a.v[i], wasm_f32x4_mul(s, d.v[i]));
  return a;
}

// bias[at..at + 16] added (if there is a bias), then the ReLU applied (if asked).
INLINE f32x16 finish(f32x16 a, const float* bias, int at, int relu) {
  for (int i = 0; i < 4; i++) {
    if (bias) a.v[i] = wasm_f32x4_add(a.v[i], wasm_v128_load(bias + at + 4 * i));
    if (relu) a.v[i] = wasm_f32x4_max(a.v[i], wasm_f32x4_splat(0));
  }
  return a;
}

// One output position's sixteen filters from fb into o[fb..], its taps outside the image left out.
static void conv_position(int h, int w, int c, int f, const float* image, const float* filter,
                          const float* bias, int relu, int y, int xx, int fb, float* o) {
  f32x16 a = zero16();
  for (int ky = 0; ky < 3; ky++) {
    const int sy = y + ky - 1;
    if (sy < 0 || sy >= h) continue;
    for (int kx = 0; kx < 3; kx++) {
      const int sx = xx + kx - 1;
      if (sx < 0 || sx >= w) continue;
      const float* src = image + (sy * w + sx) * c;
      const float* k = filter + (ky * 3 + kx) * c * f + fb;
      for (int ch = 0; ch < c; ch++, k += f) {
        a = madd16(a, wasm_v128_load32_splat(src + ch), load16(k));
      }
    }
  }
  store16(o + fb, finish(a, bias, fb, relu));
}

// Row y of one image's convolution: out_row [W, F].
static void conv_row(int h, int w, int c, int f, const float* image, const float* filter,
                     const float* bias, int relu, int y, float* row) {
  for (int fb = 0; fb < f; fb += 16) {
    conv_position(h, w, c, f, image, filter, bias, relu, y, 0, fb, row);
    // two positions at a time inside the row, where every column tap is in the image: they share
    // each load of the filter, and their sums are in the same order as one at a time
    int xx = 1;
    for (; xx + 2 <= w - 1; xx += 2) {
      f32x16 a = zero16(), b = zero16();
      for (int ky = 0; ky < 3; ky++) {
        const int sy = y + ky - 1;
        if (sy < 0 || sy >= h) continue;
        const float* src = image + (sy * w + xx - 1) * c;
        const float* k = filter + ky * 3 * c * f + fb;
        for (int t = 0; t < 3 * c; t++, k += f) {  // (kx, ch) in order: 3·C taps in a row
          const f32x16 taps = load16(k);
          a = madd16(a, wasm_v128_load32_splat(src + t), taps);
          b = madd16(b, wasm_v128_load32_splat(src + c + t), taps);
        }
      }
      store16(row + xx * f + fb, finish(a, bias, fb, relu));
      store16(row + (xx + 1) * f + fb, finish(b, bias, fb, relu));
    }
    for (; xx < w; xx++) {
      conv_position(h, w, c, f, image, filter, bias, relu, y, xx, fb, row + xx * f);
    }
  }
}

// conv3x3(x) + b, "same" padding, then a ReLU if `relu`: x [N, H, W, C], the filter [3, 3, C, F]
// (HWIO), the bias [F] or none (0) → out [N, H, W, F], F a multiple of 16. For each output the taps
// are summed in (ky, kx, c) order, those outside the image left out, then the bias added and the ReLU
// applied, as layers_cpu.ts does. Sixteen filters of a position sit in four SIMD accumulators, and
// inside a row two positions share each load of the filter. The forward pass and the input gradient
// of cnn2's layers, one image or 32: 0.5–0.75 of the time XNNPACK takes (docs/performance.md).
__attribute__((export_name("conv3x3_forward")))
void conv3x3_forward(int n, int h, int w, int c, int f, const float* x, const float* filter,
                     const float* bias, int relu, float* out) {
  for (int img = 0; img < n; img++) {
    for (int y = 0; y < h; y++) {
      conv_row(h, w, c, f, x + img * h * w * c, filter, bias, relu, y, out + (img * h + y) * w * f);
    }
  }
}

// One row of 2×2 windows: `top` and `bottom` [W, C] → out and argmax [W/2, C], the maximum of each
// window and where it came from, as the index into the input whose rows top and bottom are, which
// starts at `at` (index of top[0]; bottom[0] is at + W·C). argmax holds the first maximum in
// row-major window order, where PyTorch's max_pool2d routes the gradient; C is a multiple of 4.
static void pool_row(int w, int c, const float* top, const float* bottom, int at, float* out,
                     int* argmax) {
  for (int x = 0; x < w / 2; x++) {
    for (int ch = 0; ch < c; ch += 4) {
      const int i = 2 * x * c + ch;  // in top and bottom
      const float* cells[4] = {top + i, top + i + c, bottom + i, bottom + i + c};
      const int offsets[4] = {at + i, at + i + c, at + w * c + i, at + w * c + i + c};
      v128_t m = wasm_v128_load(cells[0]);
      v128_t where = wasm_i32x4_make(offsets[0], offsets[0] + 1, offsets[0] + 2, offsets[0] + 3);
      for (int q = 1; q < 4; q++) {
        const v128_t v = wasm_v128_load(cells[q]);
        const v128_t greater = wasm_f32x4_gt(v, m);  // strictly: the first maximum wins
        m = wasm_v128_bitselect(v, m, greater);
        const v128_t index =
            wasm_i32x4_make(offsets[q], offsets[q] + 1, offsets[q] + 2, offsets[q] + 3);
        where = wasm_v128_bitselect(index, where, greater);
      }
      wasm_v128_store(out + x * c + ch, m);
      if (argmax) wasm_v128_store(argmax + x * c + ch, where);
    }
  }
}

// A conv block, 2×2 max-pooling of relu(conv3x3(x) + b), without writing the convolution's output:
// two rows of it at a time in `rows` [2, W, F] (the caller's scratch), pooled into
// out [N, H/2, W/2, F] and argmax (may be 0), whose indices are into the [N, H, W, F] output never
// written: the values and indices conv3x3_forward's output would give, pooled.
__attribute__((export_name("conv3x3_relu_pool_forward")))
void conv3x3_relu_pool_forward(int n, int h, int w, int c, int f, const float* x,
                               const float* filter, const float* bias, float* rows, float* out,
                               int* argmax) {
  const int ph = h / 2, pw = w / 2;
  for (int img = 0; img < n; img++) {
    const float* image = x + img * h * w * c;
    for (int y = 0; y < ph; y++) {
      conv_row(h, w, c, f, image, filter, bias, 1, 2 * y, rows);
      conv_row(h, w, c, f, image, filter, bias, 1, 2 * y + 1, rows + w * f);
      const int o = (img * ph + y) * pw * f;
      const int at = (img * h + 2 * y) * w * f;  // the index of the top row in the full output
      pool_row(w, f, rows, rows + w * f, at, out + o, argmax ? argmax + o : 0);
    }
  }
}

// The weight and bias gradients of a 3×3 "same" convolution, from its input x [N, H, W, C] and the
// gradient of its output dy [N, H, W, F] (F a multiple of 16), without writing out the patches:
//   dw[ky][kx][c][f] = Σ over images and positions p of x[p + (ky − 1, kx − 1)][c] · dy[p][f]
//   db[f] = Σ over p of dy[p][f]
// (0 outside the image), dw in tfjs' HWIO filter layout. Each sum runs over the positions in order,
// image by image and row by row, so layers_cpu.ts gives the same bits. Sixteen filters at a time sit in
// four SIMD accumulators while a row of positions goes by; im2col followed by XNNPACK's matmul took
// 5.7 ms for cnn2's second layer and a share of 32 images, and 3.2 ms for its first (one channel).
__attribute__((export_name("conv3x3_filter_grad")))
void conv3x3_filter_grad(int n, int h, int w, int c, int f, const float* x, const float* dy,
                         float* dw, float* db) {
  for (int i = 0; i < 9 * c * f; i++) dw[i] = 0;
  for (int i = 0; i < f; i++) db[i] = 0;
  for (int img = 0; img < n; img++) {
    for (int y = 0; y < h; y++) {
      const float* dy_row = dy + (img * h + y) * w * f;
      for (int ky = 0; ky < 3; ky++) {
        const int sy = y + ky - 1;
        if (sy < 0 || sy >= h) continue;
        const float* x_row = x + (img * h + sy) * w * c;
        for (int kx = 0; kx < 3; kx++) {
          const int from = kx == 0 ? 1 : 0, to = kx == 2 ? w - 1 : w;  // sx = xx + kx − 1 inside
          int ch = 0;
          for (; ch + 2 <= c; ch += 2) {  // two channels share each load of dy
            const float* src = x_row + (kx - 1) * c + ch;
            for (int fb = 0; fb < f; fb += 16) {
              float* sums = dw + ((ky * 3 + kx) * c + ch) * f + fb;
              f32x16 a = load16(sums), b = load16(sums + f);
              for (int xx = from; xx < to; xx++) {
                const f32x16 d = load16(dy_row + xx * f + fb);
                a = madd16(a, wasm_v128_load32_splat(src + xx * c), d);
                b = madd16(b, wasm_v128_load32_splat(src + xx * c + 1), d);
              }
              store16(sums, a);
              store16(sums + f, b);
            }
          }
          for (; ch < c; ch++) {
            const float* src = x_row + (kx - 1) * c + ch;
            for (int fb = 0; fb < f; fb += 16) {
              float* sums = dw + ((ky * 3 + kx) * c + ch) * f + fb;
              f32x16 a = load16(sums);
              for (int xx = from; xx < to; xx++) {
                a = madd16(a, wasm_v128_load32_splat(src + xx * c), load16(dy_row + xx * f + fb));
              }
              store16(sums, a);
            }
          }
        }
      }
      for (int xx = 0; xx < w; xx++) {
        for (int fb = 0; fb < f; fb += 4) {
          wasm_v128_store(db + fb, wasm_f32x4_add(wasm_v128_load(db + fb),
                                                  wasm_v128_load(dy_row + xx * f + fb)));
        }
      }
    }
  }
}

// din [N, H, W, C] = the gradient of the convolution's output before conv3x3_relu_pool_forward's ReLU
// and pooling: each pooled value's gradient dout goes to where its maximum came from, if it was positive
// (ReLU's gradient is 0 at 0), and every other input gets 0. The windows tile the input, so each
// input is written once, four channels at a time, and no address is taken from argmax.
// H and W are even; C is a multiple of 4.
__attribute__((export_name("max_pool_2x2_backward")))
void max_pool_2x2_backward(int n, int h, int w, int c, const float* dout, const float* out,
                           const int* argmax, float* din) {
  const int ph = h / 2, pw = w / 2, row = w * c;
  const v128_t zero = wasm_f32x4_splat(0);
  for (int img = 0; img < n; img++) {
    for (int y = 0; y < ph; y++) {
      for (int x = 0; x < pw; x++) {
        const int at = ((img * h + 2 * y) * w + 2 * x) * c;
        const int o = ((img * ph + y) * pw + x) * c;
        for (int ch = 0; ch < c; ch += 4) {
          const v128_t alive = wasm_f32x4_gt(wasm_v128_load(out + o + ch), zero);
          const v128_t g = wasm_v128_and(wasm_v128_load(dout + o + ch), alive);
          const v128_t where = wasm_v128_load(argmax + o + ch);
          const int offsets[4] = {at + ch, at + c + ch, at + row + ch, at + row + c + ch};
          for (int q = 0; q < 4; q++) {
            const int i = offsets[q];
            const v128_t here = wasm_i32x4_eq(where, wasm_i32x4_make(i, i + 1, i + 2, i + 3));
            wasm_v128_store(din + i, wasm_v128_and(g, here));
          }
        }
      }
    }
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
