// Runs the tests registered through tests/neon/gtest/gtest.h (all, or those whose
// "Suite.Name" contains the first argument); exit 1 if any expectation failed.
#include <cstdio>
#include <cstring>
#include <mutex>

#include "gtest/gtest.h"

namespace testing::internal {

std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}
std::atomic<int>& failures() {
  static std::atomic<int> n{0};
  return n;
}
std::vector<std::string>& traces() {
  thread_local std::vector<std::string> t;
  return t;
}

void report(const char* file, int line, const std::string& what, const std::string& message) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  if (++failures() > 50) return;  // enough to diagnose; keeps a systematic failure short
  std::fprintf(stderr, "%s:%d: failed: %s %s\n", file, line, what.c_str(), message.c_str());
  for (auto it = traces().rbegin(); it != traces().rend(); ++it) std::fprintf(stderr, "  trace: %s\n", it->c_str());
}

}  // namespace testing::internal

int main(int argc, char** argv) {
  using namespace testing::internal;
  const char* filter = argc > 1 ? argv[1] : "";
  int run = 0, failed_tests = 0;
  for (const TestCase& t : registry()) {
    const std::string full = std::string(t.suite) + "." + t.name;
    if (!strstr(full.c_str(), filter)) continue;
    const int before = failures();
    std::printf("[ RUN      ] %s\n", full.c_str());
    std::fflush(stdout);
    t.fn();
    const bool ok = failures() == before;
    std::printf("[ %s ] %s\n", ok ? "      OK" : " FAILED ", full.c_str());
    ++run;
    failed_tests += ok ? 0 : 1;
  }
  std::printf("%d tests run, %d failed\n", run, failed_tests);
  return run > 0 && failed_tests == 0 ? 0 : 1;
}
