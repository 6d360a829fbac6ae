#include "tests/support/node_process.hpp"

#include <sys/wait.h>

#include <algorithm>

#include <unistd.h>

#include "base/process.hpp"

extern char** environ;

namespace durable::testing {

std::vector<std::string> clean_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::string_view(*e).rfind("DURABLE_", 0) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

NodeProcess::NodeProcess(std::vector<std::string> args, std::vector<std::string> env)
    : args_(std::move(args)),
      env_(std::move(env)),
      log_(std::filesystem::temp_directory_path() /
           ("durable-node-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this)) +
            ".log")) {}

NodeProcess::~NodeProcess() {
  kill();
  std::error_code ec;
  std::filesystem::remove(log_, ec);
}

Status NodeProcess::start() {
  SpawnOptions options;
  options.argv = {std::string(DURABLE_BINARY_DIR) + "/durable-node"};
  options.argv.insert(options.argv.end(), args_.begin(), args_.end());
  // Tests run side by side: the protocol server's default port would clash.
  if (std::find(args_.begin(), args_.end(), "--grpc") == args_.end()) {
    options.argv.insert(options.argv.end(), {"--grpc", "127.0.0.1:0"});
  }
  options.log = log_;
  options.lifetime = ChildLifetime::die_with_parent;
  options.environment = clean_environment(env_);
  auto pid = spawn(options);
  if (!pid) return pid.status();
  pid_ = *pid;
  return Status::ok();
}

void NodeProcess::kill() {
  if (pid_ > 0) kill_and_wait(pid_);
  pid_ = -1;
}

Status NodeProcess::stop() {
  if (pid_ <= 0) return Status::ok();
  Status s = terminate(pid_, std::chrono::seconds(20), "durable-node");
  pid_ = -1;
  return s;
}

bool NodeProcess::running() {
  if (pid_ <= 0) return false;
  int status = -1;
  if (process_running(pid_, &status)) return true;
  if (status != -1) {  // reaped just now: keep how it ended
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    pid_ = -1;
  }
  return false;
}

int NodeProcess::wait_exit() {
  if (pid_ > 0) {
    int status = 0;
    const pid_t reaped = ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = reaped > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  return exit_code_;
}

std::string NodeProcess::log_tail() const { return file_tail(log_, 4000); }

}  // namespace durable::testing
