#pragma once
// A synchronous hiredis (0.14, RESP2) connection with errors as values.
//
// Thread affinity: a RedisConnection (and any Pipeline on it) is used by one
// thread at a time; it holds no locks. Moving it to another thread between
// calls is fine.
//
// Error mapping, shared by RedisConnection::command and Pipeline::execute:
//   - I/O error or NULL reply: the connection marks itself broken (every later
//     call returns unavailable without I/O until reconnect() succeeds):
//       deadline_exceeded  the socket timeout expired (the command may have run),
//       unavailable        any other I/O error (connection refused/reset, EOF).
//   - REDIS_REPLY_ERROR: a Status whose message is the server's text verbatim
//     (see error_reply_status), the connection stays usable.
// Arguments always travel through redisCommandArgv / redisAppendCommandArgv,
// so they are binary safe (NUL, 0xFF); nothing is formatted with %s.

#include <hiredis/hiredis.h>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/hiredis.hpp"
#include "store/redis_address.hpp"

namespace durable::store {


/// Maps the text of a REDIS_REPLY_ERROR to a Status that keeps the text as
/// its message. By prefix:
///   NOSCRIPT         -> not_found (EVALSHA of an unloaded script: reload/EVAL)
///   DURABLE_FENCED   -> lease_lost (our commit function's stale-epoch error)
///   DURABLE_VERSION  -> failed_precondition (our commit function's version check)
///   DURABLE_EXISTS   -> already_exists (start of an instance that still runs)
///   DURABLE_NOTFOUND -> not_found (a message for an instance that does not exist)
///   DURABLE_FINISHED -> failed_precondition (a message for a finished instance)
///   DURABLE_RUNNING  -> failed_precondition (a purge of an unfinished instance)
///   BUSYGROUP        -> already_exists (XGROUP CREATE of an existing group)
///   LOADING          -> unavailable (server still loading its data; retry)
///   ...MISCONF...    -> unavailable, the message starting with kDiskFailing
///                       (writes refused: the AOF cannot be written)
///   anything else    -> internal (WRONGTYPE, ERR syntax, ... are our bugs)
/// No I/O.
Status error_reply_status(std::string_view text);
/// How a refused write (MISCONF) is described: the disk, not Redis, is the problem.
inline constexpr std::string_view kDiskFailing =
    "the store cannot write to its disk (full?), so it refuses writes until it can";

/// Name of a reply type ("STRING", "ARRAY", "INTEGER", "NIL", "STATUS",
/// "ERROR", or "TYPE <n>"), for messages.
std::string_view reply_type_name(int type);

// -- typed readers: no I/O; the reply must outlive what they return -----------

/// The bytes of a STRING or STATUS reply. Errors: internal "expected STRING,
/// got NIL" (or ARRAY, INTEGER, ...; an ERROR reply's text is appended).
Result<std::string> as_string(const redisReply& r);
/// The value of an INTEGER reply. Errors: internal "expected INTEGER, got ...".
Result<int64_t> as_integer(const redisReply& r);
/// The elements of an ARRAY reply with at least `expected_min` elements; the
/// span points into `r` (valid while `r` lives). Errors: internal "expected
/// ARRAY, got STRING" or "expected ARRAY of at least 3 elements, got 2".
Result<std::span<redisReply*>> as_array(const redisReply& r, size_t expected_min = 0);
/// True for a NIL reply (e.g. GET of a missing key, XREADGROUP timeout).
inline bool is_nil(const redisReply& r) { return r.type == REDIS_REPLY_NIL; }

/// One synchronous connection. Move-only; a moved-from connection is broken()
/// and every call on it returns unavailable (reconnect() returns internal).
class RedisConnection {
 public:
  /// Connects (TCP) with `timeout` as connect timeout, then sets `timeout` as
  /// the socket timeout for every later command (so a blocking command such
  /// as XREADGROUP BLOCK must block for less than that). Sends AUTH if
  /// `address.password` is set. Round trips: 0, or 1 with AUTH.
  /// Errors: unavailable with hiredis' errstr if the connection fails;
  /// invalid_argument with the server's text if AUTH is rejected (wrong
  /// password, or no password configured on the server).
  static Result<RedisConnection> connect(const RedisAddress& address,
                                         std::chrono::milliseconds timeout);

  RedisConnection(RedisConnection&&) noexcept = default;
  RedisConnection& operator=(RedisConnection&&) noexcept = default;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;
  ~RedisConnection() = default;

  /// Runs one command; `argv` (command name first, non-empty) is sent as raw
  /// bytes and only needs to live for the call. One round trip. Returns the
  /// reply, which is never of type ERROR. Errors: as described at the top of
  /// this file (I/O: unavailable / deadline_exceeded and broken() becomes
  /// true; server error: error_reply_status); unavailable without I/O if
  /// already broken; invalid_argument if argv is empty.
  Result<ReplyPtr> command(std::span<const std::string_view> argv);

  /// Convenience: command("XADD", key, "*", "f", bytes). Each argument is
  /// anything convertible to std::string_view (format numbers yourself).
  template <class... Args>
    requires(sizeof...(Args) > 0 && (std::convertible_to<const Args&, std::string_view> && ...))
  Result<ReplyPtr> command(const Args&... args) {
    const std::string_view argv[] = {std::string_view(args)...};
    return command(std::span<const std::string_view>(argv));
  }

  /// True after an I/O error (or when moved-from): call reconnect().
  bool broken() const { return broken_ || !ctx_; }

  /// Reconnects to the same address (redisReconnect), sets the socket timeout
  /// again and re-sends AUTH. Round trips: 0, or 1 with AUTH. On success
  /// broken() is false. Errors: as connect(); internal if moved-from.
  Status reconnect();

  const RedisAddress& address() const { return address_; }

  /// The socket, for AsyncStore, which after the handshake does its own
  /// non-blocking I/O on it and never calls command() again. -1 if broken.
  int fd() const { return broken() ? -1 : ctx_->fd; }

 private:
  friend class Pipeline;
  RedisConnection(ContextPtr ctx, RedisAddress address, std::chrono::milliseconds timeout)
      : ctx_(std::move(ctx)), address_(std::move(address)), timeout_(timeout) {}

  // Sets the socket timeout and sends AUTH if configured.
  Status prepare();
  // Marks the connection broken and turns ctx_->err/errstr into a Status.
  Status io_error();
  // Status for calls on a broken connection (no I/O).
  Status broken_status() const;

  ContextPtr ctx_;
  RedisAddress address_;
  std::chrono::milliseconds timeout_{0};
  bool broken_ = false;
};

/// A batch of commands sent in one go and read back in order. Build it, then
/// execute() once. Commands are copied into the Pipeline and nothing touches
/// the socket before execute(), so dropping an unexecuted Pipeline is safe.
/// Same thread affinity as its connection, which must outlive it.
class Pipeline {
 public:
  explicit Pipeline(RedisConnection& connection) : connection_(&connection) {}

  /// Queues one command (copied; `argv` need not outlive the call).
  /// REQUIRES: argv non-empty.
  void add(std::span<const std::string_view> argv);
  /// Queues one command, taking its arguments without a copy.
  void add(std::vector<std::string>&& argv);
  template <class... Args>
    requires(sizeof...(Args) > 0 && (std::convertible_to<const Args&, std::string_view> && ...))
  void add(const Args&... args) {
    const std::string_view argv[] = {std::string_view(args)...};
    add(std::span<const std::string_view>(argv));
  }

  size_t size() const { return commands_.size(); }

  /// Sends every queued command, then reads back exactly one reply per
  /// command, even after server errors, so the connection never
  /// desynchronises. Returns size() results in queue order, each as
  /// RedisConnection::command would. An I/O error mid-way marks the
  /// connection broken: that command and all after it get the I/O Status
  /// (unavailable / deadline_exceeded). On a broken connection every result
  /// is unavailable without I/O. Round trips: one (hiredis writes the whole
  /// buffer, then reads). Clears the queue.
  std::vector<Result<ReplyPtr>> execute();

 private:
  RedisConnection* connection_;  // non-owning; must outlive the Pipeline
  std::vector<std::vector<std::string>> commands_;
};

}  // namespace durable::store
