// The owner's commands: loads, inbox reads, the active set, timers, dead
// letters, notices, and the episode commit.
#include "store/commands.hpp"

#include <algorithm>
#include <map>

#include "orchestration/codec.hpp"
#include "store/reply.hpp"
#include "store/rows.hpp"

namespace durable::store {
namespace {

using namespace reply;
using orchestration::decode_events;
using orchestration::encode_events;

// Notices one read returns at most.
constexpr std::string_view kNoticeBatch = "1000";

}  // namespace

std::string timer_member(std::string_view id, std::string_view execution, int32_t timer_id) {
  std::string m(id);
  m += '\n';
  m += execution;
  m += '\n';
  m += std::to_string(timer_id);
  return m;
}

Status parse_inbox_entries(std::string_view id, const redisReply& entries, std::string_view position,
                           std::vector<InboxEntry>& out, std::vector<DeadLetter>& undecodable) {
  const auto after = stream_id(position);
  return for_each_entry(entries, [&](std::string_view sid, const auto& fields) {
    if (stream_id(sid) <= after) return Status::ok();  // consumed, not yet trimmed
    // An entry holds a batch of one event ("e") and the target execution ("x").
    const std::string bytes = field(fields, "e");
    auto events = decode_events(bytes);
    if (!events || events->size() != 1) {
      undecodable.push_back({std::string(id), std::string(sid),
                             events ? "an inbox entry must hold exactly one event" : events.status().message(),
                             bytes, {}, {}});
      return Status::ok();
    }
    out.push_back({std::string(sid), std::move((*events)[0]), field(fields, "x")});
    return Status::ok();
  });
}

// ------------------------------------------------------------------ loads

std::vector<Argv> Commands::with_inbox(std::string_view id, Argv record, Argv second) const {
  Argv inbox = {"XRANGE", keys_.inbox(partition_of(id), id), "-", "+", "COUNT", std::to_string(kLoadInboxCount)};
  return {std::move(record), std::move(second), std::move(inbox)};
}

std::vector<Argv> Commands::load_commands(std::string_view id) const {
  const uint32_t p = partition_of(id);
  return with_inbox(id, {"HGETALL", keys_.instance(p, id)}, {"XRANGE", keys_.history(p, id), "-", "+"});
}

Result<LoadedInstance> Commands::parse_load(std::string_view id, std::span<const Result<ReplyPtr>> replies) {
  if (Status s = expect_replies(replies, 3, "a load"); !s) return s;
  LoadedInstance loaded;
  if (const redisReply* hash = hash_or_null(replies[0])) {
    auto row = parse_row(id, *hash);
    if (!row) return row.status();
    loaded.row = std::move(*row);
  }
  if (Status s = reply::parse_history(*replies[1].value(), loaded.history); !s) {
    return Status::corruption("instance " + std::string(id) + ": " + s.message());
  }
  if (Status s = parse_inbox_entries(id, *replies[2].value(), loaded.row ? loaded.row->inbox_position : "0-0",
                                     loaded.inbox, loaded.undecodable);
      !s) {
    return s;
  }
  // A Pending row with no history holds its start (start_command), unless
  // the inbox does (a start written before the row held it).
  const bool start_in_inbox = std::any_of(loaded.inbox.begin(), loaded.inbox.end(), [](const InboxEntry& e) {
    return e.event.type == orchestration::EventType::execution_started;
  });
  if (loaded.row && loaded.row->status == OrchestrationStatus::pending && loaded.history.empty() &&
      !start_in_inbox) {
    loaded.start = start_event(*loaded.row);
  }
  return loaded;
}

Argv Commands::inbox_command(const InboxQuery& q) const {
  const std::string start = q.after.empty() || q.after == "0-0" ? "-" : "(" + q.after;
  return {"XRANGE", keys_.inbox(partition_of(q.id), q.id), start, "+", "COUNT", std::to_string(q.count)};
}

InboxRead Commands::parse_inbox(const InboxQuery& query, const Result<ReplyPtr>& reply) {
  InboxRead read{std::vector<InboxEntry>{}, {}};
  if (!reply) {
    read.entries = reply.status();
    return read;
  }
  std::vector<InboxEntry> entries;
  if (Status s = parse_inbox_entries(query.id, **reply, "0-0", entries, read.undecodable); !s) {
    read.entries = s;
  } else {
    read.entries = std::move(entries);
  }
  return read;
}

// ------------------------------------------------------------------ scans

Argv Commands::active_command(uint32_t partition) const { return {"SMEMBERS", keys_.active(partition)}; }

Result<std::vector<std::string>> Commands::parse_active(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  std::vector<std::string> ids;
  for (redisReply* r : *list) ids.emplace_back(str(r));
  return ids;
}

Argv Commands::due_timers_command(uint32_t partition, TimePoint until) const {
  return {"ZRANGEBYSCORE", keys_.timers(partition), "-inf", ms_text(until), "WITHSCORES", "LIMIT", "0", "1000"};
}

Result<std::vector<DueTimer>> Commands::parse_due_timers(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  std::vector<DueTimer> timers;
  for (size_t i = 0; i + 1 < list->size(); i += 2) {
    const std::string_view member = str((*list)[i]);
    const auto first = member.find('\n');
    const auto last = member.rfind('\n');
    if (first == std::string_view::npos || last == first) continue;  // not ours
    DueTimer t;
    t.instance_id = std::string(member.substr(0, first));
    auto id = parse_int("timer", member.substr(last + 1));
    auto at = parse_int("score", str((*list)[i + 1]));
    if (!id || !at) continue;
    t.timer_id = static_cast<int32_t>(*id);
    t.fire_at = TimePoint(std::chrono::milliseconds(*at));
    timers.push_back(std::move(t));
  }
  return timers;
}

Argv Commands::dead_letters_command(uint32_t partition, size_t count) const {
  return {"XREVRANGE", keys_.dead_letters(partition), "+", "-", "COUNT", std::to_string(count)};
}

Result<std::vector<DeadLetter>> Commands::parse_dead_letters(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  std::vector<DeadLetter> out;
  Status s = for_each_entry(**reply, [&](std::string_view sid, const auto& fields) {
    out.push_back({field(fields, "i"), field(fields, "at"), field(fields, "r"), field(fields, "b"), std::string(sid),
                   TimePoint(std::chrono::milliseconds(stream_id(sid).first))});
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

// ------------------------------------------------------------------ notices

std::string Commands::notice_key(NoticeStream stream, uint32_t partition) const {
  return stream == NoticeStream::wake ? keys_.wake(partition) : keys_.done(partition);
}

Argv Commands::notices_command(NoticeStream stream, std::span<const WakeCursor> cursors,
                               std::chrono::milliseconds block) const {
  Argv argv = {"XREAD", "COUNT", std::string(kNoticeBatch), "BLOCK",
               std::to_string(std::max<int64_t>(1, block.count())), "STREAMS"};
  for (const WakeCursor& c : cursors) argv.push_back(notice_key(stream, c.partition));
  for (const WakeCursor& c : cursors) argv.push_back(c.last_id);
  return argv;
}

Result<std::vector<WakeNotice>> Commands::parse_notices(NoticeStream stream, std::span<WakeCursor> cursors,
                                                        const Result<ReplyPtr>& reply) const {
  if (!reply) return reply.status();
  std::vector<WakeNotice> notices;
  if (is_nil(**reply)) return notices;
  std::map<std::string, WakeCursor*, std::less<>> by_key;
  for (WakeCursor& c : cursors) by_key[notice_key(stream, c.partition)] = &c;
  auto streams = as_array(**reply);
  if (!streams) return streams.status();
  for (redisReply* one : *streams) {
    auto parts = as_array(*one, 2);
    if (!parts) return parts.status();
    auto it = by_key.find(str((*parts)[0]));
    if (it == by_key.end()) continue;
    WakeCursor& cursor = *it->second;
    Status s = for_each_entry(*(*parts)[1], [&](std::string_view sid, const auto& fields) {
      cursor.last_id = std::string(sid);
      // One notice may name several ids, one per line (ids hold no control
      // characters): a batch of signals wakes each partition once.
      const std::string ids = field(fields, "i");
      const std::string starter = field(fields, "by");
      for (size_t from = 0; from <= ids.size();) {
        const size_t end = std::min(ids.find('\n', from), ids.size());
        if (end > from) notices.push_back({cursor.partition, ids.substr(from, end - from), starter});
        from = end + 1;
      }
      return Status::ok();
    });
    if (!s) return s;
  }
  return notices;
}

Argv Commands::last_notice_command(NoticeStream stream, uint32_t partition) const {
  return {"XREVRANGE", notice_key(stream, partition), "+", "-", "COUNT", "1"};
}

Result<std::string> Commands::parse_last_notice(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  std::string last = "0-0";
  Status s = for_each_entry(**reply, [&](std::string_view sid, const auto&) {
    last = std::string(sid);
    return Status::ok();
  });
  if (!s) return s;
  return last;
}

// ------------------------------------------------------------------ episode commits

void Commands::append_message(Commit& commit, const OutboundMessage& message) const {
  const uint32_t p = partition_of(message.target_id);
  const HistoryEvent one[] = {message.event};
  commit.write("XADD", keys_.inbox(p, message.target_id),
               {"*", "e", encode_events(one), "x", message.target_execution_id});
  commit.write("XADD", keys_.wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", message.target_id});
  commit.write("SADD", keys_.active(p), {message.target_id});
}

void Commands::add_dead_letters(Commit& commit, uint32_t partition, const std::vector<DeadLetter>& letters) const {
  for (const DeadLetter& d : letters) {
    commit.write("XADD", keys_.dead_letters(partition),
                 {"MAXLEN", "~", kDeadMaxLen, "*", "i", d.instance_id, "at", d.stream_id, "r", d.reason, "b", d.bytes});
  }
}

Commit Commands::episode_commit(const EpisodeWrite& w) const {
  const std::string& id = w.row.id;
  const uint32_t p = partition_of(id);
  const std::string row_key = keys_.instance(p, id);
  Commit c = Commit::fenced(row_key, keys_.lease(p), w.node, w.epoch, w.expected_version);
  if (w.new_execution) {
    c.write("DEL", keys_.history(p, id), {});
  }
  if (!w.history_entry.empty()) c.write("XADD", keys_.history(p, id), {"*", "e", w.history_entry});
  // Within one execution only the progress fields change.
  if (w.write_row) c.write("HSET", row_key, w.new_execution ? row_fields(w.row) : row_progress_fields(w.row, w.changed));
  if (!w.consumed.empty()) c.write_members("XDEL", keys_.inbox(p, id), w.consumed);
  for (const OutboundMessage& m : w.messages) append_message(c, m);
  auto member = [&](const TimerEntry& t) {
    return timer_member(id, t.execution_id.empty() ? w.row.execution_id : t.execution_id, t.timer_id);
  };
  for (const TimerEntry& t : w.timers_created) c.write("ZADD", keys_.timers(p), {ms_text(t.fire_at), member(t)});
  for (const TimerEntry& t : w.timers_fired) c.write("ZREM", keys_.timers(p), {member(t)});
  add_dead_letters(c, p, w.dead_letters);
  if (w.inactive) c.write("SREM", keys_.active(p), {id});
  if (w.announce_done && orchestration::is_terminal(w.row.status)) {
    // Retention's index; a later finish of the same id moves its entry.
    c.write("ZADD", keys_.finished(p, static_cast<int>(w.row.status)), {ms_text(w.row.updated), id});
  }
  if (w.announce_done) {
    c.write("XADD", keys_.done(p),
            {"MAXLEN", "~", kDoneMaxLen, "*", "i", id, "s", std::to_string(static_cast<int>(w.row.status))});
  }
  return c;
}

}  // namespace durable::store
