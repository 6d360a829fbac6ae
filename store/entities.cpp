// The store's side of durable entities: the entity record (a hash holding the
// snapshot), the fenced commit of a batch, the fast path for signals,
// queries and clean-up. Record fields are in docs/format.md ("Entities").
#include <msgpack.hpp>

#include <algorithm>

#include "store/reply.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;
using entities::EntityMessage;
using entities::EntitySnapshot;
using entities::LockHolder;
using orchestration::decode_events;
using orchestration::encode_events;

// How long a cleaned-up entity's request ids are kept.
constexpr std::chrono::seconds kCleanedRequestIdsTtl{3600};

std::string pack_lock(const std::optional<LockHolder>& lock) {
  if (!lock) return {};
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, std::vector<std::string>{lock->section, lock->instance, lock->execution});
  return {buffer.data(), buffer.size()};
}

std::string pack_messages(const std::vector<EntityMessage>& messages) {
  if (messages.empty()) return {};
  std::vector<orchestration::HistoryEvent> events;
  events.reserve(messages.size());
  for (const EntityMessage& m : messages) events.push_back(to_event(m));
  return encode_events(events);
}

template <class T>
Status unpack(std::string_view bytes, T& out) {
  try {
    msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
    oh.get().convert(out);
    return Status::ok();
  } catch (const std::exception& e) {
    return Status::corruption(e.what());
  }
}

Status unpack_messages(std::string_view bytes, std::vector<EntityMessage>& out) {
  if (bytes.empty()) return Status::ok();
  auto events = decode_events(bytes);
  if (!events) return events.status();
  for (const auto& e : *events) {
    auto m = entities::from_event(e);
    if (!m) return Status::corruption("not an entity message: " + std::string(event_type_name(e.type)));
    out.push_back(std::move(*m));
  }
  return Status::ok();
}

Result<EntityRecord> parse_record(std::string_view id, const redisReply& hgetall) {
  auto list = as_array(hgetall);
  if (!list) return list.status();
  std::map<std::string_view, std::string_view> m;
  for (size_t i = 0; i + 1 < list->size(); i += 2) m[str((*list)[i])] = str((*list)[i + 1]);
  auto fail = [&](const std::string& what) {
    return Status::corruption("entity " + std::string(id) + ": " + what);
  };
  EntityRecord r;
  if (field(m, "hs") == "1") r.snapshot.state = field(m, "st");
  if (auto lk = field(m, "lk"); !lk.empty()) {
    std::vector<std::string> lock;
    if (Status s = unpack(lk, lock); !s || lock.size() != 3) return fail("lock: " + s.message());
    r.snapshot.lock = LockHolder{lock[0], lock[1], lock[2]};
  }
  if (Status s = unpack_messages(field(m, "q"), r.snapshot.queued); !s) return fail("queue: " + s.message());
  if (Status s = unpack_messages(field(m, "sc"), r.snapshot.scheduled); !s) return fail("schedule: " + s.message());
  r.inbox_position = field(m, "ip");
  if (auto ut = field(m, "ut"); !ut.empty()) {
    auto ms = parse_int("ut", ut);
    if (!ms) return fail(ms.status().message());
    r.updated = TimePoint(std::chrono::milliseconds(*ms));
  }
  if (auto v = field(m, "v"); !v.empty()) {
    auto version = parse_int("v", v);
    if (!version) return fail(version.status().message());
    r.version = static_cast<uint64_t>(*version);
  }
  return r;
}

// Timers of scheduled signals: "<entity id>\n<request id>\n0", so the
// partition's timer poll (which wakes the id before the first newline)
// treats them like orchestration timers.
std::string signal_timer(std::string_view id, const EntityMessage& m) {
  std::string member(id);
  member += '\n';
  member += m.request_id;
  member += "\n0";
  return member;
}

}  // namespace

std::vector<std::vector<std::string>> Store::entity_load_commands(std::string_view id) const {
  const uint32_t p = partition_of(id);
  return {{"HGETALL", keys_.entity(p, id)},
          {"LRANGE", keys_.entity_requests(p, id), "0", "-1"},
          {"XRANGE", keys_.inbox(p, id), "-", "+", "COUNT", std::to_string(kLoadInboxCount)}};
}

Result<LoadedEntity> Store::parse_entity_load(std::string_view id, std::span<const Result<ReplyPtr>> replies) {
  if (replies.size() != 3) return Status::internal("an entity load has 3 replies, got " + std::to_string(replies.size()));
  for (auto& r : replies) {
    if (!r) return r.status();
  }
  LoadedEntity loaded;
  if (auto fields = as_array(*replies[0].value()); fields && !fields->empty()) {
    auto record = parse_record(id, *replies[0].value());
    if (!record) return record.status();
    loaded.record = std::move(*record);
  }
  // The ids outlive a clean-up of the record (for a while), so a retry
  // after it is still recognised.
  auto ids = as_array(*replies[1].value());
  if (!ids) return ids.status();
  if (!ids->empty() && !loaded.record) loaded.record.emplace();
  for (redisReply* r : *ids) loaded.record->snapshot.recent_request_ids.remember(std::string(str(r)));
  const auto position = stream_id(loaded.record ? loaded.record->inbox_position : "0-0");
  std::vector<InboxEntry>& inbox = loaded.inbox;
  Status s = for_each_entry(*replies[2].value(), [&](std::string_view sid, const auto& fields) {
    if (stream_id(sid) <= position) return Status::ok();
    auto events = decode_events(field(fields, "e"));
    if (!events || events->size() != 1) {
      loaded.undecodable.push_back({std::string(id), std::string(sid),
                                    events ? "an inbox entry must hold exactly one event" : events.status().message(),
                                    field(fields, "e")});
      return Status::ok();
    }
    inbox.push_back({std::string(sid), std::move((*events)[0]), field(fields, "x")});
    return Status::ok();
  });
  if (!s) return s;
  return loaded;
}

Commit Store::entity_commit(const EntityWrite& w) const {
  const uint32_t p = partition_of(w.id);
  const std::string key = keys_.entity(p, w.id);
  const EntitySnapshot& snap = w.record.snapshot;
  Commit c = Commit::fenced(key, keys_.lease(p), w.node, w.epoch, w.expected_version);
  c.write("HSET", key,
          std::vector<std::string>{"hs", snap.state ? "1" : "", "st", snap.state.value_or(""),
                                   "lk", pack_lock(snap.lock),
                                   "q", pack_messages(snap.queued), "sc", pack_messages(snap.scheduled),
                                   "ip", w.record.inbox_position.empty() ? "0-0" : w.record.inbox_position,
                                   "ut", ms_text(w.record.updated)});
  // Only the new ids are written: a hot entity's window is not rewritten per batch.
  if (!w.remembered.empty()) {
    const std::string requests = keys_.entity_requests(p, w.id);
    c.write_members("RPUSH", requests, w.remembered);
    c.write("LTRIM", requests, {"-" + std::to_string(entities::kRecentRequestIds), "-1"});
  }
  // A new record (or one cleaned up and used again) joins the index, and
  // keeps its request ids for good again.
  if (w.expected_version == 0) {
    c.write("ZADD", keys_.entities(p), {"0", w.id});
    c.write("PERSIST", keys_.entity_requests(p, w.id), {});
  }
  const std::string inbox = keys_.inbox(p, w.id);
  if (!w.consumed.empty()) c.write_members("XDEL", inbox, w.consumed);
  for (const OutboundMessage& m : w.messages) append_message(c, m);
  for (const EntityMessage& m : w.scheduled) {
    c.write("ZADD", keys_.timers(p), {ms_text(*m.at), signal_timer(w.id, m)});
  }
  for (const EntityMessage& m : w.unscheduled) c.write("ZREM", keys_.timers(p), {signal_timer(w.id, m)});
  for (const DeadLetter& d : w.dead_letters) {
    c.write("XADD", keys_.dead_letters(p),
            {"MAXLEN", "~", kDeadMaxLen, "*", "i", d.instance_id, "at", d.stream_id, "r", d.reason, "b", d.bytes});
  }
  c.remove_if_drained(keys_.active(p), w.id, inbox);
  return c;
}

std::vector<std::vector<std::string>> Store::messages_commands(std::span<const OutboundMessage> messages) const {
  std::vector<std::vector<std::string>> commands;
  if (messages.empty()) return commands;
  commands.reserve(messages.size() + 4);
  commands.push_back({"MULTI"});
  // One wake notice and one active-set update per partition, however many
  // messages and targets it gets.
  std::map<uint32_t, std::vector<std::string_view>> targets;
  for (const OutboundMessage& m : messages) {
    const uint32_t p = partition_of(m.target_id);
    const HistoryEvent one[] = {m.event};
    if (m.target_execution_id.empty()) {
      commands.push_back({"XADD", keys_.inbox(p, m.target_id), "*", "e", encode_events(one)});
    } else {
      commands.push_back({"XADD", keys_.inbox(p, m.target_id), "*", "e", encode_events(one), "x", m.target_execution_id});
    }
    targets[p].push_back(m.target_id);
  }
  for (auto& [p, ids] : targets) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::string lines;
    std::vector<std::string> sadd = {"SADD", keys_.active(p)};
    for (std::string_view id : ids) {
      if (!lines.empty()) lines += '\n';
      lines += id;
      sadd.emplace_back(id);
    }
    commands.push_back({"XADD", keys_.wake(p), "MAXLEN", "~", std::string(kWakeMaxLen), "*", "i", std::move(lines)});
    commands.push_back(std::move(sadd));
  }
  commands.push_back({"EXEC"});
  return commands;
}

Status Store::parse_messages(std::span<const Result<ReplyPtr>> replies) {
  for (auto& r : replies) {
    if (!r) return r.status();
  }
  if (replies.empty()) return Status::ok();
  const redisReply& exec = *replies.back().value();
  if (is_nil(exec)) return Status::internal("the transaction writing the messages was aborted");
  for (size_t i = 0; i < exec.elements; ++i) {
    if (exec.element[i]->type == REDIS_REPLY_ERROR) {
      return Status::internal("writing the messages failed: " + std::string(str(exec.element[i])));
    }
  }
  return Status::ok();
}

Status Store::send_messages(std::span<const OutboundMessage> messages) {
  Pipeline pipe(connection_);
  for (auto& command : messages_commands(messages)) pipe.add(std::move(command));
  auto replies = pipe.execute();
  return parse_messages(replies);
}

Result<std::optional<EntityRecord>> Store::get_entity(std::string_view id) {
  auto reply = connection_.command("HGETALL", keys_.entity(partition_of(id), id));
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  if (list->empty()) return std::optional<EntityRecord>();
  auto record = parse_record(id, **reply);
  if (!record) return record.status();
  return std::optional<EntityRecord>(std::move(*record));
}

Result<EntityPage> Store::list_entities(std::string_view id_prefix, size_t page_size, std::string_view continuation,
                                        bool include_empty) {
  if (page_size == 0) return Status::invalid_argument("page size must be at least 1");
  // Every partition's index holds its ids in order: take the next ids from
  // each, merge, keep the first page_size that pass the filter.
  const std::string from = continuation.empty() ? "[" + std::string(id_prefix) : "(" + std::string(continuation);
  if (!continuation.empty() && !continuation.starts_with(id_prefix)) {
    return Status::invalid_argument("continuation token does not belong to this listing");
  }
  const std::string to = "[" + std::string(id_prefix) + "\xff";
  EntityPage page;
  std::string after = from;
  for (;;) {
    Pipeline ids(connection_);
    const std::string count = std::to_string(page_size + 1);
    for (uint32_t p = 0; p < options_.partitions; ++p) {
      ids.add("ZRANGEBYLEX", keys_.entities(p), after, to, "LIMIT", "0", count);
    }
    std::vector<std::string> candidates;
    for (auto& reply : ids.execute()) {
      if (!reply) return reply.status();
      auto list = as_array(**reply);
      if (!list) return list.status();
      for (redisReply* r : *list) candidates.emplace_back(str(r));
    }
    std::sort(candidates.begin(), candidates.end());
    if (candidates.empty()) return page;
    if (candidates.size() > page_size + 1) candidates.resize(page_size + 1);
    Pipeline records(connection_);
    for (const std::string& id : candidates) records.add("HGETALL", keys_.entity(partition_of(id), id));
    auto replies = records.execute();
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (!replies[i]) return replies[i].status();
      if (page.entities.size() == page_size) {
        page.continuation = page.entities.back().id;
        return page;
      }
      after = "(" + candidates[i];
      auto fields = as_array(*replies[i].value());
      if (!fields || fields->empty()) continue;  // cleaned up meanwhile
      auto record = parse_record(candidates[i], *replies[i].value());
      if (!record) return record.status();
      if (!include_empty && !record->snapshot.state) continue;
      page.entities.push_back({candidates[i], std::move(*record)});
    }
  }
}

Result<EntityCleanup> Store::clean_entities() {
  EntityCleanup done;
  std::string continuation;
  std::vector<OutboundMessage> unlocks;
  for (;;) {
    auto page = list_entities("@", 500, continuation, true);
    if (!page) return page.status();
    for (const EntityListing& e : page->entities) {
      const EntitySnapshot& snap = e.record.snapshot;
      const uint32_t p = partition_of(e.id);
      if (snap.lock) {
        auto holder = get(snap.lock->instance);
        if (!holder) return holder.status();
        const bool gone = !*holder || orchestration::is_terminal((*holder)->status) ||
                          (*holder)->execution_id != snap.lock->execution;
        if (gone) {
          entities::EntityMessage unlock{entities::MessageKind::unlock, snap.lock->section, {}, {},
                                         snap.lock->instance, {}, {}, {}};
          unlocks.push_back({e.id, to_event(unlock), {}});
          ++done.locks_released;
        }
        continue;
      }
      if (!snap.empty()) continue;
      // Only if nothing changed since it was read and no message waits.
      Commit c = Commit::idle(keys_.entity(p, e.id), keys_.inbox(p, e.id), e.record.version);
      c.write("DEL", keys_.entity(p, e.id), {});
      c.write("DEL", keys_.inbox(p, e.id), {});
      // The request ids stay a while: a retry of a signal the entity has
      // seen must still be recognised when it comes back.
      c.write("EXPIRE", keys_.entity_requests(p, e.id), {std::to_string(kCleanedRequestIdsTtl.count())});
      c.write("ZREM", keys_.entities(p), {e.id});
      auto removed = execute(std::move(c));
      if (removed) {
        ++done.removed;
      } else if (removed.status().code() != Errc::failed_precondition) {
        return removed.status();
      }
    }
    if (page->continuation.empty()) break;
    continuation = page->continuation;
  }
  if (Status s = send_messages(unlocks); !s) return s;
  return done;
}

}  // namespace durable::store
