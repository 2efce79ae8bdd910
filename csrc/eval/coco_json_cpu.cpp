#include "eval/coco_json.h"

#include <sys/stat.h>

#include <cctype>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace cvk {
namespace eval {
namespace {

// Recursive-descent reader over the whole file in memory. Every method leaves pos_ after what
// it read; failures throw Unusual (caught in read_coco_json).
struct Unusual {
  std::string why;
};

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), end_(p + n) {}

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool peek(char c) {
    ws();
    return p_ < end_ && *p_ == c;
  }
  void expect(char c) {
    ws();
    if (p_ >= end_ || *p_ != c) fail(std::string("expected '") + c + "'");
    ++p_;
  }
  [[noreturn]] void fail(const std::string& why) { throw Unusual{why}; }
  bool at_end() {
    ws();
    return p_ >= end_;
  }

  // A key (string without escapes) as a view into the buffer.
  std::pair<const char*, size_t> key() {
    ws();
    const char* s = p_ + 1;
    if (skip_string()) fail("escaped key");
    const size_t n = static_cast<size_t>(p_ - 1 - s);
    expect(':');
    return {s, n};
  }

  // The extent of a JSON number at p_ (RFC 8259 grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?);
  // anything else (a '+', a leading zero, '.5', NaN, Infinity) is unusual.
  const char* number_end(bool integer_only) {
    ws();
    const char* q = p_;
    auto digits = [&] {
      const char* s = q;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
      return q > s;
    };
    if (q < end_ && *q == '-') ++q;
    if (q < end_ && *q == '0') {
      ++q;
    } else if (!digits()) {
      fail("not a number");
    }
    if (q < end_ && (*q == '.' || *q == 'e' || *q == 'E')) {
      if (integer_only) fail("not an integer");
      if (*q == '.') {
        ++q;
        if (!digits()) fail("not a number");
      }
      if (q < end_ && (*q == 'e' || *q == 'E')) {
        ++q;
        if (q < end_ && (*q == '+' || *q == '-')) ++q;
        if (!digits()) fail("not a number");
      }
    }
    return q;
  }

  double number() {
    const char* q = number_end(false);
    double v;
    auto r = std::from_chars(p_, q, v);
    if (r.ec != std::errc() || r.ptr != q || !std::isfinite(v)) fail("not a finite number");
    p_ = q;
    return v;
  }

  // An integer literal (no fraction, no exponent), as Python's json makes an int of.
  int64_t integer() {
    const char* q = number_end(true);
    int64_t v;
    auto r = std::from_chars(p_, q, v);
    if (r.ec != std::errc() || r.ptr != q) fail("not an integer");
    p_ = q;
    return v;
  }

  // iscrowd: 0/1 or false/true.
  uint8_t flag() {
    ws();
    if (end_ - p_ >= 4 && std::memcmp(p_, "true", 4) == 0) {
      p_ += 4;
      return 1;
    }
    if (end_ - p_ >= 5 && std::memcmp(p_, "false", 5) == 0) {
      p_ += 5;
      return 0;
    }
    const int64_t v = integer();
    if (v != 0 && v != 1) fail("iscrowd is not 0 or 1");
    return static_cast<uint8_t>(v);
  }

  // Skips a string, checking it as Python's json does (strict mode): valid UTF-8, no control
  // characters, only JSON's escapes. Returns whether it held an escape.
  bool skip_string() {
    expect('"');
    bool escaped = false;
    while (p_ < end_) {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return escaped;
      }
      if (c < 0x20) fail("control character in a string");
      if (c == '\\') {
        escaped = true;
        if (end_ - p_ < 2) break;
        const char e = p_[1];
        if (e == 'u') {
          if (end_ - p_ < 6) break;
          for (int i = 2; i < 6; ++i)
            if (!std::isxdigit(static_cast<unsigned char>(p_[i]))) fail("bad \\u escape");
          p_ += 6;
        } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
          p_ += 2;
        } else {
          fail("bad escape");
        }
        continue;
      }
      if (c < 0x80) {
        ++p_;
        continue;
      }
      p_ += utf8_length();
    }
    fail("unterminated string");
  }

  // Length of the UTF-8 sequence at p_ (Python's strict decoder: no overlong forms, no
  // surrogates, nothing above U+10FFFF).
  int utf8_length() {
    const unsigned char* u = reinterpret_cast<const unsigned char*>(p_);
    const ptrdiff_t left = end_ - p_;
    auto cont = [&](int i) { return i < left && (u[i] & 0xC0) == 0x80; };
    if (u[0] >= 0xC2 && u[0] <= 0xDF && cont(1)) return 2;
    if (u[0] >= 0xE0 && u[0] <= 0xEF && cont(1) && cont(2)) {
      if (u[0] == 0xE0 && u[1] < 0xA0) fail("overlong UTF-8");
      if (u[0] == 0xED && u[1] >= 0xA0) fail("UTF-8 surrogate");
      return 3;
    }
    if (u[0] >= 0xF0 && u[0] <= 0xF4 && cont(1) && cont(2) && cont(3)) {
      if (u[0] == 0xF0 && u[1] < 0x90) fail("overlong UTF-8");
      if (u[0] == 0xF4 && u[1] >= 0x90) fail("UTF-8 above U+10FFFF");
      return 4;
    }
    fail("not UTF-8");
  }

  // Skips any JSON value, checking its grammar; nesting deeper than kMaxDepth is left to
  // Python's json (which decides between a value and a RecursionError).
  void skip_value(int depth = 0) {
    ws();
    if (p_ >= end_) fail("truncated");
    if (depth > kMaxDepth) fail("deep nesting");
    const char c = *p_;
    if (c == '"') {
      skip_string();
    } else if (c == '{') {
      object([&](std::pair<const char*, size_t>) { skip_value(depth + 1); }, /*any_key=*/true);
    } else if (c == '[') {
      array([&] { skip_value(depth + 1); });
    } else if (c == 't' || c == 'f' || c == 'n') {
      for (const char* lit : {"true", "false", "null"}) {
        const size_t n = std::strlen(lit);
        if (static_cast<size_t>(end_ - p_) >= n && std::memcmp(p_, lit, n) == 0) {
          p_ += n;
          return;
        }
      }
      fail("bad literal");
    } else {
      p_ = number_end(false);
    }
  }

  // Calls f(key) for each member of an object; f must consume the value.
  // Keys are views without escapes unless any_key (then f gets an empty view).
  template <class F>
  void object(F&& f, bool any_key = false) {
    expect('{');
    if (peek('}')) {
      ++p_;
      return;
    }
    for (;;) {
      if (any_key) {
        skip_string();
        expect(':');
        f(std::pair<const char*, size_t>{nullptr, 0});
      } else {
        f(key());
      }
      ws();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      expect('}');
      return;
    }
  }

  // Calls f() for each element of an array; f must consume the element.
  template <class F>
  void array(F&& f) {
    expect('[');
    if (peek(']')) {
      ++p_;
      return;
    }
    for (;;) {
      f();
      ws();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        continue;
      }
      expect(']');
      return;
    }
  }

 private:
  static constexpr int kMaxDepth = 200;
  const char* p_;
  const char* end_;
};

bool is(std::pair<const char*, size_t> k, const char* name) {
  const size_t n = std::strlen(name);
  return k.second == n && std::memcmp(k.first, name, n) == 0;
}

// One annotation or result object. Results follow pycocotools' loadRes, which picks its rule
// from the first result: with a "bbox", area = w * h; else (no "segmentation") with
// "keypoints", the box and area of the keypoints' extent. Segmentation results and anything
// else are left to Python.
void read_annotation(Reader& r, bool results, CocoColumns& out) {
  int64_t img = 0, cat = 0, id = 0;
  double box[4] = {0, 0, 0, 0}, area = 0, score = 0, num_kpts = std::nan("");
  uint8_t crowd = 0;
  bool has_img = false, has_cat = false, has_id = false, has_box = false, has_area = false,
       has_score = false, has_segm = false;
  const size_t kp_start = out.kpts.size();
  int64_t kp_len = -1;
  r.object([&](std::pair<const char*, size_t> k) {
    if (is(k, "image_id")) {
      img = r.integer();
      has_img = true;
    } else if (is(k, "category_id")) {
      cat = r.integer();
      has_cat = true;
    } else if (is(k, "id") && !results) {
      id = r.integer();
      has_id = true;
    } else if (is(k, "bbox")) {
      int n = 0;
      r.array([&] {
        const double v = r.number();
        if (n < 4) box[n] = v;
        ++n;
      });
      if (n != 4) r.fail("bbox is not 4 numbers");
      has_box = true;
    } else if (is(k, "keypoints")) {
      out.kpts.resize(kp_start);  // a repeated key: the last one counts
      r.array([&] { out.kpts.push_back(r.number()); });
      kp_len = static_cast<int64_t>(out.kpts.size() - kp_start);
    } else if (is(k, "num_keypoints") && !results) {
      num_kpts = r.number();
    } else if (is(k, "area") && !results) {
      area = r.number();
      has_area = true;
    } else if (is(k, "score") && results) {
      score = r.number();
      has_score = true;
    } else if (is(k, "iscrowd") && !results) {
      crowd = r.flag();
    } else {
      if (is(k, "segmentation")) has_segm = true;
      r.skip_value();
    }
  });
  if (!has_img || !has_cat) r.fail("missing image_id or category_id");
  if (results) {
    if (out.img.empty()) {  // the first result decides the rule, as in loadRes
      if (has_box) {
        out.result_rule = CocoColumns::kBoxRule;
      } else if (!has_segm && kp_len > 0) {
        out.result_rule = CocoColumns::kKeypointRule;
      } else {
        r.fail("no bbox or keypoints");
      }
    }
    if (!has_score) r.fail("missing score");
    if (out.result_rule == CocoColumns::kBoxRule) {
      if (!has_box) r.fail("missing bbox");
      area = box[2] * box[3];  // loadRes: area = w * h
    } else {
      if (kp_len <= 0 || kp_len % 3) r.fail("keypoints are not (x, y, v) triples");
      const double* kp = out.kpts.data() + kp_start;
      double x0 = kp[0], x1 = kp[0], y0 = kp[1], y1 = kp[1];
      for (int64_t i = 3; i < kp_len; i += 3) {
        x0 = std::min(x0, kp[i]);
        x1 = std::max(x1, kp[i]);
        y0 = std::min(y0, kp[i + 1]);
        y1 = std::max(y1, kp[i + 1]);
      }
      box[0] = x0;
      box[1] = y0;
      box[2] = x1 - x0;
      box[3] = y1 - y0;
      area = (x1 - x0) * (y1 - y0);
    }
  } else {
    if (!has_box) r.fail("missing bbox");
    if (!has_id || !has_area) r.fail("missing id or area");
  }
  if (box[2] < 0 || box[3] < 0) r.fail("negative bbox size");
  out.img.push_back(img);
  out.cat.push_back(cat);
  if (!results) out.id.push_back(id);
  out.box.insert(out.box.end(), box, box + 4);
  out.area.push_back(area);
  out.score.push_back(score);
  out.crowd.push_back(crowd);
  out.kp_len.push_back(kp_len);
  out.num_kpts.push_back(num_kpts);
}

void read_ids(Reader& r, std::vector<int64_t>& ids) {
  r.array([&] {
    bool has = false;
    int64_t id = 0;
    r.object([&](std::pair<const char*, size_t> k) {
      if (is(k, "id")) {  // a repeated key: the last one counts, as in Python's json
        id = r.integer();
        has = true;
      } else {
        r.skip_value();
      }
    });
    if (!has) r.fail("an entry without id");
    ids.push_back(id);
  });
}

}  // namespace

bool read_coco_json(const std::string& path, bool results, CocoColumns& out, std::string& why) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {  // Python's open() says why
    why = "not a regular file";
    return false;
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    why = "cannot open";
    return false;
  }
  std::fseek(f.get(), 0, SEEK_END);
  const long size = std::ftell(f.get());
  std::fseek(f.get(), 0, SEEK_SET);
  if (size < 0) {
    why = "cannot size";
    return false;
  }
  std::string buf(static_cast<size_t>(size), '\0');
  if (size > 0 && std::fread(&buf[0], 1, buf.size(), f.get()) != buf.size()) {
    why = "short read";
    return false;
  }
  try {
    Reader r(buf.data(), buf.size());
    if (results) {
      r.array([&] { read_annotation(r, true, out); });
    } else {
      bool has_images = false, has_cats = false, has_anns = false;
      r.object([&](std::pair<const char*, size_t> k) {
        // A repeated section would mean the last one to Python's json: leave such a file to it.
        if ((is(k, "images") && has_images) || (is(k, "categories") && has_cats) ||
            (is(k, "annotations") && has_anns))
          r.fail("duplicate key");
        if (is(k, "images")) {
          read_ids(r, out.image_ids);
          has_images = true;
        } else if (is(k, "categories")) {
          read_ids(r, out.category_ids);
          has_cats = true;
        } else if (is(k, "annotations")) {
          r.array([&] { read_annotation(r, false, out); });
          has_anns = true;
        } else {
          r.skip_value();
        }
      });
      if (!has_images) r.fail("no images");
    }
    if (!r.at_end()) r.fail("trailing data");
  } catch (const Unusual& u) {
    why = u.why;
    out = CocoColumns{};
    return false;
  }
  return true;
}

}  // namespace eval
}  // namespace cvk
