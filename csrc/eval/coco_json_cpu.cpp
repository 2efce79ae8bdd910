#include "eval/coco_json.h"

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
    expect('"');
    const char* s = p_;
    while (p_ < end_ && *p_ != '"') {
      if (*p_ == '\\') fail("escaped key");
      ++p_;
    }
    if (p_ >= end_) fail("unterminated string");
    const size_t n = static_cast<size_t>(p_ - s);
    ++p_;
    expect(':');
    return {s, n};
  }

  double number() {
    ws();
    double v;
    const char* s = p_;
    if (p_ < end_ && *p_ == '-') ++p_;  // from_chars takes the sign, JSON forbids '+'
    auto r = std::from_chars(s, end_, v);
    if (r.ec != std::errc() || !std::isfinite(v)) fail("not a finite number");
    p_ = r.ptr;
    return v;
  }

  // An integer literal (no fraction, no exponent), as Python's json makes an int of.
  int64_t integer() {
    ws();
    int64_t v;
    auto r = std::from_chars(p_, end_, v);
    if (r.ec != std::errc()) fail("not an integer");
    if (r.ptr < end_ && (*r.ptr == '.' || *r.ptr == 'e' || *r.ptr == 'E')) fail("not an integer");
    p_ = r.ptr;
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

  void skip_string() {
    expect('"');
    while (p_ < end_ && *p_ != '"') p_ += (*p_ == '\\') ? 2 : 1;
    if (p_ >= end_) fail("unterminated string");
    ++p_;
  }

  void skip_value() {
    ws();
    if (p_ >= end_) fail("truncated");
    const char c = *p_;
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      // Skip a nested value by counting brackets (strings may hold brackets).
      int depth = 0;
      while (p_ < end_) {
        const char d = *p_;
        if (d == '"') {
          skip_string();
          continue;
        }
        if (d == '{' || d == '[') ++depth;
        if (d == '}' || d == ']') {
          --depth;
          if (depth == 0) {
            ++p_;
            return;
          }
        }
        ++p_;
      }
      fail("truncated");
    }
    while (p_ < end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\n' &&
           *p_ != '\r' && *p_ != '\t')
      ++p_;  // a number or a literal
  }

  // Calls f(key) for each member of an object; f must consume the value.
  template <class F>
  void object(F&& f) {
    expect('{');
    if (peek('}')) {
      ++p_;
      return;
    }
    for (;;) {
      f(key());
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
  const char* p_;
  const char* end_;
};

bool is(std::pair<const char*, size_t> k, const char* name) {
  const size_t n = std::strlen(name);
  return k.second == n && std::memcmp(k.first, name, n) == 0;
}

// One annotation or result object.
void read_annotation(Reader& r, bool results, CocoColumns& out) {
  int64_t img = 0, cat = 0, id = 0;
  double box[4] = {0, 0, 0, 0}, area = 0, score = 0;
  uint8_t crowd = 0;
  bool has_img = false, has_cat = false, has_id = false, has_box = false, has_area = false,
       has_score = false;
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
    } else if (is(k, "area") && !results) {
      area = r.number();
      has_area = true;
    } else if (is(k, "score") && results) {
      score = r.number();
      has_score = true;
    } else if (is(k, "iscrowd") && !results) {
      crowd = r.flag();
    } else {
      r.skip_value();
    }
  });
  if (!has_img || !has_cat || !has_box) r.fail("missing image_id, category_id or bbox");
  if (box[2] < 0 || box[3] < 0) r.fail("negative bbox size");
  if (results) {
    if (!has_score) r.fail("missing score");
    area = box[2] * box[3];  // loadRes: area = w * h
  } else if (!has_id || !has_area) {
    r.fail("missing id or area");
  }
  out.img.push_back(img);
  out.cat.push_back(cat);
  if (!results) out.id.push_back(id);
  out.box.insert(out.box.end(), box, box + 4);
  out.area.push_back(area);
  out.score.push_back(score);
  out.crowd.push_back(crowd);
}

void read_ids(Reader& r, std::vector<int64_t>& ids) {
  r.array([&] {
    bool has = false;
    r.object([&](std::pair<const char*, size_t> k) {
      if (is(k, "id")) {
        ids.push_back(r.integer());
        has = true;
      } else {
        r.skip_value();
      }
    });
    if (!has) r.fail("an entry without id");
  });
}

}  // namespace

bool read_coco_json(const std::string& path, bool results, CocoColumns& out, std::string& why) {
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
      bool has_images = false;
      r.object([&](std::pair<const char*, size_t> k) {
        if (is(k, "images")) {
          read_ids(r, out.image_ids);
          has_images = true;
        } else if (is(k, "categories")) {
          read_ids(r, out.category_ids);
        } else if (is(k, "annotations")) {
          r.array([&] { read_annotation(r, false, out); });
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
