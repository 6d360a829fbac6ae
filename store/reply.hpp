#pragma once
// Reading hiredis replies of the store's commands: stream entries, numbers,
// times. Internal to store/ (the commands' parsers and the views).

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestration/codec.hpp"
#include "store/redis_connection.hpp"

namespace durable::store::reply {

using orchestration::HistoryEvent;
using orchestration::TimePoint;

inline int64_t to_ms(TimePoint t) { return t.time_since_epoch().count(); }
inline std::string ms_text(TimePoint t) { return std::to_string(to_ms(t)); }

inline Result<int64_t> parse_int(std::string_view field, std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::corruption("field " + std::string(field) + ": not a number: '" +
                              std::string(text) + "'");
  }
  return v;
}

// "1700000000000-3" as a comparable pair; malformed ids compare as 0-0.
inline std::pair<uint64_t, uint64_t> stream_id(std::string_view id) {
  uint64_t ms = 0, seq = 0;
  const auto dash = id.find('-');
  std::from_chars(id.data(), id.data() + std::min(dash, id.size()), ms);
  if (dash != std::string_view::npos) std::from_chars(id.data() + dash + 1, id.data() + id.size(), seq);
  return {ms, seq};
}

inline std::string_view str(const redisReply* r) { return {r->str, r->len}; }

// An HGETALL reply with fields, or null for a missing hash. A reply of
// another type (not what HGETALL answers in RESP2) counts as missing too.
inline const redisReply* hash_or_null(const Result<ReplyPtr>& reply) {
  if (!reply) return nullptr;
  const redisReply* r = reply->get();
  return r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? r : nullptr;
}

// An HGETALL reply read by `parse(hash)` (a Result<T>), or empty for a
// missing hash. Errors: the reply's, a reply that is not an array, parse's.
template <class T, class Parse>
Result<std::optional<T>> parse_optional_hash(const Result<ReplyPtr>& reply, Parse parse) {
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  if (list->empty()) return std::optional<T>();
  Result<T> value = parse(**reply);
  if (!value) return value.status();
  return std::optional<T>(std::move(*value));
}

// The replies of a request of `count` commands: ok, or the first failure
// (internal when their number is wrong, naming `request`).
inline Status expect_replies(std::span<const Result<ReplyPtr>> replies, size_t count, std::string_view request) {
  if (replies.size() != count) {
    return Status::internal(std::string(request) + " has " + std::to_string(count) + " replies, got " +
                            std::to_string(replies.size()));
  }
  for (auto& r : replies) {
    if (!r) return r.status();
  }
  return Status::ok();
}

// Reads [id, [field, value, ...]] stream entries; calls fn(id, fields).
template <class Fn>
Status for_each_entry(const redisReply& entries, Fn fn) {
  auto list = as_array(entries);
  if (!list) return list.status();
  for (redisReply* entry : *list) {
    auto parts = as_array(*entry, 2);
    if (!parts) return parts.status();
    auto fields = as_array(*(*parts)[1]);
    if (!fields) return fields.status();
    std::map<std::string_view, std::string_view> map;
    for (size_t i = 0; i + 1 < fields->size(); i += 2) map[str((*fields)[i])] = str((*fields)[i + 1]);
    if (Status s = fn(str((*parts)[0]), map); !s) return s;
  }
  return Status::ok();
}

inline std::string field(const std::map<std::string_view, std::string_view>& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : std::string(it->second);
}

// History entries hold a batch each ("e"); appends their events to `out`.
inline Status parse_history(const redisReply& xrange, std::vector<HistoryEvent>& out) {
  return for_each_entry(xrange, [&](std::string_view sid, const auto& fields) {
    auto events = orchestration::decode_events(field(fields, "e"));
    if (!events) return Status::corruption("history entry " + std::string(sid) + ": " + events.status().message());
    out.insert(out.end(), std::make_move_iterator(events->begin()), std::make_move_iterator(events->end()));
    return Status::ok();
  });
}

}  // namespace durable::store::reply
