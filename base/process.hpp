#pragma once
// Child processes for the servers durable runs itself (the embedded
// redis-server, and the one in the test fixture): pick a loopback port, spawn
// with argv and a log file, tell whether a pid still runs, wait for it to end,
// stop it. Linux only (prctl, setsid, /proc).
//
// Why not std::system or posix_spawn: the child needs a new session or a
// parent-death signal, a clean signal mask and no inherited descriptors
// (an inherited socket keeps a port busy; an inherited flock keeps a folder
// locked), and we need its real pid (no shell in between).
//
// Thread affinity: every function may be called from any thread. A pid is
// only meaningful while the process (or its unreaped zombie) exists; callers
// that keep a pid for long must recheck what it is (see process_cwd).

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"

namespace durable {

/// Binds port 0 on 127.0.0.1 and returns the port the kernel chose. The port
/// is free again once this returns, so the caller races for it with everyone
/// else: retry with a new port when the server reports "Address already in
/// use". Errors: internal if a socket call fails.
Result<uint16_t> pick_free_port();

/// How a spawned process relates to the lifetime of its parent.
enum class ChildLifetime : uint8_t {
  /// PR_SET_PDEATHSIG=SIGKILL: the child dies when the *thread* that spawned
  /// it ends (so spawn from a thread that outlives the child, e.g. main).
  /// For tests: a crashed test binary leaves nothing behind.
  die_with_parent,
  /// setsid(): its own session and process group, no controlling terminal.
  /// It outlives the parent, and signals sent to the parent's terminal group
  /// (Ctrl-C, SIGHUP on hang-up) do not reach it.
  own_session,
};

struct SpawnOptions {
  /// argv[0] is the executable's path, run by execv (no PATH search, no shell).
  /// REQUIRES: non-empty.
  std::vector<std::string> argv;
  /// The child's stdout and stderr are appended here (created 0644 if missing);
  /// its stdin is /dev/null.
  std::filesystem::path log;
  ChildLifetime lifetime = ChildLifetime::die_with_parent;
  /// The child's whole environment, as NAME=VALUE; nullopt: the parent's.
  std::optional<std::vector<std::string>> environment;
  /// The log is created 0600 and the child runs with umask 077, so what it
  /// creates is its user's alone.
  bool private_files = false;
};

/// Forks and execs `options.argv`. In the child, before exec: the lifetime
/// setting above, every signal unblocked and back to its default action (a
/// parent that blocks SIGTERM for a signal thread must not pass that on), and
/// no descriptor beyond 0-2 left open. Returns the child's pid; the caller
/// must reap it (process_running / wait_for_exit do). If exec fails, the
/// child writes one line to the log and exits with code 127.
/// Errors: internal if the log or /dev/null cannot be opened, or fork fails.
Result<pid_t> spawn(const SpawnOptions& options);

/// True while `pid` exists and is not a zombie. If it is our exited child, it
/// is reaped here and its wait status stored in `*wstatus` (left alone
/// otherwise, so the caller can tell "reaped" from "gone elsewhere"). A zombie
/// that is not ours counts as ended: its parent may never reap it (a
/// container's pid 1 often does not). False for pid <= 0.
bool process_running(pid_t pid, int* wstatus = nullptr);

/// Polls process_running until the process has ended or `timeout` passed.
/// True if it ended. `wstatus` as in process_running.
bool wait_for_exit(pid_t pid, std::chrono::milliseconds timeout, int* wstatus = nullptr);

/// SIGKILL, then waits until the process has ended (reaping it if it is our
/// child). SIGKILL cannot be caught, so the wait is short unless the process
/// sits in an uninterruptible kernel call; after 10 s it gives up and returns
/// false. No-op (true) for pid <= 0.
bool kill_and_wait(pid_t pid);

/// SIGTERM, waits up to `grace` for the exit, then kill_and_wait. OK if the
/// process ended by itself. Errors: deadline_exceeded if SIGKILL was needed
/// (the message names `what` and the pid; the process is gone anyway, unless
/// even SIGKILL did not end it within 10 s, which the message says).
Status terminate(pid_t pid, std::chrono::milliseconds grace, const std::string& what);

/// "exited with code 1", "was killed by signal 9", for messages.
std::string describe_exit(int wstatus);

/// The last `max_bytes` of a file, starting at a line boundary; empty if the
/// file is missing or empty. For quoting logs in error messages.
std::string file_tail(const std::filesystem::path& path, std::size_t max_bytes);

/// /proc/<pid>/cmdline with the NUL separators turned into spaces; empty if
/// the process is gone or unreadable. (Servers may rewrite their title:
/// redis-server shows "/usr/bin/redis-server 127.0.0.1:6379".)
std::string process_command_line(pid_t pid);

/// The process's working directory (/proc/<pid>/cwd), empty if the process is
/// gone or unreadable.
std::filesystem::path process_cwd(pid_t pid);

}  // namespace durable
