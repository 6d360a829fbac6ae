#include "entities/batch.hpp"

#include <algorithm>

#include "base/guid.hpp"
#include "base/text.hpp"
#include "orchestration/errors.hpp"

namespace durable::entities {

using orchestration::EventType;
namespace events = orchestration::events;

void EntityRegistry::add(std::string_view name, EntityFn fn) { entities_[ascii_lower(name)] = std::move(fn); }

const EntityFn* EntityRegistry::find(std::string_view name) const {
  auto it = entities_.find(ascii_lower(name));
  return it == entities_.end() ? nullptr : &it->second;
}

HistoryEvent to_event(const EntityMessage& m) {
  HistoryEvent e;
  e.request_id = m.request_id;
  e.instance_id = m.sender;
  switch (m.kind) {
    case MessageKind::call:
      e.type = EventType::entity_operation_called;
      e.name = m.operation;
      e.input = m.input;
      e.execution_id = m.sender_execution;
      break;
    case MessageKind::signal:
      e.type = EventType::entity_operation_signaled;
      e.name = m.operation;
      e.input = m.input;
      e.execution_id = m.sender_execution;
      if (m.at) e.fire_at = *m.at;
      break;
    case MessageKind::lock:
      e.type = EventType::entity_lock_requested;
      e.execution_id = m.sender_execution;
      e.lock_set = m.lock_set;
      break;
    case MessageKind::unlock:
      e.type = EventType::entity_unlock_sent;
      e.execution_id = m.sender_execution;
      break;
  }
  return e;
}

std::optional<EntityMessage> from_event(const HistoryEvent& e) {
  EntityMessage m;
  m.request_id = e.request_id;
  m.sender = e.instance_id;
  switch (e.type) {
    case EventType::entity_operation_called:
      m.kind = MessageKind::call;
      m.operation = e.name;
      m.input = e.input;
      m.sender_execution = e.execution_id;
      return m;
    case EventType::entity_operation_signaled:
      m.kind = MessageKind::signal;
      m.operation = e.name;
      m.input = e.input;
      m.sender_execution = e.execution_id;
      if (e.fire_at != TimePoint{}) m.at = e.fire_at;
      return m;
    case EventType::entity_lock_requested:
      m.kind = MessageKind::lock;
      m.sender_execution = e.execution_id;
      m.lock_set = e.lock_set;
      return m;
    case EventType::entity_unlock_sent:
      m.kind = MessageKind::unlock;
      m.sender_execution = e.execution_id;
      return m;
    default:
      return std::nullopt;
  }
}

void RequestIdWindow::remember(std::string id) {
  ids_.push_back(std::move(id));
  index_.insert(ids_.back());
  if (ids_.size() > kRecentRequestIds) {
    index_.erase(ids_.front());
    ids_.pop_front();
  }
}

void RequestIdWindow::reindex() {
  index_.clear();
  index_.reserve(ids_.size());
  for (const std::string& id : ids_) index_.insert(id);
}

std::optional<TimePoint> next_due(const EntitySnapshot& snapshot) {
  std::optional<TimePoint> first;
  for (const EntityMessage& m : snapshot.scheduled) {
    if (m.at && (!first || *m.at < *first)) first = m.at;
  }
  return first;
}

namespace {

// One batch in progress.
class Batch {
 public:
  Batch(const EntityFn* entity, const EntityId& id, EntitySnapshot snapshot, TimePoint now)
      : entity_(entity), id_(id), self_(id.instance_id()), now_(now) {
    out_.snapshot = std::move(snapshot);
  }

  // A message as it arrives: dropped if seen before, kept for later if it is
  // a signal for later, else run (or queued behind the lock).
  void arrive(EntityMessage m) {
    // An unlock shares its section's id with the lock request, and is
    // harmless twice: it is never a duplicate.
    if (!m.request_id.empty() && m.kind != MessageKind::unlock) {
      if (out_.snapshot.recent_request_ids.contains(m.request_id)) {
        ++out_.duplicates;
        return;
      }
      remember(m.request_id);
    }
    if (m.kind == MessageKind::signal && m.at && *m.at > now_) {
      out_.scheduled.push_back(m);
      out_.snapshot.scheduled.push_back(std::move(m));
      return;
    }
    deliver(std::move(m));
  }

  // Scheduled signals whose time has come, earliest first.
  void deliver_due() {
    auto& scheduled = out_.snapshot.scheduled;
    auto due = std::stable_partition(scheduled.begin(), scheduled.end(),
                                     [&](const EntityMessage& m) { return m.at && *m.at > now_; });
    std::vector<EntityMessage> ready(std::make_move_iterator(due), std::make_move_iterator(scheduled.end()));
    scheduled.erase(due, scheduled.end());
    std::stable_sort(ready.begin(), ready.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
    for (EntityMessage& m : ready) {
      out_.unscheduled.push_back(m);
      deliver(std::move(m));
    }
  }

  BatchResult finish() && { return std::move(out_); }

 private:
  void remember(const std::string& request_id) {
    out_.snapshot.recent_request_ids.remember(request_id);
    out_.remembered.push_back(request_id);
  }

  void deliver(EntityMessage m) {
    auto& lock = out_.snapshot.lock;
    // An instance runs one execution at a time: a message from another one
    // means the holder ended without unlocking (it continued as new while
    // its lock request was on its way, was quarantined, or was purged and
    // started again). Its lock is released.
    if (lock && m.sender == lock->instance && !m.sender_execution.empty() &&
        m.sender_execution != lock->execution) {
      release();
    }
    if (m.kind == MessageKind::unlock) return unlock(m);
    if (lock && (m.sender != lock->instance || m.sender_execution != lock->execution)) {
      out_.snapshot.queued.push_back(std::move(m));
      return;
    }
    if (m.kind == MessageKind::lock) {
      if (lock) {  // the holder asked again (a new section): wait for its unlock
        out_.snapshot.queued.push_back(std::move(m));
        return;
      }
      return grant(m);
    }
    run(m);
  }

  void grant(const EntityMessage& m) {
    out_.snapshot.lock = LockHolder{m.request_id, m.sender, m.sender_execution};
    auto me = std::find(m.lock_set.begin(), m.lock_set.end(), self_);
    if (me != m.lock_set.end() && me + 1 != m.lock_set.end()) {
      // The set is sorted: taking the locks in that order everywhere means
      // two sections never wait for each other.
      out_.messages.push_back({*(me + 1), {}, to_event(m)});
    } else {
      out_.messages.push_back(
          {m.sender, m.sender_execution, events::entity_lock_granted(now_, m.request_id)});
    }
  }

  void unlock(const EntityMessage& m) {
    auto& snap = out_.snapshot;
    if (snap.lock && snap.lock->section == m.request_id) return release();
    // The section ended before its request got here (the orchestration
    // finished): drop the request if it waits, and refuse it if it comes later.
    std::erase_if(snap.queued, [&](const EntityMessage& q) {
      return q.kind == MessageKind::lock && q.request_id == m.request_id;
    });
    if (!out_.snapshot.recent_request_ids.contains(m.request_id)) remember(m.request_id);
  }

  // What waited runs now, in order, until a lock request takes the lock again.
  void release() {
    auto& snap = out_.snapshot;
    snap.lock.reset();
    std::vector<EntityMessage> waiting = std::move(snap.queued);
    snap.queued.clear();
    for (EntityMessage& w : waiting) deliver(std::move(w));
  }

  void run(const EntityMessage& m) {
    OperationResult result{m.request_id, m.operation, {}, std::nullopt};
    if (m.operation == kDeleteOperation) {
      out_.snapshot.state.reset();
    } else if (!entity_) {
      result.failure = FailureDetails{"EntityNotFound",
                                      "no entity named '" + id_.name() + "' is registered on this node", {}};
    } else {
      // Orchestrations started without an id get one from the request, so a
      // batch run again after a crash starts the same instances.
      const std::string seed = self_ + "\n" + m.request_id + "\n";
      EntityContext ctx(id_, m.operation, m.input, out_.snapshot.state,
                        [&seed](size_t n) { return name_based_guid(seed + "start" + std::to_string(n)); });
      try {
        (*entity_)(ctx);
        out_.snapshot.state = ctx.state_payload();
        result.result = ctx.result();
        size_t n = 0;
        for (SignalOut& s : ctx.signals()) {
          EntityMessage signal{MessageKind::signal, name_based_guid(seed + "signal" + std::to_string(n++)),
                               std::move(s.operation), std::move(s.input), self_, {}, {}, s.at};
          out_.messages.push_back({s.target.instance_id(), {}, to_event(signal)});
        }
        for (StartOut& s : ctx.starts()) {
          std::string execution = name_based_guid(seed + "execution" + s.instance_id);
          out_.messages.push_back({s.instance_id, execution,
                                   events::execution_started(now_, s.name, s.instance_id, s.input, execution)});
        }
      } catch (...) {
        result.failure = orchestration::failure_from_exception(std::current_exception());
      }
    }
    if (m.kind == MessageKind::call) {
      out_.messages.push_back(
          {m.sender, m.sender_execution,
           result.failure ? events::entity_operation_failed(now_, m.request_id, *result.failure)
                          : events::entity_operation_completed(now_, m.request_id, result.result)});
    }
    out_.results.push_back(std::move(result));
  }

  const EntityFn* entity_;
  const EntityId& id_;
  const std::string self_;
  const TimePoint now_;
  BatchResult out_;
};

}  // namespace

BatchResult run_batch(const EntityFn* entity, const EntityId& id, EntitySnapshot snapshot,
                      std::vector<EntityMessage> incoming, TimePoint now) {
  Batch batch(entity, id, std::move(snapshot), now);
  batch.deliver_due();
  for (EntityMessage& m : incoming) batch.arrive(std::move(m));
  return std::move(batch).finish();
}

}  // namespace durable::entities
