#include "orchestration/context.hpp"

#include <algorithm>
#include <stdexcept>

#include "base/guid.hpp"
#include "base/instance_id.hpp"
#include "base/text.hpp"
#include "base/time.hpp"

namespace durable::orchestration {

void CriticalSection::release() {
  if (ctx_) std::exchange(ctx_, nullptr)->release_lock(id_);
}

std::string OrchestrationContext::new_guid() {
  // Durable Functions' scheme (UUID v5 over instance id, the episode's time
  // in round-trip form and a counter), plus the execution id.
  // The execution id keeps GUIDs apart across continue-as-new generations,
  // whose episodes may share a timestamp.
  return name_based_guid(instance_id_ + "_" + execution_id_ + "_" + format_utc_roundtrip(now_) +
                         "_" + std::to_string(guid_counter_++));
}

int32_t OrchestrationContext::record_action(HistoryEvent action,
                                            std::shared_ptr<detail::CompletionState> completion) {
  const int32_t seq = next_sequence_++;
  if (finished_ || tearing_down_) return seq;  // the execution is over: nothing more happens
  action.event_id = seq;
  action.timestamp = now_;
  if (completion) {
    OpenTask open{std::move(completion), action.type, action.name};
    if (action.request_id.empty()) {
      open_tasks_.emplace(seq, std::move(open));
    } else {
      open_requests_.emplace(action.request_id, std::move(open));
    }
  }
  if (replaying_) {
    unmatched_.emplace(seq, std::move(action));
  } else {
    new_actions_.push_back(std::move(action));
  }
  return seq;
}

DurableTask<void> OrchestrationContext::create_timer(TimePoint fire_at) {
  // The node waits for a timer on clocks counting nanoseconds: a later
  // time would wrap around and fire at once.
  constexpr auto kLatest =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::duration::max());
  if (fire_at.time_since_epoch() >= kLatest || fire_at.time_since_epoch() <= -kLatest) {
    throw std::invalid_argument("a timer at " + std::to_string(fire_at.time_since_epoch().count()) +
                                " ms since 1970 is past what the clock can represent (1677-09-21 to 2262-04-11)");
  }
  DurableTask<void> task;
  HistoryEvent action;
  action.type = EventType::timer_created;
  action.fire_at = fire_at;
  record_action(std::move(action), task.state());
  return task;
}

void OrchestrationContext::record_sub_orchestration(std::string name, Payload input,
                                                    std::string instance_id,
                                                    std::shared_ptr<detail::CompletionState> completion) {
  if (lock_) {
    throw LockingRulesViolation("cannot start sub-orchestration '" + name +
                                "' inside a critical section");
  }
  if (instance_id.empty()) instance_id = new_guid();
  if (Status s = validate_instance_id(instance_id); !s.is_ok()) {
    throw std::invalid_argument("sub-orchestration '" + name + "': " + s.message());
  }
  if (instance_id == instance_id_) {
    throw std::invalid_argument("sub-orchestration '" + name +
                                "' cannot use the parent's own instance id \"" + instance_id + "\"");
  }
  HistoryEvent action;
  action.type = EventType::sub_orchestration_instance_created;
  action.name = std::move(name);
  action.instance_id = std::move(instance_id);
  action.input = std::move(input);
  record_action(std::move(action), std::move(completion));
}

void OrchestrationContext::record_send_event(std::string instance_id, std::string name,
                                             Payload input) {
  HistoryEvent action;
  action.type = EventType::event_sent;
  action.instance_id = std::move(instance_id);
  action.name = std::move(name);
  action.input = std::move(input);
  record_action(std::move(action));
}

namespace {
// An entity id made in code (not parsed) may still break a rule: a '\n' in
// a key would split a wake notice, an '@' in a name makes two ids one.
void check_entity(const EntityId& entity) {
  if (Status s = entity.validate(); !s) throw std::invalid_argument(s.message());
}
}  // namespace

void OrchestrationContext::record_entity_call(const EntityId& entity, std::string op,
                                              Payload input,
                                              std::shared_ptr<detail::CompletionState> completion) {
  check_entity(entity);
  if (lock_ && !std::binary_search(lock_->entities.begin(), lock_->entities.end(), entity)) {
    throw LockingRulesViolation("cannot call entity " + entity.instance_id() +
                                " inside a critical section that does not lock it");
  }
  HistoryEvent action;
  action.type = EventType::entity_operation_called;
  action.instance_id = entity.instance_id();
  action.name = std::move(op);
  action.input = std::move(input);
  action.request_id = new_guid();
  record_action(std::move(action), std::move(completion));
}

void OrchestrationContext::record_entity_signal(const EntityId& entity, std::string op,
                                                Payload input, std::optional<TimePoint> at) {
  check_entity(entity);
  if (lock_ && std::binary_search(lock_->entities.begin(), lock_->entities.end(), entity)) {
    throw LockingRulesViolation("cannot signal entity " + entity.instance_id() +
                                " inside a critical section that locks it; call it instead");
  }
  HistoryEvent action;
  action.type = EventType::entity_operation_signaled;
  action.instance_id = entity.instance_id();
  action.name = std::move(op);
  action.input = std::move(input);
  action.request_id = new_guid();
  if (at) action.fire_at = *at;
  record_action(std::move(action));
}

LockTask OrchestrationContext::lock_entities(std::vector<EntityId> entities) {
  if (lock_) {
    throw LockingRulesViolation("cannot lock entities inside a critical section (" + lock_->id +
                                "): critical sections do not nest");
  }
  if (entities.empty()) throw std::invalid_argument("lock_entities needs at least one entity");
  for (const EntityId& e : entities) check_entity(e);
  // One global order for every orchestration: lock requests never deadlock.
  std::sort(entities.begin(), entities.end());
  entities.erase(std::unique(entities.begin(), entities.end()), entities.end());

  DurableTask<void> granted;
  HistoryEvent action;
  action.type = EventType::entity_lock_requested;
  action.request_id = new_guid();
  for (const auto& e : entities) action.lock_set.push_back(e.instance_id());
  const std::string id = action.request_id;
  record_action(std::move(action), granted.state());
  lock_ = HeldLock{id, std::move(entities)};
  return LockTask(std::move(granted), this, id);
}

void OrchestrationContext::release_lock(const std::string& section_id) {
  if (tearing_down_ || !lock_ || lock_->id != section_id) return;
  HeldLock held = std::move(*lock_);
  lock_.reset();
  for (const auto& entity : held.entities) {
    HistoryEvent action;
    action.type = EventType::entity_unlock_sent;
    action.instance_id = entity.instance_id();
    action.request_id = held.id;
    record_action(std::move(action));
  }
}

void OrchestrationContext::wait_for_event(std::string name,
                                          std::shared_ptr<detail::CompletionState> waiter) {
  std::string key = ascii_lower(name);
  auto buffered = std::find_if(buffered_events_.begin(), buffered_events_.end(),
                               [&](const HistoryEvent& e) { return iequals(e.name, key); });
  if (buffered != buffered_events_.end()) {
    Payload input = std::move(buffered->input);
    buffered_events_.erase(buffered);
    waiter->complete_with_payload(input);
    return;
  }
  event_waiters_[std::move(key)].push_back(std::move(waiter));
}

}  // namespace durable::orchestration

namespace durable::orchestration {

void OrchestrationContext::sweep_finished_frames() {
  std::erase_if(frames_, [](std::coroutine_handle<> frame) {
    if (!frame.done()) return false;
    frame.destroy();
    return true;
  });
}

}  // namespace durable::orchestration
