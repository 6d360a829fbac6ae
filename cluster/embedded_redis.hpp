#pragma once
// The embedded default: without a --redis URL, a node runs its own
// redis-server on a free 127.0.0.1 port with its data in a local folder.
//
// What the folder holds (all written by us or by that server):
//   appendonlydir/   the AOF (redis 7), the only copy of the data: RDB
//                    snapshots are off (--save ""), so nothing else is replayed
//   redis.log        the server's stdout and stderr, appended across runs
//   redis.state      which server serves the folder (see ServerRecord)
//   redis.lock       flock()ed by the EmbeddedRedis that owns the folder
//   redis.password   the server's password, made with the folder
//   redis.conf       the server's config file: the password (a command line
//                    is shown by ps to every local user)
// The folder is its user's alone (0700, files 0600; the server runs with
// umask 077), and the server wants the password: other local users can
// neither read the data nor connect and FLUSHALL it.
//
// Why the server outlives a crashed node. The server runs in its own session
// (setsid) and gets no parent-death signal:
//   - A node killed with SIGKILL (OOM killer, kill -9) leaves the server
//     running with everything it acknowledged. The next start on the same
//     folder finds it through redis.state and adopts it, instead of racing a
//     second server for the same AOF. A dead server is no loss either: a fresh
//     one replays the AOF.
//   - Ctrl-C in the node's terminal signals the terminal's foreground process
//     group. If the server were in it, it would shut down while the node is
//     still draining and committing; in its own session it only stops when
//     the node, done with it, calls stop().
// The cost: a server orphaned by a crash keeps its port and memory until a
// node starts and stops on that folder again (or `redis-cli -p <port>
// shutdown`, the port being in redis.state).
//
// Supervision: once supervise() is called, a thread of its own checks every
// 200 ms that the server still runs. One that died (kill -9, a crash, the
// OOM killer) is logged once and started again on the same folder and port,
// with back-off; after kMaxRestarts failed starts in a row it gives up and
// says why. A replacement starts only once the old process is confirmed gone.
//
// Thread affinity: an EmbeddedRedis is used from one thread at a time (start,
// stop and the destructor may run on different threads); the supervising
// thread shares its state under a lock.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <string_view>

#include "base/status.hpp"
#include "store/redis_connection.hpp"

namespace durable::cluster {

/// When redis writes the AOF to disk (its `appendfsync`).
enum class Fsync : uint8_t {
  /// Once a second: a power cut loses at most the last second of writes.
  everysec,
  /// Before each reply: nothing acknowledged is lost; every write waits for the disk.
  always,
};

/// "everysec" / "always", as redis spells them.
std::string_view fsync_name(Fsync fsync);
/// Parses fsync_name's output (for --fsync). Errors: invalid_argument naming
/// the accepted values.
Result<Fsync> parse_fsync(std::string_view text);

struct EmbeddedRedisOptions {
  /// The data folder; created (with parents) if missing. Relative paths are
  /// resolved against the working directory at start().
  std::filesystem::path data_dir = ".durable";
  Fsync fsync = Fsync::everysec;
  /// The server binary (Debian's redis-server package).
  std::string binary = "/usr/bin/redis-server";
  /// How long a server may take to answer PING, whether just started or
  /// adopted; replaying a large AOF counts, so raise it for large data.
  std::chrono::milliseconds start_timeout{10000};
  /// How long stop() waits for the server to exit after SHUTDOWN (it flushes
  /// the AOF first) before it uses SIGKILL; also the grace between SIGTERM and
  /// SIGKILL when an unhealthy leftover server is replaced.
  std::chrono::milliseconds stop_timeout{10000};
};

/// `<data_dir>/redis.state`: the server that serves the folder. Written
/// atomically (temp file, fsync, rename) right after the server is spawned,
/// so a crash at any later point leaves a record; removed once stop() has seen
/// the server exit. Text, one `key=value` per line, '#' starts a comment;
/// readers ignore unknown keys (room to grow):
///   pid=12345
///   port=40123
struct ServerRecord {
  pid_t pid = -1;
  uint16_t port = 0;

  /// The record's path in `data_dir`. No I/O.
  static std::filesystem::path path(const std::filesystem::path& data_dir);
  /// Reads the record. Errors: not_found if there is none; corruption naming
  /// the file if it lacks a pid > 1 or a port in 1..65535.
  static Result<ServerRecord> read(const std::filesystem::path& data_dir);
  /// Replaces the record atomically. Errors: failed_precondition naming the
  /// file if it cannot be written.
  Status write(const std::filesystem::path& data_dir) const;
};

/// One embedded redis-server: started or adopted by start(), shut down by
/// stop() or the destructor. Owns the folder (redis.lock) while it lives.
/// Not copyable or movable (it is handed around as the unique_ptr start()
/// returns).
class EmbeddedRedis {
 public:
  /// Makes `options.data_dir` serve Redis:
  ///  1. Checks that the binary is executable and the folder can be created
  ///     and written, and locks it (redis.lock).
  ///  2. If redis.state names a live redis-server working in this folder, it
  ///     waits (up to start_timeout, so a server still LOADING its AOF
  ///     finishes) until that server answers PING on the recorded port as
  ///     itself (INFO process_id) with `CONFIG GET dir` equal to the
  ///     canonical folder; then it sets appendfsync to options.fsync (and
  ///     appendonly to yes, should someone have turned it off) and adopts it:
  ///     reused() is true. A live redis-server in this folder that fails that
  ///     check is stopped (SIGTERM, SIGKILL after stop_timeout) because two
  ///     servers must never share one AOF. A recorded pid that is dead, or
  ///     alive but not a redis-server in this folder (the pid was reused after
  ///     a reboot), is left alone and the record is overwritten.
  ///  3. Otherwise it starts a fresh server on a free 127.0.0.1 port (a new
  ///     one on each start; 5 tries if another process grabs the port first):
  ///     AOF on, appendfsync per options, RDB off, no daemonizing, logging to
  ///     redis.log; it replays the folder's AOF, and start() waits until it
  ///     answers PING.
  /// Blocks for up to start_timeout (twice when an adopted server fails and a
  /// fresh one is started). Logs lifecycle lines at info on logger "redis".
  /// Errors (each message names the folder or binary):
  ///   failed_precondition  the binary is missing or not executable; the
  ///                        folder cannot be created or written; another
  ///                        EmbeddedRedis (this or another process) holds it;
  ///                        redis.state cannot be written
  ///   unavailable          the server exited or did not answer PING in time
  ///                        (the message ends with the tail of redis.log);
  ///                        or a leftover server on the folder survived SIGKILL
  ///   internal             a system call failed (fork, socket)
  static Result<std::unique_ptr<EmbeddedRedis>> start(const EmbeddedRedisOptions& options);

  /// Failed starts in a row after which supervision gives up.
  static constexpr int kMaxRestarts = 5;

  /// Watches the server from a thread of its own (see the header comment):
  /// a server that died is started again on the same folder and port, with
  /// back-off starting at `first_retry` and doubling. After kMaxRestarts
  /// failed starts in a row, `gave_up` is called once (from that thread)
  /// with why. Call once, after start(); stop() ends the watch first.
  void supervise(std::function<void(const Status&)> gave_up,
                 std::chrono::milliseconds first_retry = std::chrono::milliseconds(500));
  /// Servers started again by supervision so far.
  int restarts() const;

  /// Stops the server as stop() does; a failure is logged (a destructor
  /// cannot report).
  ~EmbeddedRedis();
  EmbeddedRedis(const EmbeddedRedis&) = delete;
  EmbeddedRedis& operator=(const EmbeddedRedis&) = delete;

  /// Where the server listens (127.0.0.1, with the folder's password).
  /// Valid after stop() too, but nothing answers there then.
  const store::RedisAddress& address() const { return address_; }
  /// The server's pid; -1 after stop().
  pid_t pid() const { return pid_; }
  /// The password of the server serving `data_dir` (its redis.password),
  /// for tools and tests that reach it directly. Errors: not_found.
  static Result<std::string> read_password(const std::filesystem::path& data_dir);
  /// True when start() adopted a server left by an earlier run on this
  /// folder, false when it started a fresh one.
  bool reused() const { return reused_; }
  /// The canonical (absolute, symlink-free) data folder.
  const std::filesystem::path& data_dir() const { return dir_; }

  /// Sends SHUTDOWN (the server fsyncs its AOF and exits) and waits until the
  /// process has ended (reaping it if it is our child; polling when it was
  /// adopted), then removes redis.state and unlocks the folder. If SHUTDOWN
  /// cannot be sent, SIGTERM does the same. Idempotent: OK when already
  /// stopped. Errors:
  ///   deadline_exceeded    the server did not exit within stop_timeout and
  ///                        was SIGKILLed (with appendfsync everysec, up to a
  ///                        second of writes may be lost)
  ///   failed_precondition  the server refused SHUTDOWN (e.g. it cannot write
  ///                        the AOF); it is left running, with its record, so
  ///                        the next start() adopts it and nothing is lost
  /// Either way the object is stopped afterwards (pid() is -1).
  Status stop();

  // -- test hooks --
  /// Forgets the server as a SIGKILLed node would: the server keeps running,
  /// redis.state stays, the folder lock is released. pid() becomes -1.
  void TEST_abandon();

  // -- construction: start() is the only way (Passkey is private); the
  // constructor is public only so that std::make_unique can call it.
 private:
  struct Passkey {
    explicit Passkey() = default;
  };

 public:
  EmbeddedRedis(Passkey, const EmbeddedRedisOptions& options);

 private:
  // Creates, canonicalises, probes and locks the folder, makes it private
  // and gives it a password.
  Status open_folder();
  // Sets address_.password from redis.password, making one if missing.
  Status ensure_password();
  // Step 2 of start(): true if the recorded server was adopted.
  Result<bool> adopt_recorded_server();
  // True if `pid` is a redis-server working in dir_ (by /proc, no I/O to it).
  bool serves_this_folder(pid_t pid) const;
  // Waits for the recorded server, checks it serves dir_, fixes its config.
  Status adopt(const ServerRecord& record);
  // Stops a server on dir_ that could not be adopted. Errors: unavailable if
  // even SIGKILL did not end it (a fresh server must not share its AOF).
  Status stop_leftover(pid_t pid);
  // Step 3 of start(), with port retries.
  Status launch_fresh();
  // One attempt on one port: spawn, record, wait for PING.
  Status launch_on(uint16_t port, bool& port_clash);
  // Polls until pid_ answers PING on address_ as itself, exits, or the timeout passes.
  Status wait_until_ready(bool& port_clash);
  // SHUTDOWN / SIGTERM, then waits for the exit (SIGKILL at the deadline).
  Status shut_down();
  // "redis-server pid 123 on 127.0.0.1:4000 (dir /x)", for messages.
  std::string describe() const;
  // The last lines of redis.log, for error messages.
  std::string log_tail() const;
  void unlock();
  // The supervising thread's loop.
  void watch(std::function<void(const Status&)> gave_up, std::chrono::milliseconds first_retry);
  // Ends the supervising thread, if any, and waits for it.
  void end_watch();

  // Fixed after construction.
  const EmbeddedRedisOptions options_;
  // Fixed by start().
  std::filesystem::path dir_;
  store::RedisAddress address_;
  bool reused_ = false;
  // Mutable state, under mu_ once supervised.
  mutable std::mutex mu_;
  pid_t pid_ = -1;     // -1: no server is ours to stop
  int lock_fd_ = -1;   // holds the flock on redis.lock while not -1
  int restarts_ = 0;
  // Supervision.
  std::thread watcher_;
  std::condition_variable watch_wake_;
  bool watch_stopping_ = false;
};

}  // namespace durable::cluster
