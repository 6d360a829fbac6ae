#include "store/store.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <thread>

#include "orchestration/codec.hpp"
#include "store/functions.hpp"
#include "store/reply.hpp"

namespace durable::store {
namespace {

using namespace reply;

using orchestration::decode_events;
using orchestration::encode_events;
using orchestration::is_terminal;

// Wake notices one read returns at most.
constexpr std::string_view kWakeBatch = "1000";

std::vector<std::string_view> views(const std::vector<std::string>& argv) {
  return {argv.begin(), argv.end()};
}

// The id in the reply of XREVRANGE key + - COUNT 1: the stream's last id,
// "0-0" when it is empty.
Result<std::string> last_stream_id(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  std::string last = "0-0";
  Status s = for_each_entry(**reply, [&](std::string_view sid, const auto&) {
    last = std::string(sid);
    return Status::ok();
  });
  if (!s) return s;
  return last;
}

std::string timer_member(std::string_view id, std::string_view execution, int32_t timer_id) {
  std::string m(id);
  m += '\n';
  m += execution;
  m += '\n';
  m += std::to_string(timer_id);
  return m;
}

// An inbox entry holds a batch of one event ("e") and the target execution ("x").
Status parse_inbox_entry(std::string_view instance_id, std::string_view sid,
                         const std::map<std::string_view, std::string_view>& fields,
                         std::vector<InboxEntry>& out, std::vector<DeadLetter>& undecodable) {
  const std::string bytes = field(fields, "e");
  auto events = decode_events(bytes);
  if (!events || events->size() != 1) {
    undecodable.push_back({std::string(instance_id), std::string(sid),
                           events ? "an inbox entry must hold exactly one event"
                                  : events.status().message(),
                           bytes});
    return Status::ok();
  }
  out.push_back({std::string(sid), std::move((*events)[0]), field(fields, "x")});
  return Status::ok();
}

}  // namespace

// ------------------------------------------------------------------ rows

bool stream_id_less(std::string_view a, std::string_view b) { return stream_id(a) < stream_id(b); }

std::vector<std::string> row_fields(const InstanceRow& row) {
  const FailureDetails none;
  const FailureDetails& f = row.failure ? *row.failure : none;
  // The fields every episode writes come first: Redis finds a field of a
  // small hash by walking them in order.
  return {"ut", ms_text(row.updated),
          "s",  std::to_string(static_cast<int>(row.status)),
          "ip", row.inbox_position.empty() ? "0-0" : row.inbox_position,
          "cs", row.custom_status,
          "n",  row.name,
          "x",  row.execution_id,
          "ct", ms_text(row.created),
          "in", row.input,
          "out", row.output,
          "fe", row.failure ? "1" : "",
          "ft", f.error_type,
          "fm", f.message,
          "fs", f.stack_trace};
}

std::vector<std::string> row_progress_fields(const InstanceRow& row, EpisodeWrite::Changed changed) {
  std::vector<std::string> fields = {"ut", ms_text(row.updated)};
  if (changed.status) fields.insert(fields.end(), {"s", std::to_string(static_cast<int>(row.status))});
  if (changed.custom_status) fields.insert(fields.end(), {"cs", row.custom_status});
  if (changed.inbox_position) {
    fields.insert(fields.end(), {"ip", row.inbox_position.empty() ? "0-0" : row.inbox_position});
  }
  if (is_terminal(row.status)) {
    fields.insert(fields.end(), {"out", row.output});
    // The execution's first write cleared them; only a failure sets them.
    if (row.failure) {
      fields.insert(fields.end(), {"fe", "1", "ft", row.failure->error_type, "fm", row.failure->message, "fs",
                                   row.failure->stack_trace});
    }
  }
  return fields;
}

Result<InstanceRow> parse_row(std::string_view id, const redisReply& hgetall) {
  auto list = as_array(hgetall);
  if (!list) return list.status();
  std::map<std::string_view, std::string_view> m;
  for (size_t i = 0; i + 1 < list->size(); i += 2) m[str((*list)[i])] = str((*list)[i + 1]);
  InstanceRow row;
  row.id = std::string(id);
  row.name = field(m, "n");
  row.input = field(m, "in");
  row.output = field(m, "out");
  row.custom_status = field(m, "cs");
  row.execution_id = field(m, "x");
  row.inbox_position = field(m, "ip");
  if (!field(m, "fe").empty()) {
    row.failure = FailureDetails{field(m, "ft"), field(m, "fm"), field(m, "fs")};
  }
  auto status = parse_int("s", field(m, "s"));
  if (!status) return Status::corruption("instance " + row.id + ": " + status.status().message());
  if (*status < 0 || *status > orchestration::kMaxOrchestrationStatus) {
    return Status::corruption("instance " + row.id + ": unknown status " + std::to_string(*status));
  }
  row.status = static_cast<OrchestrationStatus>(*status);
  for (auto [name, target] : {std::pair{"ct", &row.created}, std::pair{"ut", &row.updated}}) {
    auto ms = parse_int(name, field(m, name));
    if (!ms) return Status::corruption("instance " + row.id + ": " + ms.status().message());
    *target = TimePoint(std::chrono::milliseconds(*ms));
  }
  if (auto v = m.find("v"); v != m.end()) {
    auto version = parse_int("v", v->second);
    if (!version) return Status::corruption("instance " + row.id + ": " + version.status().message());
    row.version = static_cast<uint64_t>(*version);
  }
  return row;
}

// ------------------------------------------------------------------ Store

Result<Store> Store::connect(StoreOptions options) {
  auto connection = RedisConnection::connect(options.address, options.timeout);
  if (!connection) return connection.status();
  Store store(std::move(options), std::move(*connection));
  if (Status s = load_functions(store.connection_); !s) return s;
  return store;
}

Status Store::reconnect() {
  if (Status s = connection_.reconnect(); !s) return s;
  return load_functions(connection_);
}

Status Store::check_hub() {
  auto reply = connection_.command("FCALL", "durable_hub_meta", "1", keys_.meta(),
                                   std::to_string(options_.partitions),
                                   std::to_string(orchestration::kFormatVersion));
  if (!reply) return reply.status();
  auto recorded = as_integer(**reply);
  if (!recorded) return recorded.status();
  if (static_cast<uint32_t>(*recorded) != options_.partitions) {
    return Status::failed_precondition(
        "hub '" + keys_.hub() + "' was created with " + std::to_string(*recorded) +
        " partitions; this node is configured for " + std::to_string(options_.partitions) +
        " (use --partitions " + std::to_string(*recorded) + ", or another hub)");
  }
  return Status::ok();
}

// ------------------------------------------------------------------ leases

Result<LeaseGrant> Store::acquire_lease(uint32_t partition, std::string_view node,
                                        std::chrono::milliseconds ttl) {
  auto reply = connection_.command("FCALL", "durable_lease_acquire", "1", keys_.lease(partition),
                                   node, std::to_string(ttl.count()));
  if (!reply) return reply.status();
  auto parts = as_array(**reply, 3);
  if (!parts) return parts.status();
  auto epoch = as_integer(*(*parts)[0]);
  auto owner = as_string(*(*parts)[1]);
  auto left = as_integer(*(*parts)[2]);
  if (!epoch || !owner || !left) return Status::internal("malformed durable_lease_acquire reply");
  return LeaseGrant{static_cast<uint64_t>(*epoch), *owner, std::chrono::milliseconds(*left)};
}

Status Store::renew_lease(uint32_t partition, std::string_view node, uint64_t epoch,
                          std::chrono::milliseconds ttl) {
  auto reply = connection_.command("FCALL", "durable_lease_renew", "1", keys_.lease(partition), node,
                                   std::to_string(epoch), std::to_string(ttl.count()));
  return reply ? Status::ok() : reply.status();
}

Status Store::release_lease(uint32_t partition, std::string_view node, uint64_t epoch) {
  auto reply = connection_.command("FCALL", "durable_lease_release", "1", keys_.lease(partition),
                                   node, std::to_string(epoch));
  return reply ? Status::ok() : reply.status();
}

// ------------------------------------------------------------------ owner reads

std::vector<std::vector<std::string>> Store::load_commands(std::string_view id) const {
  const uint32_t p = partition_of(id);
  return {{"HGETALL", keys_.instance(p, id)},
          {"XRANGE", keys_.history(p, id), "-", "+"},
          {"XRANGE", keys_.inbox(p, id), "-", "+", "COUNT", std::to_string(kLoadInboxCount)}};
}

Result<LoadedInstance> Store::load(std::string_view id) {
  Pipeline pipe(connection_);
  for (auto& command : load_commands(id)) pipe.add(std::move(command));
  auto replies = pipe.execute();
  return parse_load(id, replies);
}

Result<LoadedInstance> Store::parse_load(std::string_view id, std::span<const Result<ReplyPtr>> replies) {
  if (replies.size() != 3) return Status::internal("a load has 3 replies, got " + std::to_string(replies.size()));
  for (auto& r : replies) {
    if (!r) return r.status();
  }
  LoadedInstance loaded;
  if (auto fields = as_array(*replies[0].value()); fields && !fields->empty()) {
    auto row = parse_row(id, *replies[0].value());
    if (!row) return row.status();
    loaded.row = std::move(*row);
  }
  if (Status s = parse_history(*replies[1].value(), loaded.history); !s) {
    return Status::corruption("instance " + std::string(id) + ": " + s.message());
  }
  const auto position = stream_id(loaded.row ? loaded.row->inbox_position : "0-0");
  Status s = for_each_entry(*replies[2].value(), [&](std::string_view sid, const auto& fields) {
    if (stream_id(sid) <= position) return Status::ok();  // consumed, not yet trimmed
    return parse_inbox_entry(id, sid, fields, loaded.inbox, loaded.undecodable);
  });
  if (!s) return s;
  // A Pending row with no history holds its start (start_commit), unless
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

std::vector<std::string> Store::inbox_command(const InboxQuery& q) const {
  const std::string start = q.after.empty() || q.after == "0-0" ? "-" : "(" + q.after;
  return {"XRANGE", keys_.inbox(partition_of(q.id), q.id), start, "+", "COUNT", std::to_string(q.count)};
}

InboxRead Store::parse_inbox(const InboxQuery& query, const Result<ReplyPtr>& reply) {
  InboxRead read{std::vector<InboxEntry>{}, {}};
  if (!reply) {
    read.entries = reply.status();
    return read;
  }
  std::vector<InboxEntry> entries;
  Status s = for_each_entry(**reply, [&](std::string_view sid, const auto& fields) {
    return parse_inbox_entry(query.id, sid, fields, entries, read.undecodable);
  });
  if (s) {
    read.entries = std::move(entries);
  } else {
    read.entries = s;
  }
  return read;
}

Result<std::vector<InboxEntry>> Store::read_inbox(std::string_view id, std::string_view after,
                                                  size_t count, std::vector<DeadLetter>& undecodable) {
  const InboxQuery query{std::string(id), std::string(after), count};
  const auto argv = inbox_command(query);
  const auto v = views(argv);
  InboxRead read = parse_inbox(query, connection_.command(std::span<const std::string_view>(v)));
  for (DeadLetter& d : read.undecodable) undecodable.push_back(std::move(d));
  return std::move(read.entries);
}

void Store::append_message(Commit& commit, const OutboundMessage& message) const {
  const uint32_t p = partition_of(message.target_id);
  const HistoryEvent one[] = {message.event};
  commit.write("XADD", keys_.inbox(p, message.target_id),
               {"*", "e", encode_events(one), "x", message.target_execution_id});
  commit.write("XADD", keys_.wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", message.target_id});
  commit.write("SADD", keys_.active(p), {message.target_id});
}

Commit Store::episode_commit(const EpisodeWrite& w) const {
  const std::string& id = w.row.id;
  const uint32_t p = partition_of(id);
  const std::string row_key = keys_.instance(p, id);
  Commit c = Commit::fenced(row_key, keys_.lease(p), w.node, w.epoch, w.expected_version);
  if (w.new_execution) {
    c.write("DEL", keys_.history(p, id), {});
    c.write("ZADD", keys_.index(p), {ms_text(w.row.created), id});
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
  for (const DeadLetter& d : w.dead_letters) {
    c.write("XADD", keys_.dead_letters(p),
            {"MAXLEN", "~", kDeadMaxLen, "*", "i", d.instance_id, "at", d.stream_id, "r", d.reason, "b", d.bytes});
  }
  if (w.inactive) c.write("SREM", keys_.active(p), {id});
  if (w.announce_done) {
    c.write("XADD", keys_.done(p),
            {"MAXLEN", "~", kDoneMaxLen, "*", "i", id, "s", std::to_string(static_cast<int>(w.row.status))});
  }
  return c;
}

std::vector<Result<uint64_t>> Store::execute(std::vector<Commit>&& commits) {
  Pipeline pipe(connection_);
  for (Commit& c : commits) pipe.add(std::move(c).argv());
  std::vector<Result<uint64_t>> out;
  out.reserve(commits.size());
  for (auto& reply : pipe.execute()) out.push_back(Commit::parse_reply(reply));
  return out;
}

Result<uint64_t> Store::execute(Commit commit) {
  const auto argv = std::move(commit).argv();
  const auto v = views(argv);
  return Commit::parse_reply(connection_.command(std::span<const std::string_view>(v)));
}

Result<std::vector<WakeNotice>> Store::read_wake(std::span<WakeCursor> cursors,
                                                 std::chrono::milliseconds block) {
  return read_notices(&Keys::wake, cursors, block);
}

Result<std::vector<WakeNotice>> Store::read_done(std::span<WakeCursor> cursors, std::chrono::milliseconds block) {
  return read_notices(&Keys::done, cursors, block);
}

Result<std::vector<std::string>> Store::done_positions() {
  Pipeline pipe(connection_);
  for (uint32_t p = 0; p < partitions(); ++p) pipe.add("XREVRANGE", keys_.done(p), "+", "-", "COUNT", "1");
  std::vector<std::string> positions;
  for (auto& reply : pipe.execute()) {
    auto last = last_stream_id(reply);
    if (!last) return last.status();
    positions.push_back(std::move(*last));
  }
  return positions;
}

Result<std::vector<WakeNotice>> Store::read_notices(std::string (Keys::*stream)(uint32_t) const,
                                                    std::span<WakeCursor> cursors, std::chrono::milliseconds block) {
  std::vector<std::string> argv = {"XREAD", "COUNT", std::string(kWakeBatch), "BLOCK",
                                   std::to_string(std::max<int64_t>(1, block.count())), "STREAMS"};
  std::map<std::string, WakeCursor*> by_key;
  for (WakeCursor& c : cursors) {
    argv.push_back((keys_.*stream)(c.partition));
    by_key[argv.back()] = &c;
  }
  for (const WakeCursor& c : cursors) argv.push_back(c.last_id);
  const auto v = views(argv);
  auto reply = connection_.command(std::span<const std::string_view>(v));
  if (!reply) return reply.status();
  std::vector<WakeNotice> notices;
  if (is_nil(**reply)) return notices;
  auto streams = as_array(**reply);
  if (!streams) return streams.status();
  for (redisReply* stream : *streams) {
    auto parts = as_array(*stream, 2);
    if (!parts) return parts.status();
    auto it = by_key.find(std::string(str((*parts)[0])));
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

Result<std::string> Store::wake_position(uint32_t partition) {
  return last_stream_id(connection_.command("XREVRANGE", keys_.wake(partition), "+", "-", "COUNT", "1"));
}

std::vector<std::string> Store::active_command(uint32_t partition) const {
  return {"SMEMBERS", keys_.active(partition)};
}

Result<std::vector<std::string>> Store::parse_active(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  std::vector<std::string> ids;
  for (redisReply* r : *list) ids.emplace_back(str(r));
  return ids;
}

Result<std::vector<std::string>> Store::active(uint32_t partition) {
  const auto argv = active_command(partition);
  const auto v = views(argv);
  return parse_active(connection_.command(std::span<const std::string_view>(v)));
}

Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> Store::active_by_status() {
  Pipeline members(connection_);
  for (uint32_t p = 0; p < partitions(); ++p) members.add(active_command(p));
  Pipeline statuses(connection_);
  for (auto& reply : members.execute()) {
    auto ids = parse_active(reply);
    if (!ids) return ids.status();
    for (const std::string& id : *ids) statuses.add("HGET", keys_.instance(partition_of(id), id), "s");
  }
  std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1> counts{};
  for (auto& reply : statuses.execute()) {
    if (!reply) return reply.status();
    if (is_nil(**reply)) continue;  // messages for an instance that does not exist (yet)
    const auto s = parse_int("status", str(reply->get()));
    if (s && *s >= 0 && *s <= orchestration::kMaxOrchestrationStatus) ++counts[static_cast<size_t>(*s)];
  }
  return counts;
}

std::vector<std::string> Store::due_timers_command(uint32_t partition, TimePoint until) const {
  return {"ZRANGEBYSCORE", keys_.timers(partition), "-inf", ms_text(until), "WITHSCORES", "LIMIT", "0", "1000"};
}

Result<std::vector<DueTimer>> Store::parse_due_timers(const Result<ReplyPtr>& reply) {
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

Result<std::vector<DueTimer>> Store::due_timers(uint32_t partition, TimePoint until) {
  const auto argv = due_timers_command(partition, until);
  const auto v = views(argv);
  return parse_due_timers(connection_.command(std::span<const std::string_view>(v)));
}

Result<std::vector<DeadLetter>> Store::dead_letters(uint32_t partition, size_t count) {
  auto reply = connection_.command("XREVRANGE", keys_.dead_letters(partition), "+", "-", "COUNT",
                                   std::to_string(count));
  if (!reply) return reply.status();
  std::vector<DeadLetter> out;
  Status s = for_each_entry(**reply, [&](std::string_view, const auto& fields) {
    out.push_back({field(fields, "i"), field(fields, "at"), field(fields, "r"), field(fields, "b")});
    return Status::ok();
  });
  if (!s) return s;
  return out;
}

// ------------------------------------------------------------------ client writes

namespace {

InstanceRow start_row(const HistoryEvent& started, TimePoint now) {
  InstanceRow row;
  row.id = started.instance_id;
  row.name = started.name;
  row.input = started.input;
  row.created = now;
  row.updated = now;
  row.execution_id = started.execution_id;
  return row;
}

}  // namespace

HistoryEvent start_event(const InstanceRow& row) {
  return orchestration::events::execution_started(row.created, row.name, row.id, row.input, row.execution_id);
}

Commit Store::start_commit(const HistoryEvent& started, TimePoint now, std::string_view starter) const {
  const std::string& id = started.instance_id;
  const uint32_t p = partition_of(id);
  const std::string row_key = keys_.instance(p, id);
  Commit c = Commit::create(row_key);
  // Whatever the previous (finished) execution left is not for this one: its
  // history (there is none without a row), and messages sent to the id
  // before this start. The row holds the start itself (start_event).
  c.write("DEL", keys_.history(p, id), {});
  c.only_when_replacing();
  c.write("DEL", keys_.inbox(p, id), {});
  c.write("HSET", row_key, row_fields(start_row(started, now)));
  c.write("ZADD", keys_.index(p), {ms_text(now), id});
  if (starter.empty()) {
    c.write("XADD", keys_.wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", id});
  } else {
    c.write("XADD", keys_.wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", id, "by", starter});
  }
  c.write("SADD", keys_.active(p), {id});
  return c;
}

std::vector<std::string> Store::start_command(const HistoryEvent& started, TimePoint now,
                                              std::string_view starter) const {
  return start_commit(started, now, starter).argv();
}

Result<LoadedInstance> Store::parse_start(const HistoryEvent& started, TimePoint now, const Result<ReplyPtr>& reply) {
  auto version = Commit::parse_reply(reply);
  if (!version) {
    if (version.status().code() == Errc::already_exists) {
      return Status::already_exists("an instance with id '" + started.instance_id +
                                    "' already exists and has not finished");
    }
    return version.status();
  }
  LoadedInstance loaded;
  loaded.row = start_row(started, now);
  loaded.row->version = *version;
  loaded.start = start_event(*loaded.row);
  return loaded;
}

Status Store::start(const HistoryEvent& started, TimePoint now) {
  const auto argv = start_command(started, now);
  const auto v = views(argv);
  auto loaded = parse_start(started, now, connection_.command(std::span<const std::string_view>(v)));
  return loaded ? Status::ok() : loaded.status();
}

std::vector<Result<LoadedInstance>> Store::start_many(std::span<const HistoryEvent> started, TimePoint now,
                                                     std::string_view starter) {
  Pipeline pipe(connection_);
  for (const HistoryEvent& e : started) pipe.add(start_command(e, now, starter));
  auto replies = pipe.execute();
  std::vector<Result<LoadedInstance>> out;
  out.reserve(started.size());
  for (size_t i = 0; i < started.size(); ++i) out.push_back(parse_start(started[i], now, replies[i]));
  return out;
}

std::vector<std::string> Store::send_command(std::string_view id, const HistoryEvent& message) const {
  Commit c = Commit::live(keys_.instance(partition_of(id), id));
  append_message(c, {std::string(id), message, {}});
  return std::move(c).argv();
}

Status Store::parse_send(std::string_view id, const Result<ReplyPtr>& reply) {
  auto done = Commit::parse_reply(reply);
  if (done) return Status::ok();
  switch (done.status().code()) {
    case Errc::not_found:
      return Status::not_found("no instance with id '" + std::string(id) + "'");
    case Errc::failed_precondition:
      return Status::failed_precondition("instance '" + std::string(id) + "' has already finished");
    default:
      return done.status();
  }
}

Status Store::send(std::string_view id, const HistoryEvent& message) {
  const auto argv = send_command(id, message);
  const auto v = views(argv);
  return parse_send(id, connection_.command(std::span<const std::string_view>(v)));
}

}  // namespace durable::store
