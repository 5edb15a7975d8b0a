// The seed's first layer block, fused: Conv2d(1, 32, 3) → ReLU → max_pool2d(2) [→ Dropout2d],
// forward and backward, for WebAssembly SIMD (128-bit: four floats per vector).
//
// tfjs has no kernel that does this in one pass, and its wasm backend has no Conv2DBackpropFilter.
// Done with tfjs ops, a training step made about 36 passes over [N·169, 32] activations; here
// the conv outputs never leave registers: each image's patches sit in a small scratch (25–32 KB,
// in L1 cache), the 2×2 window's four conv outputs are computed side by side, and only the pooled,
// activated values are written, already in PyTorch's channel-first flatten order.
//
// Memory is tfjs-backend-wasm's own (this module imports it), so tensors are read and written where
// tfjs keeps them. The module has no data segment and needs no stack: every array it touches is
// passed in by the caller. src/model/kernels/conv_pool.ts registers it with tfjs, next to a plain
// TypeScript version of the same arithmetic for the cpu backend, which the tests compare it with.
//
// Layouts (floats unless noted): images [N, 28, 28] normalised; weight [32, 9] (PyTorch's
// [32, 1, 3, 3]); bias [32]; dropout [N, 32] (0 or 1/(1-p)); out [N, 32, 169]; argmax int32
// [N, 32, 169]: where in the 26×26 conv output each pooled value came from (y·26 + x).

#include <wasm_simd128.h>

#define SIDE 28                 // input image side
#define CONV_SIDE 26            // conv output side (3×3 kernel, no padding)
#define POOLED_SIDE 13          // after the 2×2 pool
#define P (POOLED_SIDE * POOLED_SIDE)  // 169 pooled positions
#define P4 172                  // P rounded up to whole vectors
#define C 32                    // channels
#define K 9                     // taps of a 3×3 kernel
#define Q 4                     // positions in a 2×2 pool window
#define PATCH 12                // a conv output's 9 taps, padded to 3 vectors (backward)

// Scratch, in bytes: the forward's window patches and window starts, the backward's patches.
#define FORWARD_SCRATCH ((Q * K * P4 + P4) * 4)
#define BACKWARD_SCRATCH (CONV_SIDE * CONV_SIDE * PATCH * 4)

// How much scratch memory the caller must pass to either pass.
__attribute__((export_name("conv_pool_scratch_bytes")))
int conv_pool_scratch_bytes(void) {
  return FORWARD_SCRATCH > BACKWARD_SCRATCH ? FORWARD_SCRATCH : BACKWARD_SCRATCH;
}

// The forward scratch: x[q][k][p] = the input pixel under tap k of the conv output at window
// position q of pooled position p. Rows padded with zeros to P4.
static void gather_window_patches(const float* image, float* x) {
  for (int q = 0; q < Q; q++) {
    for (int k = 0; k < K; k++) {
      float* row = x + (q * K + k) * P4;
      const float* src = image + ((q >> 1) + k / 3) * SIDE + (q & 1) + k % 3;
      for (int py = 0; py < POOLED_SIDE; py++) {
        for (int px = 0; px < POOLED_SIDE; px++) row[py * POOLED_SIDE + px] = src[2 * py * SIDE + 2 * px];
      }
      for (int p = P; p < P4; p++) row[p] = 0;
    }
  }
}

// out = dropout · max over the window of relu(conv + bias); argmax as described above: the first
// maximum of conv + bias in row-major window order, which is the one PyTorch's max_pool2d routes
// the gradient to wherever that gradient is not zero (where ReLU is open). `dropout` and `argmax`
// may be 0 (inference).
__attribute__((export_name("conv_pool_forward")))
void conv_pool_forward(int n, const float* images, const float* weight, const float* bias,
                       const float* dropout, float* out, int* argmax, float* scratch) {
  // where pooled position p's window starts in the conv output, kept after the patches
  int* first = (int*)(scratch + Q * K * P4);
  for (int p = 0; p < P4; p++) first[p] = 2 * (p / POOLED_SIDE) * CONV_SIDE + 2 * (p % POOLED_SIDE);
  for (int img = 0; img < n; img++) {
    gather_window_patches(images + img * SIDE * SIDE, scratch);
    for (int c = 0; c < C; c++) {
      const float* w = weight + c * K;
      v128_t w0 = wasm_f32x4_splat(w[0]), w1 = wasm_f32x4_splat(w[1]), w2 = wasm_f32x4_splat(w[2]);
      v128_t w3 = wasm_f32x4_splat(w[3]), w4 = wasm_f32x4_splat(w[4]), w5 = wasm_f32x4_splat(w[5]);
      v128_t w6 = wasm_f32x4_splat(w[6]), w7 = wasm_f32x4_splat(w[7]), w8 = wasm_f32x4_splat(w[8]);
      v128_t b = wasm_f32x4_splat(bias[c]);
      v128_t scale = wasm_f32x4_splat(dropout ? dropout[img * C + c] : 1.0f);
      float* o = out + (img * C + c) * P;
      int* am = argmax ? argmax + (img * C + c) * P : 0;
      for (int p = 0; p < P4; p += 4) {
        v128_t y[Q];
        for (int q = 0; q < Q; q++) {
          const float* x = scratch + q * K * P4 + p;
          v128_t s = wasm_f32x4_mul(w0, wasm_v128_load(x));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w1, wasm_v128_load(x + 1 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w2, wasm_v128_load(x + 2 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w3, wasm_v128_load(x + 3 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w4, wasm_v128_load(x + 4 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w5, wasm_v128_load(x + 5 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w6, wasm_v128_load(x + 6 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w7, wasm_v128_load(x + 7 * P4)));
          s = wasm_f32x4_add(s, wasm_f32x4_mul(w8, wasm_v128_load(x + 8 * P4)));
          y[q] = wasm_f32x4_add(s, b);
        }
        // first maximum wins: a later position takes over only when strictly greater
        v128_t m = y[0], where = wasm_i32x4_splat(0);
        const int offset[Q] = {0, 1, CONV_SIDE, CONV_SIDE + 1};
        for (int q = 1; q < Q; q++) {
          v128_t greater = wasm_f32x4_gt(y[q], m);
          m = wasm_v128_bitselect(y[q], m, greater);
          where = wasm_v128_bitselect(wasm_i32x4_splat(offset[q]), where, greater);
        }
        v128_t a = wasm_f32x4_mul(wasm_f32x4_max(m, wasm_f32x4_splat(0)), scale);
        if (p + 4 <= P) {
          wasm_v128_store(o + p, a);
          if (am) wasm_v128_store(am + p, wasm_i32x4_add(where, wasm_v128_load(first + p)));
        } else {  // the last vector holds one real position
          wasm_v128_store32_lane(o + p, a, 0);
          if (am) wasm_v128_store32_lane(am + p, wasm_i32x4_add(where, wasm_v128_load(first + p)), 0);
        }
      }
    }
  }
}

// Gradients of weight [32, 9] and bias [32] given dout = ∂loss/∂out [N, 32, 169] and the forward's
// out, argmax and dropout (required here). Each pooled value's gradient goes to the one conv output
// that won its window.
// Scratch: patch[pos] = the 9 taps under conv output pos (of 676), padded to PATCH floats.
__attribute__((export_name("conv_pool_backward")))
void conv_pool_backward(int n, const float* images, const float* dout, const float* out,
                        const int* argmax, const float* dropout, float* dweight, float* dbias,
                        float* scratch) {
  for (int c = 0; c < C; c++) {
    for (int k = 0; k < K; k++) dweight[c * K + k] = 0;
    dbias[c] = 0;
  }
  for (int img = 0; img < n; img++) {
    const float* image = images + img * SIDE * SIDE;
    for (int y = 0; y < CONV_SIDE; y++) {
      for (int x = 0; x < CONV_SIDE; x++) {
        float* patch = scratch + (y * CONV_SIDE + x) * PATCH;
        for (int k = 0; k < K; k++) patch[k] = image[(y + k / 3) * SIDE + x + k % 3];
        patch[9] = patch[10] = patch[11] = 0;
      }
    }
    for (int c = 0; c < C; c++) {
      const float scale = dropout[img * C + c];
      const float* o = out + (img * C + c) * P;
      const float* d = dout + (img * C + c) * P;
      const int* am = argmax + (img * C + c) * P;
      v128_t g0 = wasm_f32x4_splat(0), g1 = g0, g2 = g0;
      float gb = 0;
      for (int p = 0; p < P; p++) {
        // relu's gradient passes where the output is positive (a dropped channel's output is 0)
        const float g = o[p] > 0 ? d[p] * scale : 0;
        const float* patch = scratch + am[p] * PATCH;
        const v128_t gv = wasm_f32x4_splat(g);
        g0 = wasm_f32x4_add(g0, wasm_f32x4_mul(gv, wasm_v128_load(patch)));
        g1 = wasm_f32x4_add(g1, wasm_f32x4_mul(gv, wasm_v128_load(patch + 4)));
        g2 = wasm_f32x4_add(g2, wasm_f32x4_mul(gv, wasm_v128_load(patch + 8)));
        gb += g;
      }
      float* dw = dweight + c * K;
      dw[0] += wasm_f32x4_extract_lane(g0, 0), dw[1] += wasm_f32x4_extract_lane(g0, 1);
      dw[2] += wasm_f32x4_extract_lane(g0, 2), dw[3] += wasm_f32x4_extract_lane(g0, 3);
      dw[4] += wasm_f32x4_extract_lane(g1, 0), dw[5] += wasm_f32x4_extract_lane(g1, 1);
      dw[6] += wasm_f32x4_extract_lane(g1, 2), dw[7] += wasm_f32x4_extract_lane(g1, 3);
      dw[8] += wasm_f32x4_extract_lane(g2, 0);
      dbias[c] += gb;
    }
  }
}
