#pragma once
// A real redis-server for tests (project rule: no mock store), and a GoogleTest
// fixture that shares one server per test suite.
//
// RedisServer runs /usr/bin/redis-server as a direct child (no shell, so pid()
// is the server itself) on a free 127.0.0.1 port, in a fresh folder under
// /tmp, with AOF on and RDB snapshots off, so restart() keeps every
// acknowledged write. The child gets PR_SET_PDEATHSIG=SIGKILL: if the test
// binary dies, the server dies with it instead of lingering.
//
// Thread affinity: one RedisServer is used from one thread at a time, and
// start()/restart() must be called from a thread that outlives the server
// (the death signal follows the thread that forked). In gtest that is the
// main thread.

#include <hiredis/hiredis.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "base/status.hpp"
#include "store/hiredis.hpp"

namespace durable::testing {

// Raw hiredis access for fixtures that probe the server below the store's
// RedisConnection.
using store::command_argv;
using store::ContextPtr;
using store::ReplyPtr;

/// One redis-server process and its data folder. Not copyable or movable.
class RedisServer {
 public:
  /// Path of the server binary (Debian's package).
  static constexpr const char* kBinary = "/usr/bin/redis-server";

  /// Does not start anything. `extra_args` are appended to the command line
  /// of every start (e.g. {"--appendfsync", "always"}).
  explicit RedisServer(std::vector<std::string> extra_args = {});
  /// Stops the server (as stop()) and removes its folder.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  /// The first successful start creates the folder (mkdtemp under /tmp),
  /// picks a free port, runs the server and polls until it answers PING
  /// (10 s deadline). A port taken by someone else between pick and bind is
  /// retried with a new port (5 tries). Later starts (after stop() or kill())
  /// reuse folder and port, like restart(). Errors: failed_precondition if already started; unavailable if the
  /// server exits, cannot be run or never answers (the message ends with the
  /// tail of its log); internal if a system call fails.
  Status start();

  /// SIGTERM, then waits up to 10 s for the exit (the server flushes the AOF
  /// on SIGTERM); SIGKILL after that. OK if nothing runs. Errors:
  /// deadline_exceeded if SIGKILL was needed (the server is gone anyway).
  /// Keeps the folder and port.
  Status stop();

  /// SIGKILL and reap, for crash tests: no shutdown work, so only what the
  /// server already wrote to its AOF survives. No-op if nothing runs.
  void kill();

  /// Stops the server if it runs (stop()), then starts it again on the same
  /// port and folder, so the AOF is replayed. Errors: failed_precondition if
  /// start() never succeeded; unavailable as start() (no port retry: the
  /// port must stay the same).
  Status restart();

  /// True while the child process exists (reaps it if it has exited).
  bool running();

  // -- observers (valid after a successful start(), kept across stop()) --
  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::filesystem::path& dir() const { return dir_; }
  /// "redis://127.0.0.1:<port>".
  std::string url() const;
  /// The server's process id, or -1 if nothing runs.
  pid_t pid() const { return pid_; }
  /// The server's stdout/stderr, "<dir>/redis.log".
  std::filesystem::path log_path() const { return dir_ / "redis.log"; }

  /// Opens a new connection (2 s connect and 5 s command timeouts).
  /// Errors: unavailable with hiredis' message.
  Status connect(ContextPtr& out) const;

 private:
  // Spawns the server on port_ (one attempt) and waits until it answers PING.
  // Sets `port_clash` when the failure looks like someone else owning the port.
  Status launch(bool& port_clash);
  // Polls the child until it answers PING as itself, exits, or the deadline passes.
  Status wait_until_ready(bool& port_clash);
  // Blocks until the child is reaped; clears pid_.
  void reap();
  // The last lines of the log, for error messages.
  std::string log_tail() const;

  // Fixed after construction.
  const std::vector<std::string> extra_args_;
  const std::string host_ = "127.0.0.1";
  // Fixed by the first successful start() (dir_ by the first attempt).
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  bool started_ = false;
  // Mutable state.
  pid_t pid_ = -1;
};

/// Fixture: one RedisServer per test suite (started in SetUpTestSuite,
/// stopped and removed in TearDownTestSuite), and per test a fresh
/// connection on a flushed database. Derive from it:
///   class RedisStore : public durable::testing::RedisTest {};
/// A test may stop, kill or restart server(); the next test's SetUp restarts
/// a server that is not running.
class RedisTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;

  /// The suite's server. REQUIRES: SetUp succeeded.
  static RedisServer& server() { return *server_; }

  /// This test's connection; owned by the fixture, valid until TearDown or
  /// the next reconnect().
  redisContext* redis() const { return redis_.get(); }

  /// Replaces redis() with a new connection (after a restart, or after an
  /// I/O error broke the old one).
  Status reconnect();

  /// Runs a command on redis(); each argument is anything convertible to
  /// std::string_view and is sent as raw bytes. Null on an I/O error.
  ///   auto r = reply("XADD", "s", "*", "f", bytes);
  template <class... Args>
  ReplyPtr reply(const Args&... args) {
    static_assert(sizeof...(Args) > 0, "reply() needs a command name");
    static_assert((std::is_convertible_v<const Args&, std::string_view> && ...),
                  "reply() arguments must be strings; format numbers with std::to_string");
    const std::string_view argv[] = {std::string_view(args)...};
    return command_argv(redis(), argv);
  }

 private:
  static inline std::unique_ptr<RedisServer> server_;
  static inline Status server_status_;  // why the suite's server failed to start
  ContextPtr redis_;
};

}  // namespace durable::testing
