#pragma once
// Runs the `durable` command-line tool (from the build) and captures what it
// printed and how it exited.

#include <string>
#include <vector>

namespace durable::testing {

struct ToolRun {
  int exit_code = -1;  // -1: did not run or did not exit normally
  std::string out;
  std::string err;
};

/// Runs argv[0] (a path) with the rest as arguments, stdin from /dev/null,
/// in this process' environment without its DURABLE_* variables, plus `env`
/// (NAME=VALUE); waits for it to exit.
ToolRun run_program(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
/// build/durable with `args`.
ToolRun run_durable(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace durable::testing
