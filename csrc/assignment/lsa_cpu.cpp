// Linear sum assignment by shortest augmenting paths (Crouse, "On implementing 2D rectangular
// assignment algorithms", 2016), the algorithm behind scipy.optimize.linear_sum_assignment.
//
// With n = rows <= m = cols (else the transpose is solved), rows are added one at a time. Dual
// variables u (rows) and v (columns) keep every reduced cost c[i][j] - u[i] - v[j] >= 0 on the
// current matching. Adding row r is a Dijkstra search from r over the columns with the reduced
// costs as edge weights: it grows a tree of rows and columns until it reaches a free column
// (the sink); the matching is then flipped along the path, and the duals are moved by the
// search's distances so the reduced costs stay non-negative. Each search is O(n * m) (n rows
// may join the tree, each scanning the columns not yet in it), so O(n^2 m) in all. Columns are
// scanned in descending order and, among equally short ones, a free column is preferred: the
// same choices scipy makes, so ties between optimal assignments usually resolve the same way.
#include "assignment/lsa.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace cvk {
namespace assignment {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The solver's state, reused by a thread across the matrices it solves (no allocation per
// matrix). cost(i, j) reads the n x m problem: the matrix itself, or its transpose in place.
struct Solver {
  std::vector<double> u, v, dist;
  std::vector<int64_t> path, col4row, row4col, remaining;
  std::vector<uint8_t> in_rows, in_cols;  // the search tree's rows (SR) and columns (SC)

  void reset(int64_t n, int64_t m) {
    u.assign(n, 0);
    v.assign(m, 0);
    dist.resize(m);
    path.assign(m, -1);
    col4row.assign(n, -1);
    row4col.assign(m, -1);
    remaining.resize(m);
    in_rows.resize(n);
    in_cols.resize(m);
  }

  // Dijkstra from row i to the nearest free column; returns it (or -1: none reachable) and
  // its distance in min_val.
  // c: the n x m costs (n <= m), row-major, contiguous.
  int64_t search(const double* c, int64_t n, int64_t m, int64_t i, double& min_val) {
    min_val = 0;
    int64_t left = m;
    for (int64_t k = 0; k < m; ++k) remaining[k] = m - k - 1;
    std::fill_n(in_rows.begin(), n, 0);
    std::fill_n(in_cols.begin(), m, 0);
    std::fill_n(dist.begin(), m, kInf);
    int64_t sink = -1;
    while (sink == -1) {
      int64_t best = -1;
      double lowest = kInf;
      in_rows[i] = 1;
      const double base = min_val - u[i];
      const double* ci = c + i * m;
      for (int64_t k = 0; k < left; ++k) {
        const int64_t j = remaining[k];
        const double r = base + ci[j] - v[j];
        if (r < dist[j]) {
          path[j] = i;
          dist[j] = r;
        }
        if (dist[j] < lowest || (dist[j] == lowest && row4col[j] == -1)) {
          lowest = dist[j];
          best = k;
        }
      }
      min_val = lowest;
      if (min_val == kInf) return -1;  // every way out of the tree is forbidden
      const int64_t j = remaining[best];
      if (row4col[j] == -1)
        sink = j;
      else
        i = row4col[j];
      in_cols[j] = 1;
      remaining[best] = remaining[--left];
    }
    return sink;
  }

  bool solve(const double* c, int64_t n, int64_t m) {
    reset(n, m);
    for (int64_t row = 0; row < n; ++row) {
      double min_val;
      const int64_t sink = search(c, n, m, row, min_val);
      if (sink < 0) return false;
      // Duals: the new row and the tree's rows and columns move by their distances.
      u[row] += min_val;
      for (int64_t i = 0; i < n; ++i)
        if (in_rows[i] && i != row) u[i] += min_val - dist[col4row[i]];
      for (int64_t j = 0; j < m; ++j)
        if (in_cols[j]) v[j] -= min_val - dist[j];
      // Flip the matching along the path from the sink back to the new row.
      int64_t j = sink;
      while (true) {
        const int64_t i = path[j];
        row4col[j] = i;
        std::swap(col4row[i], j);
        if (i == row) break;
      }
    }
    return true;
  }
};

}  // namespace

template <class T>
int linear_sum_assignment(const T* cost, int64_t rows, int64_t cols, bool maximize, int64_t* row_out,
                          int64_t* col_out) {
  if (rows == 0 || cols == 0) return kLsaOk;
  const double bad = maximize ? kInf : -kInf;
  const bool transpose = cols < rows;
  const int64_t n = transpose ? cols : rows, m = transpose ? rows : cols;
  const double sign = maximize ? -1.0 : 1.0;
  // The costs as the solver reads them: float64 (scipy's precision), n <= m rows, contiguous,
  // negated when maximizing (one pass, also the check for NaN and the forbidden infinity).
  thread_local std::vector<double> c;
  c.resize(static_cast<size_t>(n * m));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t q = 0; q < cols; ++q) {
      const double x = static_cast<double>(cost[r * cols + q]);
      if (std::isnan(x) || x == bad) return kLsaInvalid;
      c[transpose ? q * m + r : r * m + q] = sign * x;
    }
  thread_local Solver s;
  if (!s.solve(c.data(), n, m)) return kLsaInfeasible;
  if (!transpose) {
    for (int64_t i = 0; i < n; ++i) {
      row_out[i] = i;
      col_out[i] = s.col4row[i];
    }
    return kLsaOk;
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return s.col4row[a] < s.col4row[b]; });
  for (int64_t k = 0; k < n; ++k) {
    row_out[k] = s.col4row[order[k]];
    col_out[k] = order[k];
  }
  return kLsaOk;
}

template int linear_sum_assignment<float>(const float*, int64_t, int64_t, bool, int64_t*, int64_t*);
template int linear_sum_assignment<double>(const double*, int64_t, int64_t, bool, int64_t*, int64_t*);

}  // namespace assignment
}  // namespace cvk
