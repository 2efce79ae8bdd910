// Linear sum assignment (the rectangular assignment problem), as scipy.optimize's
// linear_sum_assignment defines it: pick min(rows, cols) cells, no two in a row or a column,
// of least total cost (or greatest, maximize). +inf marks a forbidden cell.
#pragma once

#include <cstdint>

namespace cvk {
namespace assignment {

enum LsaStatus : int { kLsaOk = 0, kLsaInfeasible = 1, kLsaInvalid = 2 };

// cost: rows x cols, row-major, float32 or float64 (solved in float64, scipy's precision). Writes the k = min(rows, cols)
// chosen cells as (row_out[i], col_out[i]), rows ascending. kLsaInvalid for a NaN cell (or
// -inf; +inf when maximizing), kLsaInfeasible when the allowed cells admit no full assignment.
// Shortest augmenting paths with dual variables (Crouse 2016, the algorithm scipy uses):
// O(k^2 * max(rows, cols)) time, O(rows + cols) scratch (kept per thread).
template <class T>
int linear_sum_assignment(const T* cost, int64_t rows, int64_t cols, bool maximize, int64_t* row_out,
                          int64_t* col_out);

}  // namespace assignment
}  // namespace cvk
