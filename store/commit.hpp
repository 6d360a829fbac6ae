#pragma once
// Commit: one call of the durable_commit function (store/functions.cpp): a
// guard, then a list of writes applied atomically if the guard holds.
//
//   Commit c = Commit::fenced(row_key, lease_key, "node1", epoch, version);
//   c.write("XADD", history_key, {"*", "e", bytes});
//   c.write("HSET", row_key, {"s", "2"});
//   pipeline.add(std::move(c).argv());
//
// Keys travel as KEYS, so a commit names every key it touches, as Redis
// Cluster requires. The one exception is the listing index: the function
// derives its two keys from an instance row's key (same hash tag, so the
// same slot) and keeps them itself (docs/format.md "Listing index").
//
// The commit's shape (guard, op codes, key indices, argument counts)
// travels as one string of small integers, its "layout", so the function
// reads it with one string.byte instead of converting a number per
// argument; strings (node, versions, the ops' arguments) follow it as
// arguments of their own.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "store/hiredis.hpp"

namespace durable::store {

class Commit {
 public:
  /// The writer owns the partition (`lease_key` held by `node` at `epoch`,
  /// unexpired by Redis' clock) and has seen version `expected_version` of
  /// the row; the commit bumps the version. Errors at execution:
  /// lease_lost (DURABLE_FENCED), failed_precondition (DURABLE_VERSION).
  static Commit fenced(std::string row_key, std::string lease_key, std::string_view node,
                       uint64_t epoch, uint64_t expected_version);
  /// The row is absent or final (a start); bumps the version. Error:
  /// already_exists (DURABLE_EXISTS).
  static Commit create(std::string row_key);
  /// For a create commit: the ops written so far run only when the row
  /// exists (they clear what a finished execution left behind).
  void only_when_replacing();
  /// The row exists and is not final (a raised event, terminate, ...).
  /// Errors: not_found (DURABLE_NOTFOUND), failed_precondition (DURABLE_FINISHED).
  static Commit live(std::string row_key);
  /// The row is still at `expected_version` and the stream `inbox_key` is
  /// empty (an entity's clean-up). Error: failed_precondition (DURABLE_VERSION).
  static Commit idle(std::string row_key, const std::string& inbox_key, uint64_t expected_version);
  /// The row exists and is final (a purge). Errors: not_found,
  /// failed_precondition (DURABLE_RUNNING).
  static Commit finished(std::string row_key);
  /// The row exists and is Failed (a rewind). Errors: not_found,
  /// failed_precondition (DURABLE_NOTFAILED), whose message ends with the
  /// row's status number: read it with not_failed_status().
  static Commit failed(std::string row_key);
  /// The status number a DURABLE_NOTFAILED error names; -1 for another error.
  static int not_failed_status(const Status& error);

  /// Appends one write: `command` is one of XADD HSET HDEL DEL XDEL SADD SREM
  /// ZADD ZREM RPUSH LTRIM EXPIRE PERSIST, applied to `key` with `args`.
  void write(std::string_view command, const std::string& key,
             std::initializer_list<std::string_view> args);
  void write(std::string_view command, const std::string& key, const std::vector<std::string>& args);

  /// A command whose arguments are a list of members (XDEL ids, SREM
  /// members), as several ops of at most kMaxMembers each: Lua cannot unpack
  /// much more than 8,000 arguments in one call.
  void write_members(std::string_view command, const std::string& key, const std::vector<std::string>& members);
  static constexpr size_t kMaxMembers = 1000;

  /// SREM `member` from `set_key` only if the stream `stream_key` is empty
  /// when this op runs (after the commit's own XDELs): a message that
  /// arrived meanwhile keeps the member in the set.
  void remove_if_drained(const std::string& set_key, std::string_view member, const std::string& stream_key);
  /// COPY `key` to `destination` (replacing it) when this op runs; nothing
  /// when `key` does not exist.
  void copy(const std::string& key, const std::string& destination);

  bool empty() const { return layout_.size() <= guard_size_; }

  /// The ops by code (code i + 1 is kOps[i]), as the function's OPS table
  /// lists them.
  static constexpr std::string_view kOps[] = {"XADD", "HSET",  "HDEL",   "DEL",   "XDEL",    "SADD",    "SREM",
                                              "ZADD", "ZREM",  "RPUSH",  "LTRIM", "EXPIRE",  "PERSIST", "SREMIFDRAINED",
                                              "COPY"};

  /// FCALL durable_commit <numkeys> <keys...> <layout> <strings...>, moving
  /// the arguments out (the commit is spent).
  std::vector<std::string> argv() &&;

  /// Several commits' argv() as one call of durable_commit_many (group
  /// commit in one function call), consuming them: each is checked and
  /// applied under its own guard, and a guard that fails fails only its
  /// own commit. Read the reply with parse_many_reply.
  static std::vector<std::string> merge(std::vector<std::vector<std::string>>&& argvs);
  /// One result per merged commit, as parse_reply; when the whole call
  /// failed (I/O, or a Lua error, which may have left some applied), every
  /// commit gets that error.
  static std::vector<Result<uint64_t>> parse_many_reply(const Result<ReplyPtr>& reply, size_t count);

  /// Reads the reply of executing argv(): the new version for fenced and
  /// create commits, 0 for live and final. Errors: the execution's Status, or internal
  /// for a reply of the wrong type.
  static Result<uint64_t> parse_reply(const Result<ReplyPtr>& reply);

 private:
  Commit(uint32_t guard, std::string row_key);
  uint32_t key_index(const std::string& key);
  void add_op(std::string_view command, const std::string& key, size_t argument_count);

  std::vector<std::string> keys_;
  std::map<std::string, uint32_t, std::less<>> key_positions_;  // key -> 1-based index
  // Guard code and its key indices, then per op: code, key index, argument
  // count (SREMIFDRAINED adds its stream's key index, COPY its destination's).
  std::vector<uint32_t> layout_;
  size_t guard_size_ = 0;
  uint32_t op_count_ = 0;
  std::vector<std::string> strings_;  // the guard's strings, then the ops' arguments
};

}  // namespace durable::store
