// The entities' commands: the record (a hash holding the snapshot), its
// load, and the fenced commit of a batch. Record fields are in
// docs/format.md ("Entities").
#include <msgpack.hpp>

#include <algorithm>

#include "store/reply.hpp"
#include "store/commands.hpp"

namespace durable::store {
namespace {

using namespace reply;
using entities::EntityMessage;
using entities::EntitySnapshot;
using entities::LockHolder;
using orchestration::decode_events;
using orchestration::encode_events;

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

Argv Commands::entity_command(std::string_view id) const { return {"HGETALL", keys_.entity(partition_of(id), id)}; }

Result<std::optional<EntityRecord>> Commands::parse_entity(std::string_view id, const Result<ReplyPtr>& reply) {
  return parse_optional_hash<EntityRecord>(reply, [&](const redisReply& hash) { return parse_record(id, hash); });
}

std::vector<Argv> Commands::entity_load_commands(std::string_view id) const {
  const uint32_t p = partition_of(id);
  return with_inbox(id, {"HGETALL", keys_.entity(p, id)}, {"LRANGE", keys_.entity_requests(p, id), "0", "-1"});
}

Result<LoadedEntity> Commands::parse_entity_load(std::string_view id, std::span<const Result<ReplyPtr>> replies) {
  if (Status s = expect_replies(replies, 3, "an entity load"); !s) return s;
  LoadedEntity loaded;
  if (const redisReply* hash = hash_or_null(replies[0])) {
    auto record = parse_record(id, *hash);
    if (!record) return record.status();
    loaded.record = std::move(*record);
  }
  // The ids outlive a clean-up of the record (for a while), so a retry
  // after it is still recognised.
  auto ids = as_array(*replies[1].value());
  if (!ids) return ids.status();
  if (!ids->empty() && !loaded.record) loaded.record.emplace();
  for (redisReply* r : *ids) loaded.record->snapshot.recent_request_ids.remember(std::string(str(r)));
  if (Status s = parse_inbox_entries(id, *replies[2].value(), loaded.record ? loaded.record->inbox_position : "0-0",
                                     loaded.inbox, loaded.undecodable);
      !s) {
    return s;
  }
  return loaded;
}

Commit Commands::entity_commit(const EntityWrite& w) const {
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
  add_dead_letters(c, p, w.dead_letters);
  c.remove_if_drained(keys_.active(p), w.id, inbox);
  return c;
}

}  // namespace durable::store
