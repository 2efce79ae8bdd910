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
//
// Where the time goes when n << m (DETR: 20 targets x 100 queries): nearly every search ends
// in its first step (the new row's nearest column is free), so that step is a branch-free
// vector pass over the row plus a pass for ties, and a search resets only what it touched
// (no O(m) clearing per row). The matrix is read in place (its transpose by strides, float32
// widened on the fly, no copy), and the check for NaN / -inf is folded into the first steps,
// which read every cell once.
#include "assignment/lsa.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace cvk {
namespace assignment {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Two doubles as one GCC vector (an SSE2 register on baseline x86-64).
typedef double Vec __attribute__((vector_size(16)));
inline Vec splat(double x) { return Vec{x, x}; }
inline Vec load(const double* p) {
  Vec x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
inline void store(double* p, Vec x) { std::memcpy(p, &x, sizeof x); }

// The n x m problem (n <= m) read in place, nothing copied: the caller's rows x cols matrix, or
// its transpose when rows > cols, in float64 (scipy's precision), negated when maximizing.
template <class T, bool kTransposed, bool kNegated>
struct Costs {
  const T* p;
  int64_t cols;  // the caller's row length
  double at(int64_t i, int64_t j) const {
    const double x = static_cast<double>(kTransposed ? p[j * cols + i] : p[i * cols + j]);
    return kNegated ? -x : x;
  }
  Vec pair(int64_t i, int64_t j) const {  // at(i, j), at(i, j + 1)
    const Vec x = kTransposed ? Vec{static_cast<double>(p[j * cols + i]), static_cast<double>(p[(j + 1) * cols + i])}
                              : Vec{static_cast<double>(p[i * cols + j]), static_cast<double>(p[i * cols + j + 1])};
    return kNegated ? -x : x;
  }
  // A row holds NaN, or the infinity that cannot mean "forbidden" (-inf; +inf when maximizing).
  bool invalid_row(int64_t i, int64_t m) const {
    for (int64_t j = 0; j < m; ++j) {
      const double x = at(i, j);
      if (std::isnan(x) || x == -kInf) return true;
    }
    return false;
  }
};

// The solver's state, reused by a thread across the matrices it solves (no allocation per
// matrix). Only what a search touches is reset: the rows and columns that joined its tree are
// listed (tree_rows, tree_cols), dist is written whole by its first step, and path (the tree's
// back pointers) only when the search goes past that step.
struct Solver {
  std::vector<double> u, v, dist;
  std::vector<int64_t> path, col4row, row4col, remaining, tree_rows, tree_cols;

  void reset(int64_t n, int64_t m) {
    u.assign(n, 0);
    v.assign(m, 0);
    dist.resize(m);
    path.resize(m);
    col4row.assign(n, -1);
    row4col.assign(m, -1);
    remaining.resize(m);
    tree_rows.clear();
    tree_cols.clear();
  }

  // The search's first step, from the new row i over every column: dist[j] = c[i][j] - u[i] -
  // v[j] (path[j] = i is left to the caller) and the column to take, or -2 when the row holds
  // an invalid cell (each row is a new row once, so every cell is checked here: u and v are
  // finite, so dist[j] is NaN or -inf exactly where c[i][j] is). scipy scans the columns in
  // descending order and takes the first shortest one unless a later equally short column is
  // free, then the last such; so: the highest shortest column j0, or else the lowest free one
  // below it that is as short. Two passes in vectors of 2 (GCC vector types: SSE2 on baseline
  // x86-64): the distances and their minimum, then the columns at the minimum (usually one)
  // and any NaN.
  template <class C>
  int64_t first_step(const C& c, int64_t m, int64_t i, double& lowest) {
    const double base = -u[i];
    double* d = dist.data();
    const double* vj = v.data();
    Vec lo = splat(kInf);
    int64_t j = 0;
    for (; j + 2 <= m; j += 2) {
      const Vec x = splat(base) + c.pair(i, j) - load(vj + j);
      store(d + j, x);
      lo = x < lo ? x : lo;
    }
    lowest = std::min(lo[0], lo[1]);
    if (j < m) {
      d[j] = base + c.at(i, j) - vj[j];
      lowest = std::min(lowest, d[j]);
    }
    if (lowest == -kInf) return -2;
    int64_t j0 = -1, free_below = -1;  // the highest shortest; the lowest free shortest
    const Vec low = splat(lowest);
    for (j = 0; j < m; j += 8) {
      if (j + 8 <= m) {  // skip 8 columns at a time when none is at the minimum or NaN
        const Vec d0 = load(d + j), d1 = load(d + j + 2), d2 = load(d + j + 4), d3 = load(d + j + 6);
        const auto hit = (d0 == low) | (d1 == low) | (d2 == low) | (d3 == low) | (d0 != d0) | (d1 != d1) |
                         (d2 != d2) | (d3 != d3);
        if (!(hit[0] | hit[1])) continue;
      }
      for (int64_t k = j; k < std::min(j + 8, m); ++k) {
        if (d[k] != d[k]) return -2;
        if (d[k] == lowest) {
          if (free_below < 0 && row4col[k] == -1) free_below = k;
          j0 = k;
        }
      }
    }
    return free_below >= 0 && free_below < j0 ? free_below : j0;
  }

  // Dijkstra from row i to the nearest free column; returns it (-1: none reachable, -2: the
  // row is invalid) and its distance in min_val. The tree's rows and columns are left in
  // tree_rows / tree_cols.
  template <class C>
  int64_t search(const C& c, int64_t m, int64_t i, double& min_val) {
    tree_rows.assign(1, i);
    int64_t j = first_step(c, m, i, min_val);
    if (j == -2) return -2;
    if (min_val == kInf) return -1;  // the row has no allowed cell
    tree_cols.assign(1, j);
    if (row4col[j] == -1) {  // usually: the new row's nearest column is free
      path[j] = i;
      return j;
    }
    std::fill_n(path.begin(), m, i);
    // Not free: go on from the row holding j over the other columns, kept in scipy's scan
    // order (descending, each taken column replaced by the last one left).
    int64_t left = m - 1;
    for (int64_t k = 0; k < left; ++k) remaining[k] = m - k - 1;
    if (j != 0) remaining[m - 1 - j] = 0;
    i = row4col[j];
    while (true) {
      int64_t best = -1;
      double lowest = kInf;
      tree_rows.push_back(i);
      const double base = min_val - u[i];
      for (int64_t k = 0; k < left; ++k) {
        j = remaining[k];
        const double r = base + c.at(i, j) - v[j];
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
      j = remaining[best];
      tree_cols.push_back(j);
      if (row4col[j] == -1) return j;
      i = row4col[j];
      remaining[best] = remaining[--left];
    }
  }

  template <class C>
  int solve(const C& c, int64_t n, int64_t m) {
    reset(n, m);
    for (int64_t row = 0; row < n; ++row) {
      double min_val;
      const int64_t sink = search(c, m, row, min_val);
      if (sink == -2) return kLsaInvalid;
      if (sink == -1) {  // infeasible, unless a row not yet read is invalid (that error first)
        for (int64_t i = row + 1; i < n; ++i)
          if (c.invalid_row(i, m)) return kLsaInvalid;
        return kLsaInfeasible;
      }
      // Duals: the new row and the tree's rows and columns move by their distances.
      u[row] += min_val;
      for (size_t k = 1; k < tree_rows.size(); ++k) u[tree_rows[k]] += min_val - dist[col4row[tree_rows[k]]];
      for (const int64_t j : tree_cols) v[j] -= min_val - dist[j];
      // Flip the matching along the path from the sink back to the new row.
      int64_t j = sink;
      while (true) {
        const int64_t i = path[j];
        row4col[j] = i;
        std::swap(col4row[i], j);
        if (i == row) break;
      }
    }
    return kLsaOk;
  }
};

}  // namespace

template <class T>
int linear_sum_assignment(const T* cost, int64_t rows, int64_t cols, bool maximize, int64_t* row_out,
                          int64_t* col_out) {
  if (rows == 0 || cols == 0) return kLsaOk;
  thread_local Solver s;
  if (cols >= rows) {
    const int status = maximize ? s.solve(Costs<T, false, true>{cost, cols}, rows, cols)
                                : s.solve(Costs<T, false, false>{cost, cols}, rows, cols);
    if (status != kLsaOk) return status;
    for (int64_t i = 0; i < rows; ++i) {
      row_out[i] = i;
      col_out[i] = s.col4row[i];
    }
    return kLsaOk;
  }
  // Solved as the cols x rows transpose: s.col4row[q] is the row given to column q; the
  // pairs go out by row, ascending.
  const int status = maximize ? s.solve(Costs<T, true, true>{cost, cols}, cols, rows)
                              : s.solve(Costs<T, true, false>{cost, cols}, cols, rows);
  if (status != kLsaOk) return status;
  std::vector<int64_t>& row_of = s.row4col;  // reused: per caller's row, its column or -1
  std::fill(row_of.begin(), row_of.end(), -1);
  for (int64_t q = 0; q < cols; ++q) row_of[s.col4row[q]] = q;
  int64_t k = 0;
  for (int64_t r = 0; r < rows; ++r)
    if (row_of[r] >= 0) {
      row_out[k] = r;
      col_out[k++] = row_of[r];
    }
  return kLsaOk;
}

template int linear_sum_assignment<float>(const float*, int64_t, int64_t, bool, int64_t*, int64_t*);
template int linear_sum_assignment<double>(const double*, int64_t, int64_t, bool, int64_t*, int64_t*);

}  // namespace assignment
}  // namespace cvk
