// CUDA version of ranking.h's ranking_columns (built with CVK_CUDA=ON), unweighted, for score
// matrices that already live on the GPU: the same outputs, bit for bit (the per-column
// summary is ranking.h's RankSummary, fed the same cumulative counts at the same distinct
// scores). Scores must be finite (the launcher checks) and N * C below 2^31 (cub's sizes).
#pragma once

#include <cstdint>

namespace cvk {
namespace classification {

// Bytes of device scratch ranking_columns_cuda needs for an (N, C) matrix of float32
// (dtype 0) or float64 (dtype 1) scores.
int64_t ranking_columns_scratch_cuda(int dtype, int64_t N, int64_t C);

void ranking_columns_cuda(int dtype, const void* score, int64_t N, int64_t C, const int64_t* labels,
                          const uint8_t* indicator, double max_fpr, double* npos, double* nneg, double* auc,
                          double* pauc, double* ap, void* scratch, int64_t scratch_bytes, void* stream);

}  // namespace classification
}  // namespace cvk
