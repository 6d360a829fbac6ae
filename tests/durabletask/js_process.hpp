#pragma once
// The JavaScript side of the protocol tests: the SDKs installed in
// tests/durabletask/js (scripts/setup.sh runs `npm ci` there) and
// long-running JS worker processes (worker_only.mjs, slow_worker.mjs) whose
// JSON lines the tests read. A missing SDK fails a test (REQUIRE_NODE); it
// never passes by skipping.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/process.hpp"
#include "tests/support/node_process.hpp"
#include "tests/support/tool_run.hpp"

namespace durable::durabletask {

inline std::string js_dir() { return std::string(DURABLE_SOURCE_DIR) + "/tests/durabletask/js/"; }
inline std::string js_script(const std::string& name) { return js_dir() + name + ".mjs"; }

/// Why the JS tests cannot run here (empty: they can).
inline std::string missing_js_prerequisite() {
  static const std::string why = []() -> std::string {
    if (testing::run_program({"/usr/bin/env", "node", "--version"}).exit_code != 0) return "no node on PATH";
    if (!std::filesystem::exists(js_dir() + "node_modules/@microsoft/durabletask-js") ||
        !std::filesystem::exists(js_dir() + "node_modules/@dapr/durabletask-js")) {
      return "the SDKs are not installed: run `npm ci` in tests/durabletask/js";
    }
    return {};
  }();
  return why;
}
// A missing SDK fails the test: scripts/setup.sh installs them.
#define REQUIRE_JS_SDKS()                                                          \
  do {                                                                            \
    if (!missing_js_prerequisite().empty()) FAIL() << missing_js_prerequisite(); \
  } while (0)

/// A long-running JS worker (worker_only.mjs, slow_worker.mjs): its stdout
/// and stderr go to a log file polled for its JSON lines. Killed (SIGKILL,
/// reaped) on destruction if still running.
class JsWorker {
 public:
  JsWorker(const std::string& name, const std::string& address, std::vector<std::string> args = {}) {
    static std::atomic<int> counter{0};
    log_ = std::filesystem::temp_directory_path() /
           ("durable-js-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".log");
    SpawnOptions options;
    options.argv = {"/usr/bin/env", "node", js_script(name), address};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.log = log_;
    options.environment = testing::clean_environment();
    auto pid = spawn(options);
    if (pid) pid_ = *pid;
    else spawn_error_ = pid.status().to_string();
  }
  ~JsWorker() {
    kill();
    std::error_code ec;
    std::filesystem::remove(log_, ec);
  }
  JsWorker(const JsWorker&) = delete;
  JsWorker& operator=(const JsWorker&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& spawn_error() const { return spawn_error_; }

  /// The JSON-object lines printed so far (stderr lines are not JSON).
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(log());
    for (std::string line; std::getline(in, line);) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (j.is_object()) out.push_back(std::move(j));
    }
    return out;
  }
  /// Polls the log until a JSON line satisfies `match`; false at `timeout`
  /// or when the worker exited.
  bool wait_for_line(const std::function<bool(const nlohmann::json&)>& match, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      for (const nlohmann::json& j : lines()) {
        if (match(j)) return true;
      }
      if (std::chrono::steady_clock::now() > deadline || !process_running(pid_, &wstatus_)) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return wait_for_line([](const nlohmann::json& j) { return j.value("ready", false); }, timeout);
  }

  /// SIGTERM and wait (up to `timeout`) for it to exit; its wait status
  /// (-1: it did not end in time, and was killed).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    if (pid_ <= 0) return wstatus_;
    ::kill(pid_, SIGTERM);
    wstatus_ = -1;
    if (!wait_for_exit(pid_, timeout, &wstatus_)) {
      kill();
      return -1;
    }
    pid_ = -1;
    return wstatus_;
  }
  void kill() {
    if (pid_ > 0) kill_and_wait(pid_);
    pid_ = -1;
  }

  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int wstatus_ = -1;
  std::string spawn_error_;
};

}  // namespace durable::durabletask
