// Runs a program without a shell under a wall-clock limit: posix_spawn with stdout and
// stderr to files, the child in its own process group so that a converter and whatever
// it starts are ended together when the limit passes.
#pragma once

#include <string>
#include <vector>

namespace dnnf::peers {

struct TimedResult {
  bool started = false;
  bool timed_out = false;
  int exit_code = -1;  // -1 when killed by a signal or not started
  int signal = 0;
  std::string error;   // why it did not start / how it ended abnormally
};

TimedResult run_with_time_limit(const std::vector<std::string>& argv, const std::string& stdout_path,
                                const std::string& stderr_path, double limit_seconds);

}  // namespace dnnf::peers
