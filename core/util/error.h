// dnnf::Error: the one exception type for user-facing failures (bad files, bad
// shapes, unknown ops, limits). The CLI prints what() on one line and exits 1.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dnnf {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <class T, class... Rest>
void append_all(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append_all(os, rest...);
}
}  // namespace detail

// Builds a message from pieces: fail("node '", name, "': bad axis ", axis).
template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream os;
  detail::append_all(os, parts...);
  throw Error(os.str());
}

// Checks a user-input condition; throws dnnf::Error with the message otherwise.
template <class... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) fail(parts...);
}

}  // namespace dnnf
