// Minimal test harness for the native test programs: non-fatal CHECK/CHECK_EQ, fatal
// REQUIRE, self-registering TEST_CASE functions and a main runner. Each program exits
// 0 only if every check passed, which is what test/native/native.test.ts asserts.
//
//   #include "common/check.h"
//   TEST_CASE(psn_wrap) { CHECK_EQ(1u + 0xffffffffu, 0u); }
//   NLF_TEST_MAIN()
//
// Optional argv[1] runs only the cases whose name contains it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nlf::test {

struct Case {
  const char* name;
  void (*fn)();
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures() {
  static int n = 0;
  return n;
}

inline long& checks() {
  static long n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};

// Thrown by REQUIRE to abandon the current case; caught by run_all.
struct Abort {};

template <typename T, typename = void>
struct Printable : std::false_type {};
template <typename T>
struct Printable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};

template <typename T>
std::string show(const T& v) {
  std::ostringstream os;
  if constexpr (std::is_same_v<T, bool>) {
    os << (v ? "true" : "false");
  } else if constexpr (std::is_integral_v<T> && sizeof(T) == 1) {
    // uint8_t/int8_t would otherwise print as raw characters.
    os << static_cast<int>(v);
  } else if constexpr (std::is_integral_v<T>) {
    os << v;
    if (v < 0 || v > 9) os << " (0x" << std::hex << static_cast<std::make_unsigned_t<T>>(v) << ")";
  } else if constexpr (std::is_enum_v<T>) {
    os << static_cast<long long>(v);
  } else if constexpr (Printable<T>::value) {
    os << v;
  } else {
    os << "<" << sizeof(T) << "-byte value>";
  }
  return os.str();
}

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what.c_str());
}

template <typename A, typename B>
bool check_eq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  ++checks();
  bool same;
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B>) {
    // Compare mathematically, without sign-conversion surprises (C++17 has no cmp_equal).
    if constexpr (std::is_signed_v<A> == std::is_signed_v<B>) {
      same = (a == b);
    } else if constexpr (std::is_signed_v<A>) {
      same = a >= 0 && static_cast<std::make_unsigned_t<A>>(a) == b;
    } else {
      same = b >= 0 && a == static_cast<std::make_unsigned_t<B>>(b);
    }
  } else {
    same = (a == b);
  }
  if (!same) fail(file, line, std::string(ea) + " == " + eb + "  [" + show(a) + " vs " + show(b) + "]");
  return same;
}

inline int run_all(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int ran = 0;
  for (const Case& c : registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    ++ran;
    int before = failures();
    try {
      c.fn();
    } catch (const Abort&) {
      // already reported
    } catch (const std::exception& e) {
      fail(c.name, 0, std::string("unexpected exception: ") + e.what());
    } catch (...) {
      fail(c.name, 0, "unexpected non-standard exception");
    }
    std::fprintf(stderr, "[%s] %s\n", failures() == before ? " ok " : "FAIL", c.name);
  }
  std::fprintf(stderr, "%d case(s), %ld check(s), %d failure(s)\n", ran, checks(), failures());
  if (ran == 0) {
    std::fprintf(stderr, "no test case matched\n");
    return 2;
  }
  return failures() == 0 ? 0 : 1;
}

}  // namespace nlf::test

#define NLF_TEST_CAT2(a, b) a##b
#define NLF_TEST_CAT(a, b) NLF_TEST_CAT2(a, b)

#define TEST_CASE(name)                                                    \
  static void name();                                                      \
  static ::nlf::test::Registrar NLF_TEST_CAT(name, _registrar)(#name, name); \
  static void name()

#define CHECK(cond)                                                        \
  (++::nlf::test::checks(), (cond) ? true                                  \
                                   : (::nlf::test::fail(__FILE__, __LINE__, "CHECK(" #cond ")"), false))

#define CHECK_MSG(cond, msg)                                               \
  (++::nlf::test::checks(), (cond) ? true                                  \
      : (::nlf::test::fail(__FILE__, __LINE__, std::string("CHECK(" #cond "): ") + (msg)), false))

#define CHECK_EQ(a, b) ::nlf::test::check_eq((a), (b), #a, #b, __FILE__, __LINE__)

#define CHECK_NE(a, b) CHECK((a) != (b))

// Fatal variants: stop the current case (the rest of the program still runs).
#define REQUIRE(cond)                                                      \
  do {                                                                     \
    if (!CHECK(cond)) throw ::nlf::test::Abort{};                          \
  } while (0)

#define REQUIRE_EQ(a, b)                                                   \
  do {                                                                     \
    if (!CHECK_EQ(a, b)) throw ::nlf::test::Abort{};                       \
  } while (0)

#define NLF_TEST_MAIN()                                                    \
  int main(int argc, char** argv) { return ::nlf::test::run_all(argc, argv); }
