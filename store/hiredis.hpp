#pragma once
// The thin layer over hiredis that everything else builds on: owning
// pointers for its objects and one binary-safe way to send a command.

#include <hiredis/hiredis.h>

#include <memory>
#include <span>
#include <string_view>

namespace durable::store {

/// Frees a synchronous hiredis reply. Stateless: ReplyPtr is one pointer wide.
/// (Replies in async callbacks belong to hiredis: never wrap them in this.)
struct ReplyDeleter {
  void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

/// Frees a hiredis context (closes the socket).
struct ContextDeleter {
  void operator()(redisContext* c) const noexcept { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

/// Sends one command with binary-safe arguments (redisCommandArgv) and waits
/// for its reply: one round trip. Returns null on an I/O error, after which
/// `ctx` is broken (ctx->err is set). An ERROR reply is returned as a reply.
/// REQUIRES: ctx is non-null and argv is non-empty.
ReplyPtr command_argv(redisContext* ctx, std::span<const std::string_view> argv);

}  // namespace durable::store
