#include "store/redis_connection.hpp"

#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

namespace durable::store {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

Status type_mismatch(std::string_view expected, const redisReply& r) {
  std::string m = "expected ";
  m += expected;
  m += ", got ";
  m += reply_type_name(r.type);
  if (r.type == REDIS_REPLY_ERROR && r.str != nullptr) {
    m += ": ";
    m.append(r.str, r.len);
  }
  return Status::internal(std::move(m));
}

}  // namespace

// -- free functions ---------------------------------------------------------------

Status error_reply_status(std::string_view text) {
  struct Prefix {
    std::string_view prefix;
    Errc code;
  };
  static constexpr Prefix kPrefixes[] = {
      {"NOSCRIPT", Errc::not_found},
      {"DURABLE_FENCED", Errc::lease_lost},
      {"DURABLE_VERSION", Errc::failed_precondition},
      {"DURABLE_EXISTS", Errc::already_exists},
      {"DURABLE_NOTFOUND", Errc::not_found},
      {"DURABLE_FINISHED", Errc::failed_precondition},
      {"DURABLE_RUNNING", Errc::failed_precondition},
      {"DURABLE_NOTFAILED", Errc::failed_precondition},
      {"BUSYGROUP", Errc::already_exists},
      {"LOADING", Errc::unavailable},
  };
  for (const auto& p : kPrefixes) {
    if (text.starts_with(p.prefix)) return Status(p.code, std::string(text));
  }
  // Redis refuses writes while it cannot write its AOF (a full disk, most
  // often): the store is unavailable until it can, not broken.
  if (text.find("MISCONF") != std::string_view::npos) {
    return Status(Errc::unavailable, std::string(kDiskFailing) + " (" + std::string(text) + ")");
  }
  return Status::internal(std::string(text));
}

std::string_view reply_type_name(int type) {
  switch (type) {
    case REDIS_REPLY_STRING: return "STRING";
    case REDIS_REPLY_ARRAY: return "ARRAY";
    case REDIS_REPLY_INTEGER: return "INTEGER";
    case REDIS_REPLY_NIL: return "NIL";
    case REDIS_REPLY_STATUS: return "STATUS";
    case REDIS_REPLY_ERROR: return "ERROR";
    default: return "unknown reply type";
  }
}

Result<std::string> as_string(const redisReply& r) {
  if (r.type != REDIS_REPLY_STRING && r.type != REDIS_REPLY_STATUS) return type_mismatch("STRING", r);
  return std::string(r.str, r.len);
}

Result<int64_t> as_integer(const redisReply& r) {
  if (r.type != REDIS_REPLY_INTEGER) return type_mismatch("INTEGER", r);
  return static_cast<int64_t>(r.integer);
}

Result<std::span<redisReply*>> as_array(const redisReply& r, size_t expected_min) {
  if (r.type != REDIS_REPLY_ARRAY) return type_mismatch("ARRAY", r);
  if (r.elements < expected_min) {
    return Status::internal("expected ARRAY of at least " + std::to_string(expected_min) + " elements, got " +
                            std::to_string(r.elements));
  }
  if (r.elements == 0) return std::span<redisReply*>();
  return std::span<redisReply*>(r.element, r.elements);
}

// -- RedisConnection ----------------------------------------------------------------

Result<RedisConnection> RedisConnection::connect(const RedisAddress& address, std::chrono::milliseconds timeout) {
  ContextPtr ctx(redisConnectWithTimeout(address.host.c_str(), address.port, to_timeval(timeout)));
  if (!ctx) return Status(Errc::unavailable, "connect to " + address.to_string() + ": cannot allocate a context");
  if (ctx->err != 0) {
    return Status(Errc::unavailable, "connect to " + address.to_string() + ": " + ctx->errstr);
  }
  RedisConnection conn(std::move(ctx), address, timeout);
  if (Status s = conn.prepare(); !s) return s;
  return conn;
}

Status RedisConnection::prepare() {
  if (redisSetTimeout(ctx_.get(), to_timeval(timeout_)) != REDIS_OK) {
    return io_error();
  }
  broken_ = false;
  if (address_.password.empty()) return Status::ok();
  auto reply = command("AUTH", address_.password);
  if (reply) return Status::ok();
  const Status& s = reply.status();
  if (s.code() == Errc::unavailable || s.code() == Errc::deadline_exceeded) return s;
  // A rejected password is configuration, not a transient failure: never retry.
  broken_ = true;  // unauthenticated: every command would fail with NOAUTH
  return Status::invalid_argument("AUTH to " + address_.to_string() + " rejected: " + s.message());
}

Status RedisConnection::io_error() {
  broken_ = true;
  if (!ctx_) return broken_status();
  const std::string what = ctx_->errstr[0] != '\0' ? std::string(ctx_->errstr) : "connection lost";
  // hiredis reports a socket timeout as REDIS_ERR_IO with errno EAGAIN
  // ("Resource temporarily unavailable"): the command may have run.
  if (ctx_->err == REDIS_ERR_IO &&
      (errno == EAGAIN || errno == EWOULDBLOCK || what == std::strerror(EAGAIN))) {
    return Status(Errc::deadline_exceeded, "redis " + address_.to_string() + ": timeout: " + what);
  }
  return Status(Errc::unavailable, "redis " + address_.to_string() + ": " + what);
}

Status RedisConnection::broken_status() const {
  return Status(Errc::unavailable,
                "redis " + address_.to_string() + ": connection is broken (earlier I/O error); call reconnect()");
}

Result<ReplyPtr> RedisConnection::command(std::span<const std::string_view> argv) {
  if (argv.empty()) return Status::invalid_argument("redis command: empty argv");
  if (broken()) return broken_status();
  errno = 0;
  ReplyPtr reply = command_argv(ctx_.get(), argv);
  if (!reply) return io_error();
  if (reply->type == REDIS_REPLY_ERROR) return error_reply_status(std::string_view(reply->str, reply->len));
  return reply;
}

Status RedisConnection::reconnect() {
  if (!ctx_) return Status::internal("reconnect on a moved-from RedisConnection");
  errno = 0;
  if (redisReconnect(ctx_.get()) != REDIS_OK || ctx_->err != 0) {
    broken_ = true;
    return Status(Errc::unavailable, "reconnect to " + address_.to_string() + ": " + ctx_->errstr);
  }
  return prepare();
}

// -- Pipeline -----------------------------------------------------------------------

void Pipeline::add(std::span<const std::string_view> argv) {
  std::vector<std::string>& cmd = commands_.emplace_back();
  cmd.reserve(argv.size());
  for (std::string_view a : argv) cmd.emplace_back(a);
}

void Pipeline::add(std::vector<std::string>&& argv) { commands_.push_back(std::move(argv)); }

std::vector<Result<ReplyPtr>> Pipeline::execute() {
  std::vector<std::vector<std::string>> commands = std::move(commands_);
  commands_.clear();
  std::vector<Result<ReplyPtr>> results;
  results.reserve(commands.size());
  RedisConnection& conn = *connection_;

  auto fail_rest = [&](const Status& s) {
    while (results.size() < commands.size()) results.emplace_back(s);
    return std::move(results);
  };
  if (commands.empty()) return results;
  if (conn.broken()) return fail_rest(conn.broken_status());

  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    if (cmd.empty()) return fail_rest(Status::invalid_argument("redis pipeline: empty argv"));
  }
  for (const auto& cmd : commands) {
    ptrs.clear();
    lens.clear();
    for (const std::string& a : cmd) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    // Only fails on out-of-memory; the output buffer then holds a prefix of
    // the batch, which we cannot read back reliably: drop the connection.
    if (redisAppendCommandArgv(conn.ctx_.get(), static_cast<int>(cmd.size()), ptrs.data(), lens.data()) !=
        REDIS_OK) {
      conn.broken_ = true;
      return fail_rest(Status(Errc::unavailable, "redis pipeline: cannot queue command (out of memory)"));
    }
  }
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    errno = 0;
    const int rc = redisGetReply(conn.ctx_.get(), &raw);
    ReplyPtr reply(static_cast<redisReply*>(raw));
    if (rc != REDIS_OK || !reply) return fail_rest(conn.io_error());
    if (reply->type == REDIS_REPLY_ERROR) {
      results.emplace_back(error_reply_status(std::string_view(reply->str, reply->len)));
    } else {
      results.emplace_back(std::move(reply));
    }
  }
  return results;
}

}  // namespace durable::store
