// Winograd F(2x2, 3x3) forward (winograd.h has the algorithm). The transforms run over
// channel vectors (HWC layouts), so their inner loops are contiguous and vectorize.
#include "conv/winograd.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "common/thread_pool.h"
#include "common/transpose.h"
#include "common/workspace.h"
#include "conv/gemm.h"

namespace cvk {
namespace conv {
namespace {

std::atomic<bool> g_enabled{true};

// The first output row (or column) of each tile along one axis: for every residue r < d, the
// outputs r, r + d, r + 2d, ... paired as (r + 2td, r + (2t + 1)d).
std::vector<int64_t> tile_starts(int64_t n_out, int64_t d) {
  std::vector<int64_t> v;
  for (int64_t r = 0; r < d && r < n_out; ++r)
    for (int64_t o = r; o < n_out; o += 2 * d) v.push_back(o);
  return v;
}

// One tile's V = B^T d B, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], from the patch
// d[k][l] (k, l < 4) of channel vectors of length C (null: outside the image, zeros).
// Element (e = 4 r + j, c) goes to V[e * estride + c * cstride].
void input_tile(const float* const d[4][4], int64_t C, float* V, int64_t estride, int64_t cstride) {
  static const std::vector<float> zeros(256, 0.0f);
  for (int64_t c0 = 0; c0 < C; c0 += 256) {
    const int64_t n = std::min<int64_t>(256, C - c0);
    float t[4][4][256];
    for (int l = 0; l < 4; ++l) {
      const float* p0 = d[0][l] ? d[0][l] + c0 : zeros.data();
      const float* p1 = d[1][l] ? d[1][l] + c0 : zeros.data();
      const float* p2 = d[2][l] ? d[2][l] + c0 : zeros.data();
      const float* p3 = d[3][l] ? d[3][l] + c0 : zeros.data();
      for (int64_t c = 0; c < n; ++c) {
        t[0][l][c] = p0[c] - p2[c];
        t[1][l][c] = p1[c] + p2[c];
        t[2][l][c] = p2[c] - p1[c];
        t[3][l][c] = p1[c] - p3[c];
      }
    }
    for (int r = 0; r < 4; ++r) {
      float* v0 = V + (4 * r + 0) * estride + c0 * cstride;
      float* v1 = V + (4 * r + 1) * estride + c0 * cstride;
      float* v2 = V + (4 * r + 2) * estride + c0 * cstride;
      float* v3 = V + (4 * r + 3) * estride + c0 * cstride;
      for (int64_t c = 0; c < n; ++c) {
        v0[c * cstride] = t[r][0][c] - t[r][2][c];
        v1[c * cstride] = t[r][1][c] + t[r][2][c];
        v2[c * cstride] = t[r][2][c] - t[r][1][c];
        v3[c * cstride] = t[r][1][c] - t[r][3][c];
      }
    }
  }
}

// The 16 input pixels (channel vectors of the HWC copy xt; null outside the image) of the tile
// whose first output is (oh0, ow0).
void tile_patch(const float* xt, const ConvShape& s, int64_t oh0, int64_t ow0, const float* d[4][4]) {
  for (int k = 0; k < 4; ++k) {
    const int64_t ih = oh0 - s.pt + k * s.dh;
    for (int l = 0; l < 4; ++l) {
      const int64_t iw = ow0 - s.pl + l * s.dw;
      d[k][l] = (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W) ? xt + (ih * s.W + iw) * s.Cin : nullptr;
    }
  }
}

// Packing A from a matrix already in the packed layout (groups of MR rows, [k][row % MR]):
// each MR-row panel of a block is one contiguous copy.
PackA<float> prepacked_a(const float* A, int64_t K) {
  return [=](int64_t m0, int64_t mc, int64_t k0, int64_t kc, float* panel) {
    constexpr int64_t MR = Tiles<float>::MR;
    for (int64_t i0 = 0; i0 < mc; i0 += MR)
      std::memcpy(panel + (i0 / MR) * MR * kc, A + ((m0 + i0) / MR) * MR * K + k0 * MR,
                  static_cast<size_t>(MR * kc) * sizeof(float));
  };
}

}  // namespace

void set_winograd_enabled(bool on) { g_enabled.store(on); }

bool winograd_suits(const ConvShape& s) {
  return g_enabled.load() && s.KH == 3 && s.KW == 3 && s.sh == 1 && s.sw == 1 && s.groups == 1 &&
         s.Cin >= 8 && s.Cout >= 8 && s.Ho * s.Wo >= 64;
}

void winograd_forward(const float* x, const float* w, const float* bias, float* out,
                      const ConvShape& s) {
  constexpr int64_t MR = Tiles<float>::MR, NR = Tiles<float>::NR;
  const int64_t Cin = s.Cin, Cout = s.Cout, HW = s.H * s.W, P = s.Ho * s.Wo;
  const std::vector<int64_t> ty = tile_starts(s.Ho, s.dh), tx = tile_starts(s.Wo, s.dw);
  const int64_t Tx = static_cast<int64_t>(tx.size()), T = static_cast<int64_t>(ty.size()) * Tx;
  const int64_t np = (Cout + NR - 1) / NR;  // NR-wide panels of output channels
  // Scratch: U as the GEMM's B panels (16 x np panels x Cin x NR), the input in HWC, the output
  // in HWC (first the transposed weights).
  const size_t n_u = static_cast<size_t>(16 * np * NR * Cin), n_xt = static_cast<size_t>(HW * Cin);
  const size_t n_o = static_cast<size_t>(P * Cout), n_wt = static_cast<size_t>(9 * Cout * Cin);
  Scratch ws((n_u + n_xt + std::max(n_o, n_wt)) * sizeof(float));
  float* U = ws.as<float>();
  float* xt = U + n_u;
  float* ohwc = xt + n_xt;
  // U[e] = G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1], stored as B panels:
  // U[((e * np + co / NR) * Cin + ci) * NR + co % NR]. The weights are transposed to
  // [co][tap][ci] first (into the output buffer, free until the end) so the loops run along
  // ci; each panel is built in a local block and copied out in whole NR-wide rows.
  float* wt = ohwc;
  transpose_batched(0, w, wt, Cout, Cin, 9);
  parallel_for(0, np, 1, [&](int64_t p0, int64_t p1) {
    constexpr int64_t kC = 16;
    float blk[16][kC][NR];
    for (int64_t pn = p0; pn < p1; ++pn)
      for (int64_t c0 = 0; c0 < Cin; c0 += kC) {
        const int64_t nc = std::min(kC, Cin - c0);
        for (int64_t q = 0; q < NR; ++q) {
          const int64_t o = pn * NR + q;
          if (o >= Cout) {
            for (int e = 0; e < 16; ++e)
              for (int64_t c = 0; c < nc; ++c) blk[e][c][q] = 0.0f;
            continue;
          }
          const float* g = wt + o * 9 * Cin + c0;  // g[tap * Cin + ci]
          for (int64_t c = 0; c < nc; ++c) {
            float gg[4][3];
            for (int l = 0; l < 3; ++l) {
              const float a0 = g[l * Cin + c], a1 = g[(3 + l) * Cin + c], a2 = g[(6 + l) * Cin + c];
              gg[0][l] = a0;
              gg[1][l] = (a0 + a1 + a2) * 0.5f;
              gg[2][l] = (a0 - a1 + a2) * 0.5f;
              gg[3][l] = a2;
            }
            for (int r = 0; r < 4; ++r) {
              blk[4 * r + 0][c][q] = gg[r][0];
              blk[4 * r + 1][c][q] = (gg[r][0] + gg[r][1] + gg[r][2]) * 0.5f;
              blk[4 * r + 2][c][q] = (gg[r][0] - gg[r][1] + gg[r][2]) * 0.5f;
              blk[4 * r + 3][c][q] = gg[r][2];
            }
          }
        }
        for (int e = 0; e < 16; ++e)
          std::memcpy(U + ((e * np + pn) * Cin + c0) * NR, blk[e][0], static_cast<size_t>(nc * NR) * sizeof(float));
      }
  });
  // Tiles in blocks (a multiple of the thread count of them, each a whole number of MR groups),
  // each block done by one thread from input patch to output pixels, so its V (16 x tiles x
  // Cin) and M (16 x tiles x Cout) stay small and hot in that core's caches.
  const int64_t threads = std::max(1, get_num_threads());
  int64_t nb = threads * ((T + threads * 96 - 1) / (threads * 96));
  const int64_t Tb = ((T + nb - 1) / nb + MR - 1) / MR * MR;
  nb = (T + Tb - 1) / Tb;
  for (int64_t n = 0; n < s.N; ++n) {
    transpose_batched(0, x + n * Cin * HW, xt, 1, Cin, HW);
    parallel_for_each(nb, [&](int64_t b) {
      static thread_local std::vector<float> vstore, mstore;
      const int64_t t0 = b * Tb, tn = std::min(Tb, T - t0), tp = (tn + MR - 1) / MR * MR;
      if (vstore.size() < static_cast<size_t>(16 * tp * Cin)) vstore.resize(static_cast<size_t>(16 * tp * Cin));
      if (mstore.size() < static_cast<size_t>(16 * tp * Cout)) mstore.resize(static_cast<size_t>(16 * tp * Cout));
      float* V = vstore.data();  // V[e] in the packed-A layout: [tile / MR][ci][tile % MR]
      float* M = mstore.data();  // M[e][tile][co]
      for (int64_t i = 0; i < tn; ++i) {
        const float* d[4][4];
        tile_patch(xt, s, ty[(t0 + i) / Tx], tx[(t0 + i) % Tx], d);
        input_tile(d, Cin, V + (i / MR) * MR * Cin + i % MR, tp * Cin, MR);
      }
      for (int64_t e = 0; e < 16; ++e)  // padding tiles of the last group read as zeros
        for (int64_t i = tn; i < tp; ++i)
          for (int64_t c = 0; c < Cin; ++c) V[e * tp * Cin + (i / MR) * MR * Cin + c * MR + i % MR] = 0.0f;
      // M[e] (tp x Cout) = V[e] (tp x Cin) * U[e]^T, tile by tile of the micro-kernel.
      float tmp[MR * NR];
      for (int64_t e = 0; e < 16; ++e)
        for (int64_t pn = 0; pn < np; ++pn) {
          const float* bp = U + (e * np + pn) * Cin * NR;
          const int64_t j0 = pn * NR, nr = std::min(NR, Cout - j0);
          for (int64_t i0 = 0; i0 < tp; i0 += MR) {
            const float* ap = V + e * tp * Cin + i0 * Cin;
            float* c = M + (e * tp + i0) * Cout + j0;
            if (nr == NR) {
              micro_tile(Cin, ap, bp, c, Cout, false);
            } else {
              micro_tile(Cin, ap, bp, tmp, NR, false);
              for (int64_t r = 0; r < MR; ++r)
                for (int64_t q = 0; q < nr; ++q) c[r * Cout + q] = tmp[r * NR + q];
            }
          }
        }
      // Y = A^T m A with A^T = [1 1 1 0; 0 1 -1 -1], over output-channel vectors.
      for (int64_t i = 0; i < tn; ++i) {
        const int64_t oh0 = ty[(t0 + i) / Tx], ow0 = tx[(t0 + i) % Tx];
        const bool row2 = oh0 + s.dh < s.Ho, col2 = ow0 + s.dw < s.Wo;
        const float* m[16];
        for (int e = 0; e < 16; ++e) m[e] = M + (e * tp + i) * Cout;
        float* y00 = ohwc + (oh0 * s.Wo + ow0) * Cout;
        float* y01 = y00 + s.dw * Cout;
        float* y10 = y00 + s.dh * s.Wo * Cout;
        float* y11 = y10 + s.dw * Cout;
        // 64 channels at a time into a local block without a branch (it vectorizes), then the
        // outputs that exist are copied out.
        constexpr int64_t kO = 64;
        float yb[4][kO];
        for (int64_t o0 = 0; o0 < Cout; o0 += kO) {
          const int64_t no = std::min(kO, Cout - o0);
          for (int64_t q = 0; q < no; ++q) {
            const int64_t o = o0 + q;
            float s0[4], s1[4];
            for (int j = 0; j < 4; ++j) {
              s0[j] = m[j][o] + m[4 + j][o] + m[8 + j][o];
              s1[j] = m[4 + j][o] - m[8 + j][o] - m[12 + j][o];
            }
            yb[0][q] = s0[0] + s0[1] + s0[2];
            yb[1][q] = s0[1] - s0[2] - s0[3];
            yb[2][q] = s1[0] + s1[1] + s1[2];
            yb[3][q] = s1[1] - s1[2] - s1[3];
          }
          const size_t bytes = static_cast<size_t>(no) * sizeof(float);
          std::memcpy(y00 + o0, yb[0], bytes);
          if (col2) std::memcpy(y01 + o0, yb[1], bytes);
          if (row2) std::memcpy(y10 + o0, yb[2], bytes);
          if (row2 && col2) std::memcpy(y11 + o0, yb[3], bytes);
        }
      }
    });
    float* o = out + n * Cout * P;
    transpose_batched(0, ohwc, o, 1, P, Cout);
    if (bias) {
      parallel_for(0, Cout, 8, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c)
          for (int64_t p = 0; p < P; ++p) o[c * P + p] += bias[c];
      });
    }
  }
}

// The weight gradient by the same transforms: with dY a tile's 2x2 output gradient,
// dL/dg = G^T [ sum_tiles (A dY A^T) .* (B^T d B) ] G for every (co, ci):
//   1. Z[e][co][tile] = A dY A^T from the output gradient in HWC, A = [1 0; 1 1; 1 -1; 0 -1]
//      (outputs past the edge of a tile count as 0),
//   2. V[e][tile][ci] as in the forward,
//   3. 16 GEMMs over the tiles, S[e] (Cout x Cin) (+)= Z[e]^T V[e], summed over the images,
//   4. grad_w[co][ci] = G^T S G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1].
void winograd_weight_grad(const float* gout, const float* x, float* gw, const ConvShape& s) {
  const int64_t Cin = s.Cin, Cout = s.Cout, HW = s.H * s.W, P = s.Ho * s.Wo;
  const std::vector<int64_t> ty = tile_starts(s.Ho, s.dh), tx = tile_starts(s.Wo, s.dw);
  const int64_t Tx = static_cast<int64_t>(tx.size()), T = static_cast<int64_t>(ty.size()) * Tx;
  const size_t n_xt = static_cast<size_t>(HW * Cin), n_gt = static_cast<size_t>(P * Cout);
  // Z is kept in the GEMM's packed-A layout (A = Z^T: output channels in groups of MR, within a
  // group [tile][co % MR]; Cp pads the channels to whole groups) so that packing A is a copy.
  constexpr int64_t MR = Tiles<float>::MR;
  const int64_t Cp = (Cout + MR - 1) / MR * MR;
  const size_t n_v = static_cast<size_t>(16 * T * Cin), n_z = static_cast<size_t>(16 * T * Cp);
  const size_t n_s = static_cast<size_t>(16 * Cout * Cin);
  Scratch ws((n_xt + n_gt + n_v + n_z + n_s) * sizeof(float));
  float* xt = ws.as<float>();
  float* gt = xt + n_xt;
  float* V = gt + n_gt;
  float* Z = V + n_v;
  float* S = Z + n_z;
  for (int64_t n = 0; n < s.N; ++n) {
    transpose_batched(0, x + n * Cin * HW, xt, 1, Cin, HW);
    transpose_batched(0, gout + n * Cout * P, gt, 1, Cout, P);
    parallel_for(0, T, 16, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t oh0 = ty[t / Tx], ow0 = tx[t % Tx];
        const float* d[4][4];
        tile_patch(xt, s, oh0, ow0, d);
        input_tile(d, Cin, V + t * Cin, T * Cin, 1);
        const bool row2 = oh0 + s.dh < s.Ho, col2 = ow0 + s.dw < s.Wo;
        const float* y00 = gt + (oh0 * s.Wo + ow0) * Cout;
        const float* y01 = y00 + s.dw * Cout;
        const float* y10 = y00 + s.dh * s.Wo * Cout;
        const float* y11 = y10 + s.dw * Cout;
        const int64_t es = T * Cp;
        for (int64_t o = 0; o < Cp; ++o) {
          const bool live = o < Cout;
          const float v00 = live ? y00[o] : 0.0f, v01 = live && col2 ? y01[o] : 0.0f;
          const float v10 = live && row2 ? y10[o] : 0.0f, v11 = live && row2 && col2 ? y11[o] : 0.0f;
          const float a[4] = {v00, v00 + v10, v00 - v10, -v10};  // A dY: rows [a b]
          const float b[4] = {v01, v01 + v11, v01 - v11, -v11};
          float* z = Z + ((o / MR) * T + t) * MR + o % MR;
          for (int r = 0; r < 4; ++r) {  // (A dY) A^T: [a, a + b, a - b, -b]
            z[(4 * r + 0) * es] = a[r];
            z[(4 * r + 1) * es] = a[r] + b[r];
            z[(4 * r + 2) * es] = a[r] - b[r];
            z[(4 * r + 3) * es] = -b[r];
          }
        }
      }
    });
    for (int64_t e = 0; e < 16; ++e)
      gemm<float>(Cout, Cin, T, prepacked_a(Z + e * T * Cp, T),
                  pack_matrix_b<float>(V + e * T * Cin, Cin, false), S + e * Cout * Cin, Cin, n > 0);
  }
  if (s.N == 0) std::fill(S, S + n_s, 0.0f);
  parallel_for(0, Cout, 4, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int64_t c = 0; c < Cin; ++c) {
        float m[4][4];
        for (int e = 0; e < 16; ++e) m[e / 4][e % 4] = S[(e * Cout + o) * Cin + c];
        float r[3][4];  // G^T m
        for (int j = 0; j < 4; ++j) {
          r[0][j] = m[0][j] + (m[1][j] + m[2][j]) * 0.5f;
          r[1][j] = (m[1][j] - m[2][j]) * 0.5f;
          r[2][j] = (m[1][j] + m[2][j]) * 0.5f + m[3][j];
        }
        float* g = gw + (o * Cin + c) * 9;
        for (int i = 0; i < 3; ++i) {  // (G^T m) G
          g[3 * i + 0] = r[i][0] + (r[i][1] + r[i][2]) * 0.5f;
          g[3 * i + 1] = (r[i][1] - r[i][2]) * 0.5f;
          g[3 * i + 2] = (r[i][1] + r[i][2]) * 0.5f + r[i][3];
        }
      }
  });
}

}  // namespace conv
}  // namespace cvk
