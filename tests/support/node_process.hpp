#pragma once
// A durable-node process for tests that kill and restart nodes. Dies with
// the test binary (parent-death signal), logs to a file in /tmp.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.hpp"

namespace durable::testing {

/// This process' environment without any DURABLE_* variable (so that a
/// developer's shell cannot change a test), plus `extra` (NAME=VALUE).
std::vector<std::string> clean_environment(const std::vector<std::string>& extra = {});

class NodeProcess {
 public:
  /// `args` follow the binary's name, e.g. {"--redis", url, "--partitions", "4"};
  /// `env`: DURABLE_* variables to set (NAME=VALUE), no others.
  explicit NodeProcess(std::vector<std::string> args, std::vector<std::string> env = {});
  /// kill() if it still runs.
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  /// Spawns build/durable-node with the args. Errors: as durable::spawn.
  Status start();
  /// SIGKILL and reap: a crash, no shutdown work.
  void kill();
  /// SIGTERM and wait for a clean exit. Errors: deadline_exceeded (killed).
  Status stop();
  bool running();
  /// Waits for it to exit by itself and reaps it: its exit code, or -1 when
  /// a signal ended it (or it was not started).
  int wait_exit();
  pid_t pid() const { return pid_; }
  /// The end of its log, for failure messages.
  std::string log_tail() const;

 private:
  std::vector<std::string> args_;
  std::vector<std::string> env_;
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int exit_code_ = -1;  // once reaped
};

}  // namespace durable::testing
