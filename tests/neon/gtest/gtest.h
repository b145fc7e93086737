// A minimal stand-in for GoogleTest, so that the kernel unit tests (tests/unit/
// test_simd.cpp, test_kernels_gemm.cpp, test_kernels_conv.cpp) compile unchanged for
// aarch64, where Debian's libgtest-dev (an amd64 package) has no library to link.
// It covers exactly what those files use: TEST, EXPECT_{TRUE,EQ,GT,NEAR,THROW},
// ADD_FAILURE, SCOPED_TRACE, testing::Message and testing::AssertionResult. A failed
// expectation prints file:line, the expression, the streamed message and the active
// traces, and makes the program exit 1; expectations may fail on any thread.
#pragma once

#include <atomic>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace testing {

class Message {
 public:
  template <class T> Message& operator<<(const T& v) {
    s_ << v;
    return *this;
  }
  std::string str() const { return s_.str(); }

 private:
  std::ostringstream s_;
};

class AssertionResult {
 public:
  explicit AssertionResult(bool ok) : ok_(ok) {}
  AssertionResult(const AssertionResult& o) : ok_(o.ok_), message_(o.message_) {}
  explicit operator bool() const { return ok_; }
  template <class T> AssertionResult& operator<<(const T& v) {
    std::ostringstream s;
    s << v;
    message_ += s.str();
    return *this;
  }
  AssertionResult& operator<<(const Message& m) { return *this << m.str(); }
  const std::string& message() const { return message_; }

 private:
  bool ok_;
  std::string message_;
};

inline AssertionResult AssertionSuccess() { return AssertionResult(true); }
inline AssertionResult AssertionFailure() { return AssertionResult(false); }

namespace internal {

struct TestCase {
  const char* suite;
  const char* name;
  void (*fn)();
};
std::vector<TestCase>& registry();
std::atomic<int>& failures();
std::vector<std::string>& traces();  // this thread's SCOPED_TRACE stack
void report(const char* file, int line, const std::string& what, const std::string& message);

struct Registrar {
  Registrar(const char* suite, const char* name, void (*fn)()) { registry().push_back({suite, name, fn}); }
};

// Collects the streamed message; reports when the statement ends.
class Reporter {
 public:
  Reporter(const char* file, int line, std::string what) : file_(file), line_(line), what_(std::move(what)) {}
  ~Reporter() { report(file_, line_, what_, s_.str()); }
  template <class T> Reporter& operator<<(const T& v) {
    s_ << v;
    return *this;
  }
  Reporter& operator<<(const Message& m) { return *this << m.str(); }

 private:
  const char* file_;
  int line_;
  std::string what_;
  std::ostringstream s_;
};

struct ScopedTrace {
  explicit ScopedTrace(const Message& m) { traces().push_back(m.str()); }
  explicit ScopedTrace(const std::string& m) { traces().push_back(m); }
  ~ScopedTrace() { traces().pop_back(); }
};

template <class T> std::string show(const T& v) {
  if constexpr (requires(std::ostream& o) { o << v; }) {
    std::ostringstream s;
    s << v;
    return s.str();
  } else {
    return "(value)";
  }
}

inline AssertionResult truth(const AssertionResult& r) { return r; }
template <class T> AssertionResult truth(const T& v) { return AssertionResult(bool(v)); }

}  // namespace internal
}  // namespace testing

#define DNNF_MINI_CAT2(a, b) a##b
#define DNNF_MINI_CAT(a, b) DNNF_MINI_CAT2(a, b)

#define TEST(suite, name)                                                                          \
  static void suite##_##name##_test();                                                             \
  static ::testing::internal::Registrar suite##_##name##_registrar(#suite, #name, suite##_##name##_test); \
  static void suite##_##name##_test()

#define EXPECT_TRUE(c)                                                          \
  if (const ::testing::AssertionResult dnnf_ar_ = ::testing::internal::truth(c)) \
    ;                                                                           \
  else                                                                          \
    ::testing::internal::Reporter(__FILE__, __LINE__, std::string(#c) + " " + dnnf_ar_.message())

#define EXPECT_FALSE(c) EXPECT_TRUE(!(c))

// The operands are copied: std::max<int64_t>(x, y + 1) returns a reference into a
// temporary that dies with the initializer, which a reference here would keep dangling.
#define DNNF_MINI_CMP(a, b, op)                                                                        \
  if (const auto dnnf_a_ = (a); true)                                                                 \
    if (const auto dnnf_b_ = (b); dnnf_a_ op dnnf_b_)                                                \
      ;                                                                                                \
    else                                                                                               \
      ::testing::internal::Reporter(__FILE__, __LINE__,                                                \
                                    std::string(#a " " #op " " #b ": ") + ::testing::internal::show(dnnf_a_) + \
                                        " vs " + ::testing::internal::show(dnnf_b_))

#define EXPECT_EQ(a, b) DNNF_MINI_CMP(a, b, ==)
#define EXPECT_GT(a, b) DNNF_MINI_CMP(a, b, >)
#define EXPECT_GE(a, b) DNNF_MINI_CMP(a, b, >=)
#define EXPECT_LE(a, b) DNNF_MINI_CMP(a, b, <=)

#define EXPECT_NEAR(a, b, tol)                                                                        \
  if (const double dnnf_d_ = std::fabs(double(a) - double(b)); dnnf_d_ <= double(tol))                \
    ;                                                                                                 \
  else                                                                                                \
    ::testing::internal::Reporter(__FILE__, __LINE__, std::string("|" #a " - " #b "| <= " #tol ": ") + \
                                                          ::testing::internal::show(dnnf_d_))

#define EXPECT_THROW(stmt, exc)                                                          \
  if (bool dnnf_thrown_ = [&] {                                                          \
        try {                                                                            \
          stmt;                                                                          \
        } catch (const exc&) {                                                           \
          return true;                                                                   \
        } catch (...) {                                                                  \
        }                                                                                \
        return false;                                                                    \
      }())                                                                               \
    ;                                                                                    \
  else                                                                                   \
    ::testing::internal::Reporter(__FILE__, __LINE__, "expected " #stmt " to throw " #exc)

#define ADD_FAILURE() ::testing::internal::Reporter(__FILE__, __LINE__, "failure")

#define SCOPED_TRACE(m) ::testing::internal::ScopedTrace DNNF_MINI_CAT(dnnf_trace_, __LINE__)(m)
