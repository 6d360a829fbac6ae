#include "actors/peer_batches.hpp"

#include <algorithm>

#include "base/log.hpp"
#include "orchestration/codec.hpp"

namespace durable::actors {
namespace {

using entities::BatchResult;
using entities::BatchWork;
using entities::EntityMessage;
using entities::EntitySnapshot;
using orchestration::HistoryEvent;
using orchestration::TimePoint;

// Entity messages as the store writes them: their inbox events, encoded.
std::string encode_messages(const std::vector<EntityMessage>& messages) {
  std::vector<HistoryEvent> events;
  events.reserve(messages.size());
  for (const EntityMessage& m : messages) events.push_back(entities::to_event(m));
  return orchestration::encode_events(events);
}

Result<std::vector<EntityMessage>> decode_messages(std::string_view bytes) {
  auto events = orchestration::decode_events(bytes);
  if (!events) return events.status();
  std::vector<EntityMessage> out;
  out.reserve(events->size());
  for (const HistoryEvent& e : *events) {
    auto m = entities::from_event(e);
    if (!m) return Status::corruption("a peer's batch holds an event that is not an entity message");
    out.push_back(std::move(*m));
  }
  return out;
}

RemoteSnapshot encode_snapshot(const EntitySnapshot& s) {
  RemoteSnapshot r;
  r.has_state = s.state.has_value();
  if (s.state) r.state = *s.state;
  r.recent_request_ids.assign(s.recent_request_ids.ids().begin(), s.recent_request_ids.ids().end());
  if (s.lock) {
    r.locked = true;
    r.lock_section = s.lock->section;
    r.lock_instance = s.lock->instance;
    r.lock_execution = s.lock->execution;
  }
  r.queued = encode_messages(s.queued);
  r.scheduled = encode_messages(s.scheduled);
  return r;
}

Result<EntitySnapshot> decode_snapshot(RemoteSnapshot& r) {
  EntitySnapshot s;
  if (r.has_state) s.state = std::move(r.state);
  for (std::string& id : r.recent_request_ids) s.recent_request_ids.remember(std::move(id));
  if (r.locked) s.lock = entities::LockHolder{std::move(r.lock_section), std::move(r.lock_instance),
                                              std::move(r.lock_execution)};
  auto queued = decode_messages(r.queued);
  if (!queued) return queued.status();
  auto scheduled = decode_messages(r.scheduled);
  if (!scheduled) return scheduled.status();
  s.queued = std::move(*queued);
  s.scheduled = std::move(*scheduled);
  return s;
}

}  // namespace

void PeerBatchExecutor::run(BatchWork work, Answer answer) {
  caf::anon_send(runtime_.node_actor, PeerBatchRequest{to_remote(work), std::move(answer), by_code_});
}

void PeerBatches::send(caf::event_based_actor* me, const caf::actor& peer_actor, PeerBatchRequest& request) {
  // Answers that never came (the entity gave its batch up long ago) are forgotten.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(pending_, [&](const auto& p) { return now - p.second.sent > 2 * rt_.options.executor_timeout; });
  if (!peer_actor && request.by_code) {
    const std::string entity = request.batch.entity;
    if (parked_.insert_or_assign(entity, Parked{std::move(request), now}).second) {
      durable::logger("node")->warn("[{}] waits for a node that registers the entity", entity);
    }
    return;
  }
  if (!peer_actor) {
    durable::logger("node")->debug("[{}] batch for a peer: none has workers", request.batch.entity);
    return;
  }
  if (request.by_code) parked_.erase(request.batch.entity);  // superseded
  const uint64_t seq = next_seq_++;
  pending_.emplace(seq, Pending{peer_actor.address(), std::move(request.answer), now});
  request.batch.seq = seq;
  request.batch.origin = caf::actor_cast<caf::actor>(me);
  me->send(peer_actor, std::move(request.batch));
}

void PeerBatches::retry_parked(caf::event_based_actor* me, const Pick& pick) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<caf::actor, PeerBatchRequest>> ready;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (now - it->second.since > rt_.options.executor_timeout) {
      it = parked_.erase(it);  // its entity gave it up, and sends it again
      continue;
    }
    caf::actor peer = pick(it->first);
    if (!peer) {
      ++it;
      continue;
    }
    ready.emplace_back(std::move(peer), std::move(it->second.request));
    it = parked_.erase(it);
  }
  for (auto& [peer, request] : ready) send(me, peer, request);
}

void PeerBatches::run_for_peer(RemoteBatch& b) {
  auto log = durable::logger("node");
  auto work = from_remote(b);
  if (!work) {
    log->error("[{}] a peer's batch cannot be decoded: {}", b.entity, work.status().to_string());
    return;
  }
  const entities::EntityFn* fn = rt_.entities.find(work->entity.name());
  if (!fn && !rt_.options.foreign_batches) {
    log->warn("[{}] a peer's batch: the entity is not registered here and no SDK workers are served", b.entity);
    return;
  }
  ++rt_.counters.entity_batches_for_peers;
  auto answer = [origin = b.origin, seq = b.seq](BatchResult result) {
    caf::anon_send(origin, to_remote(seq, result));
  };
  try {
    if (fn) return entities::LocalBatchExecutor(fn).run(std::move(*work), std::move(answer));
    const entities::EntityId& entity = work->entity;
    hosted_.get(entity.instance_id(), entity.name(), "entity", rt_.options.foreign_batches)
        .run(std::move(*work), std::move(answer));
  } catch (const std::exception& ex) {
    log->error("[{}] a peer's batch crashed here: {}", b.entity, ex.what());
  }
}

void PeerBatches::on_answer(RemoteBatchAnswer& answer) {
  deliver_answer(pending_, answer, [](RemoteBatchAnswer& a) { return from_remote(a); }, "batch");
}

void PeerBatches::peer_down(const caf::actor_addr& peer) {
  std::erase_if(pending_, [&](const auto& p) { return p.second.peer == peer; });
}

RemoteBatch to_remote(const BatchWork& work) {
  RemoteBatch b;
  b.entity = work.entity.instance_id();
  b.snapshot = encode_snapshot(work.snapshot);
  b.messages = encode_messages(work.messages);
  b.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(work.now.time_since_epoch()).count();
  return b;
}

Result<BatchWork> from_remote(RemoteBatch& b) {
  BatchWork w;
  auto entity = orchestration::EntityId::parse(b.entity);
  if (!entity) return Status::corruption("a peer's batch names no entity: " + entity.status().message());
  auto snapshot = decode_snapshot(b.snapshot);
  if (!snapshot) return snapshot.status();
  auto messages = decode_messages(b.messages);
  if (!messages) return messages.status();
  w.entity = std::move(*entity);
  w.snapshot = std::move(*snapshot);
  w.messages = std::move(*messages);
  w.now = TimePoint(std::chrono::milliseconds(b.now_ms));
  return w;
}

RemoteBatchAnswer to_remote(uint64_t seq, const BatchResult& r) {
  RemoteBatchAnswer a;
  a.seq = seq;
  a.snapshot = encode_snapshot(r.snapshot);
  std::vector<HistoryEvent> events;
  for (const entities::Outbound& m : r.messages) {
    a.targets.push_back(m.target);
    a.target_executions.push_back(m.target_execution);
    events.push_back(m.event);
  }
  a.events = orchestration::encode_events(events);
  for (const entities::OperationResult& op : r.results) {
    RemoteOperation o{op.request_id, op.operation, op.result, false, {}, {}, {}};
    if (op.failure) {
      o.failed = true;
      o.error_type = op.failure->error_type;
      o.message = op.failure->message;
      o.stack_trace = op.failure->stack_trace;
    }
    a.results.push_back(std::move(o));
  }
  a.scheduled = encode_messages(r.scheduled);
  a.unscheduled = encode_messages(r.unscheduled);
  a.remembered = r.remembered;
  a.duplicates = r.duplicates;
  return a;
}

Result<BatchResult> from_remote(RemoteBatchAnswer& a) {
  BatchResult r;
  auto snapshot = decode_snapshot(a.snapshot);
  if (!snapshot) return snapshot.status();
  auto events = orchestration::decode_events(a.events);
  if (!events) return events.status();
  if (events->size() != a.targets.size() || a.targets.size() != a.target_executions.size()) {
    return Status::corruption("a peer's batch answer has messages without targets");
  }
  auto scheduled = decode_messages(a.scheduled);
  if (!scheduled) return scheduled.status();
  auto unscheduled = decode_messages(a.unscheduled);
  if (!unscheduled) return unscheduled.status();
  r.snapshot = std::move(*snapshot);
  for (size_t i = 0; i < events->size(); ++i) {
    r.messages.push_back({std::move(a.targets[i]), std::move(a.target_executions[i]), std::move((*events)[i])});
  }
  for (RemoteOperation& o : a.results) {
    entities::OperationResult op{std::move(o.request_id), std::move(o.operation), std::move(o.result), {}};
    if (o.failed) op.failure = orchestration::FailureDetails{std::move(o.error_type), std::move(o.message),
                                                             std::move(o.stack_trace)};
    r.results.push_back(std::move(op));
  }
  r.scheduled = std::move(*scheduled);
  r.unscheduled = std::move(*unscheduled);
  r.remembered = std::move(a.remembered);
  r.duplicates = a.duplicates;
  return r;
}

}  // namespace durable::actors
