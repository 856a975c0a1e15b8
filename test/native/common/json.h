// Small JSON reader for the shared test data (test/vectors/*.json): enough of RFC 8259
// for generated files (objects, arrays, strings with escapes, numbers, literals).
// Integers keep their exact text so 64-bit values survive; wide fields in the vectors
// are "0x..." strings, which as_u64() also accepts.
//
//   nlf::json::Value doc = nlf::json::parse_file(NLF_SOURCE_DIR "/test/vectors/pds.json");
//   for (const auto& v : doc["vectors"].items()) { v["name"].str(); v["fields"]["psn"].as_u64(); }
//
// Malformed input or a wrong-type access throws nlf::json::Error (a std::runtime_error).
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nlf::json {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Value() = default;

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Object member, or a shared null value when absent (so lookups chain safely).
  const Value& operator[](const std::string& key) const {
    expect(Kind::Object, "object");
    for (const auto& kv : members_)
      if (kv.first == key) return kv.second;
    return null_value();
  }
  const Value& operator[](size_t i) const {
    expect(Kind::Array, "array");
    if (i >= elems_.size()) throw Error("json: index " + std::to_string(i) + " out of range");
    return elems_[i];
  }
  bool has(const std::string& key) const {
    if (kind_ != Kind::Object) return false;
    for (const auto& kv : members_)
      if (kv.first == key) return true;
    return false;
  }
  size_t size() const {
    if (kind_ == Kind::Array) return elems_.size();
    if (kind_ == Kind::Object) return members_.size();
    throw Error("json: size() of a scalar");
  }
  const std::vector<Value>& items() const {
    expect(Kind::Array, "array");
    return elems_;
  }
  // Members in document order.
  const std::vector<std::pair<std::string, Value>>& members() const {
    expect(Kind::Object, "object");
    return members_;
  }

  const std::string& str() const {
    expect(Kind::String, "string");
    return text_;
  }
  bool as_bool() const {
    expect(Kind::Bool, "bool");
    return text_ == "true";
  }
  double as_double() const {
    expect(Kind::Number, "number");
    return std::strtod(text_.c_str(), nullptr);
  }
  // Exact signed integer (no fraction/exponent).
  int64_t as_i64() const {
    expect(Kind::Number, "number");
    if (text_.find_first_of(".eE") != std::string::npos) throw Error("json: not an integer: " + text_);
    errno = 0;
    char* end = nullptr;
    long long v = std::strtoll(text_.c_str(), &end, 10);
    if (errno || *end) throw Error("json: integer out of range: " + text_);
    return v;
  }
  // Non-negative integer, from a JSON number or a "0x..."/decimal string.
  uint64_t as_u64() const {
    std::string t;
    int base = 10;
    if (kind_ == Kind::String) {
      t = text_;
      if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
        t = t.substr(2);
        base = 16;
      }
    } else {
      expect(Kind::Number, "number");
      t = text_;
      if (t.find_first_of(".eE") != std::string::npos) throw Error("json: not an integer: " + t);
    }
    if (t.empty() || t[0] == '-' || t[0] == '+') throw Error("json: not an unsigned integer: " + text_);
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(t.c_str(), &end, base);
    if (errno || *end) throw Error("json: bad unsigned integer: " + text_);
    return v;
  }
  // Raw number text or string content, for diagnostics.
  const std::string& text() const { return text_; }

  static Value parse(const std::string& s);

 private:
  friend class Parser;
  static const Value& null_value() {
    static const Value v;
    return v;
  }
  void expect(Kind k, const char* what) const {
    if (kind_ != k) throw Error(std::string("json: expected ") + what);
  }

  Kind kind_ = Kind::Null;
  std::string text_;
  std::vector<Value> elems_;
  std::vector<std::pair<std::string, Value>> members_;
};

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  Value document() {
    Value v = value(0);
    ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw Error("json: " + why + " at offset " + std::to_string(i_));
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void eat(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool literal(const char* w) {
    size_t n = std::char_traits<char>::length(w);
    if (s_.compare(i_, n, w) != 0) return false;
    i_ += n;
    return true;
  }

  Value value(int depth) {
    if (depth > 256) fail("nesting too deep");
    ws();
    Value v;
    char c = peek();
    if (c == '{') {
      v.kind_ = Value::Kind::Object;
      ++i_;
      ws();
      if (peek() == '}') {
        ++i_;
        return v;
      }
      for (;;) {
        ws();
        if (peek() != '"') fail("expected member name");
        std::string key = string();
        ws();
        eat(':');
        v.members_.emplace_back(std::move(key), value(depth + 1));
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        eat('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind_ = Value::Kind::Array;
      ++i_;
      ws();
      if (peek() == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.elems_.push_back(value(depth + 1));
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        eat(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind_ = Value::Kind::String;
      v.text_ = string();
      return v;
    }
    if (literal("true")) {
      v.kind_ = Value::Kind::Bool;
      v.text_ = "true";
      return v;
    }
    if (literal("false")) {
      v.kind_ = Value::Kind::Bool;
      v.text_ = "false";
      return v;
    }
    if (literal("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = i_;
      if (peek() == '-') ++i_;
      if (!(peek() >= '0' && peek() <= '9')) fail("bad number");
      while (i_ < s_.size() && ((s_[i_] >= '0' && s_[i_] <= '9') || s_[i_] == '.' || s_[i_] == 'e' ||
                                s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
        ++i_;
      v.kind_ = Value::Kind::Number;
      v.text_ = s_.substr(start, i_ - start);
      return v;
    }
    fail("unexpected character");
  }

  static void utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("short \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= h - '0';
      else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
      else fail("bad \\u escape");
    }
    return v;
  }

  std::string string() {
    eat('"');
    std::string out;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string");
      char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) fail("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.compare(i_, 2, "\\u") == 0) {
            i_ += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(out, cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  const std::string& s_;
  size_t i_ = 0;
};

inline Value Value::parse(const std::string& s) { return Parser(s).document(); }

inline Value parse(const std::string& s) { return Value::parse(s); }

inline Value parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("json: cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return Value::parse(ss.str());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
}

// Decodes a lower/upper-case hex string without separators.
inline std::vector<uint8_t> hex_bytes(const std::string& hex) {
  if (hex.size() % 2) throw Error("hex: odd length");
  auto nib = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    throw Error(std::string("hex: bad digit '") + h + "'");
  };
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t k = 0; k < out.size(); ++k) out[k] = static_cast<uint8_t>(nib(hex[2 * k]) << 4 | nib(hex[2 * k + 1]));
  return out;
}

inline std::string to_hex(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s(n * 2, '0');
  for (size_t k = 0; k < n; ++k) {
    s[2 * k] = digits[p[k] >> 4];
    s[2 * k + 1] = digits[p[k] & 15];
  }
  return s;
}

}  // namespace nlf::json
