// Runs a program (the kernel compiler) without a shell: posix_spawnp with stdout and
// stderr redirected into a log file. Safe to call from several threads at once; waits
// for its own child only, never for other children of the process.
#pragma once

#include <string>
#include <vector>

namespace dnnf::codegen {

struct ProcessResult {
  bool started = false;  // false: the program could not be run (see error)
  int exit_code = -1;    // -1 when killed by a signal
  std::string error;     // why it did not start or how it ended abnormally
};

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace dnnf::codegen
