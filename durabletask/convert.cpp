#include "durabletask/convert.hpp"

#include <algorithm>
#include <cstdio>

#include "base/instance_id.hpp"
#include "base/text.hpp"
#include "http/json.hpp"

namespace durable::durabletask {
namespace {

using orch::EventType;
using orch::OrchestrationStatus;
using orch::Payload;

// As the HTTP API: deeper JSON is refused before it is parsed.
constexpr size_t kMaxJsonDepth = 128;
const Payload kNil("\xc0", 1);

// Thrown inside episode_result() for an action it cannot carry out.
struct InvalidAction {
  std::string message;
};

Payload payload_or_throw(const google::protobuf::StringValue& text, bool present, const std::string& what) {
  auto p = payload_from(text, present, what);
  if (!p) throw InvalidAction{p.status().message()};
  return std::move(*p);
}

}  // namespace

std::string excerpt(std::string_view text) { return shortened(text, 200); }

Result<Payload> payload_from(const google::protobuf::StringValue& text, bool present, std::string_view what) {
  if (!present || text.value().empty()) return Payload{};
  const std::string& value = text.value();
  if (http::json_depth(value) > kMaxJsonDepth) {
    return Status::invalid_argument(std::string(what) + " is JSON nested deeper than " +
                                    std::to_string(kMaxJsonDepth) + " levels");
  }
  // Ordered: an object's keys keep the order the worker or client gave.
  auto parsed = nlohmann::ordered_json::parse(value, nullptr, false);
  if (parsed.is_discarded()) {
    return Status::invalid_argument(std::string(what) + " is not JSON: " + excerpt(value));
  }
  if (parsed.is_null()) return kNil;
  const std::vector<uint8_t> bytes = nlohmann::ordered_json::to_msgpack(parsed);
  return Payload(bytes.begin(), bytes.end());
}

std::string payload_text(const Payload& payload) {
  if (payload.empty()) return {};
  try {
    return nlohmann::ordered_json::from_msgpack(payload).dump();
  } catch (const nlohmann::ordered_json::exception&) {
    return http::payload_to_json(payload).dump();  // says what it is
  }
}

// A reason as the protocol's StringValue: a string as it is, anything else as JSON.
static std::string reason_text(const Payload& reason) {
  try {
    const auto value = nlohmann::ordered_json::from_msgpack(reason);
    if (value.is_string()) return value.get<std::string>();
  } catch (const nlohmann::ordered_json::exception&) {
  }
  return payload_text(reason);
}

std::string protocol_execution_id(std::string_view execution_id) {
  std::string out;
  out.reserve(execution_id.size());
  for (char c : execution_id) {
    if (c != '-') out.push_back(c);
  }
  return out;
}

std::string our_execution_id(std::string_view id) {
  if (id.size() != 32 || id.find('-') != std::string_view::npos) return std::string(id);
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    out.push_back(id[i]);
  }
  return out;
}

google::protobuf::Timestamp timestamp(orch::TimePoint t) {
  google::protobuf::Timestamp out;
  const int64_t ms = t.time_since_epoch().count();
  int64_t seconds = ms / 1000;
  int64_t rest = ms % 1000;
  if (rest < 0) {
    rest += 1000;
    --seconds;
  }
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(rest * 1'000'000));
  return out;
}

orch::TimePoint time_point(const google::protobuf::Timestamp& t) {
  return orch::TimePoint(std::chrono::milliseconds(t.seconds() * 1000 + t.nanos() / 1'000'000));
}

::OrchestrationStatus protocol_status(OrchestrationStatus status) {
  switch (status) {
    case OrchestrationStatus::pending: return ORCHESTRATION_STATUS_PENDING;
    case OrchestrationStatus::running: return ORCHESTRATION_STATUS_RUNNING;
    case OrchestrationStatus::completed: return ORCHESTRATION_STATUS_COMPLETED;
    case OrchestrationStatus::continued_as_new: return ORCHESTRATION_STATUS_CONTINUED_AS_NEW;
    case OrchestrationStatus::failed: return ORCHESTRATION_STATUS_FAILED;
    case OrchestrationStatus::terminated: return ORCHESTRATION_STATUS_TERMINATED;
    case OrchestrationStatus::suspended: return ORCHESTRATION_STATUS_SUSPENDED;
  }
  return ORCHESTRATION_STATUS_RUNNING;
}

void failure_to(const orch::FailureDetails& failure, ::TaskFailureDetails* out) {
  out->set_errortype(failure.error_type);
  out->set_errormessage(failure.message);
  if (!failure.stack_trace.empty()) out->mutable_stacktrace()->set_value(failure.stack_trace);
}

orch::FailureDetails failure_from(const ::TaskFailureDetails& failure) {
  orch::FailureDetails out{failure.errortype(), failure.errormessage(), failure.stacktrace().value()};
  // A chain of causes reads as one text, innermost last.
  for (const ::TaskFailureDetails* inner = failure.has_innerfailure() ? &failure.innerfailure() : nullptr; inner;
       inner = inner->has_innerfailure() ? &inner->innerfailure() : nullptr) {
    if (!out.stack_trace.empty()) out.stack_trace += "\n";
    out.stack_trace += "caused by " + inner->errortype() + ": " + inner->errormessage();
  }
  return out;
}

void event_to(const orch::HistoryEvent& e, ::HistoryEvent* out) {
  out->set_eventid(e.event_id);
  *out->mutable_timestamp() = timestamp(e.timestamp);
  switch (e.type) {
    case EventType::execution_started: {
      auto* s = out->mutable_executionstarted();
      s->set_name(e.name);
      if (!e.version.empty()) s->mutable_version()->set_value(e.version);
      if (e.fire_at != orch::TimePoint{}) *s->mutable_scheduledstarttimestamp() = timestamp(e.fire_at);
      set_payload(e.input, [&] { return s->mutable_input(); });
      s->mutable_orchestrationinstance()->set_instanceid(e.instance_id);
      s->mutable_orchestrationinstance()->mutable_executionid()->set_value(protocol_execution_id(e.execution_id));
      if (e.parent) {
        auto* p = s->mutable_parentinstance();
        p->set_taskscheduledid(e.parent->task_scheduled_id);
        p->mutable_name()->set_value(e.parent->name);
        p->mutable_orchestrationinstance()->set_instanceid(e.parent->instance_id);
        p->mutable_orchestrationinstance()->mutable_executionid()->set_value(
            protocol_execution_id(e.parent->execution_id));
      }
      return;
    }
    case EventType::execution_completed: {
      auto* c = out->mutable_executioncompleted();
      c->set_orchestrationstatus(protocol_status(e.status));
      set_payload(e.result, [&] { return c->mutable_result(); });
      if (e.failure) failure_to(*e.failure, c->mutable_failuredetails());
      return;
    }
    case EventType::execution_terminated:
      set_payload(e.input, [&] { return out->mutable_executionterminated()->mutable_input(); });
      out->mutable_executionterminated()->set_recurse(e.recursive);
      return;
    case EventType::execution_rewound: {
      auto* r = out->mutable_executionrewound();
      if (!e.input.empty()) r->mutable_reason()->set_value(reason_text(e.input));
      if (!e.instance_id.empty()) r->mutable_instanceid()->set_value(e.instance_id);
      if (!e.execution_id.empty()) r->mutable_parentexecutionid()->set_value(protocol_execution_id(e.execution_id));
      return;
    }
    case EventType::execution_suspended:
      out->mutable_executionsuspended();
      set_payload(e.input, [&] { return out->mutable_executionsuspended()->mutable_input(); });
      return;
    case EventType::execution_resumed:
      out->mutable_executionresumed();
      set_payload(e.input, [&] { return out->mutable_executionresumed()->mutable_input(); });
      return;
    case EventType::orchestrator_started:
      out->mutable_orchestratorstarted();
      return;
    case EventType::orchestrator_completed:
      out->mutable_orchestratorcompleted();
      return;
    case EventType::task_scheduled: {
      auto* t = out->mutable_taskscheduled();
      t->set_name(e.name);
      set_payload(e.input, [&] { return t->mutable_input(); });
      return;
    }
    case EventType::task_completed: {
      auto* t = out->mutable_taskcompleted();
      t->set_taskscheduledid(e.task_scheduled_id);
      set_payload(e.result, [&] { return t->mutable_result(); });
      return;
    }
    case EventType::task_failed: {
      auto* t = out->mutable_taskfailed();
      t->set_taskscheduledid(e.task_scheduled_id);
      if (e.failure) failure_to(*e.failure, t->mutable_failuredetails());
      return;
    }
    case EventType::timer_created:
      *out->mutable_timercreated()->mutable_fireat() = timestamp(e.fire_at);
      return;
    case EventType::timer_fired: {
      auto* t = out->mutable_timerfired();
      *t->mutable_fireat() = timestamp(e.fire_at);
      t->set_timerid(e.task_scheduled_id);
      return;
    }
    case EventType::event_raised: {
      auto* r = out->mutable_eventraised();
      r->set_name(e.name);
      set_payload(e.input, [&] { return r->mutable_input(); });
      return;
    }
    case EventType::event_sent: {
      auto* s = out->mutable_eventsent();
      s->set_instanceid(e.instance_id);
      s->set_name(e.name);
      set_payload(e.input, [&] { return s->mutable_input(); });
      return;
    }
    case EventType::sub_orchestration_instance_created: {
      auto* s = out->mutable_suborchestrationinstancecreated();
      s->set_instanceid(e.instance_id);
      s->set_name(e.name);
      set_payload(e.input, [&] { return s->mutable_input(); });
      if (!e.version.empty()) s->mutable_version()->set_value(e.version);
      return;
    }
    case EventType::sub_orchestration_instance_completed: {
      auto* s = out->mutable_suborchestrationinstancecompleted();
      s->set_taskscheduledid(e.task_scheduled_id);
      set_payload(e.result, [&] { return s->mutable_result(); });
      return;
    }
    case EventType::sub_orchestration_instance_failed: {
      auto* s = out->mutable_suborchestrationinstancefailed();
      s->set_taskscheduledid(e.task_scheduled_id);
      if (e.failure) failure_to(*e.failure, s->mutable_failuredetails());
      return;
    }
    case EventType::continue_as_new:
      out->mutable_continueasnew();
      set_payload(e.result, [&] { return out->mutable_continueasnew()->mutable_input(); });
      return;
    case EventType::entity_operation_called: {
      auto* c = out->mutable_entityoperationcalled();
      c->set_requestid(e.request_id);
      c->set_operation(e.name);
      set_payload(e.input, [&] { return c->mutable_input(); });
      c->mutable_targetinstanceid()->set_value(e.instance_id);
      return;
    }
    case EventType::entity_operation_signaled: {
      auto* s = out->mutable_entityoperationsignaled();
      s->set_requestid(e.request_id);
      s->set_operation(e.name);
      if (e.fire_at != orch::TimePoint{}) *s->mutable_scheduledtime() = timestamp(e.fire_at);
      set_payload(e.input, [&] { return s->mutable_input(); });
      s->mutable_targetinstanceid()->set_value(e.instance_id);
      return;
    }
    case EventType::entity_operation_completed: {
      auto* c = out->mutable_entityoperationcompleted();
      c->set_requestid(e.request_id);
      set_payload(e.result, [&] { return c->mutable_output(); });
      return;
    }
    case EventType::entity_operation_failed: {
      auto* f = out->mutable_entityoperationfailed();
      f->set_requestid(e.request_id);
      if (e.failure) failure_to(*e.failure, f->mutable_failuredetails());
      return;
    }
    case EventType::entity_lock_requested: {
      auto* l = out->mutable_entitylockrequested();
      l->set_criticalsectionid(e.request_id);
      for (const auto& id : e.lock_set) l->add_lockset(id);
      return;
    }
    case EventType::entity_lock_granted:
      out->mutable_entitylockgranted()->set_criticalsectionid(e.request_id);
      return;
    case EventType::entity_unlock_sent: {
      auto* u = out->mutable_entityunlocksent();
      u->set_criticalsectionid(e.request_id);
      u->mutable_targetinstanceid()->set_value(e.instance_id);
      return;
    }
  }
  out->mutable_genericevent();
}

void state_to(const store::InstanceRow& row, bool with_payloads, ::OrchestrationState* out) {
  out->set_instanceid(row.id);
  out->set_name(row.name);
  out->set_orchestrationstatus(protocol_status(row.status));
  if (!row.orchestration_version.empty()) out->mutable_version()->set_value(row.orchestration_version);
  if (row.scheduled_start != orch::TimePoint{}) *out->mutable_scheduledstarttimestamp() = timestamp(row.scheduled_start);
  *out->mutable_createdtimestamp() = timestamp(row.created);
  *out->mutable_lastupdatedtimestamp() = timestamp(row.updated);
  if (orch::is_terminal(row.status)) *out->mutable_completedtimestamp() = timestamp(row.updated);
  if (!row.execution_id.empty()) {
    out->mutable_executionid()->set_value(protocol_execution_id(row.execution_id));
  }
  if (row.failure) failure_to(*row.failure, out->mutable_failuredetails());
  if (with_payloads) {
    set_payload(row.custom_status, [&] { return out->mutable_customstatus(); });
    set_payload(row.input, [&] { return out->mutable_input(); });
    set_payload(row.output, [&] { return out->mutable_output(); });
  }
}

namespace {

orch::HistoryEvent scheduled(const ::OrchestratorAction& a, EventType type, orch::TimePoint now) {
  orch::HistoryEvent e;
  e.type = type;
  e.event_id = a.id();
  e.timestamp = now;
  return e;
}

orch::HistoryEvent entity_event(const ::OrchestratorAction& a, orch::TimePoint now) {
  const auto& m = a.sendentitymessage();
  switch (m.EntityMessageType_case()) {
    case ::SendEntityMessageAction::kEntityOperationCalled: {
      const auto& c = m.entityoperationcalled();
      auto e = scheduled(a, EventType::entity_operation_called, now);
      e.instance_id = c.targetinstanceid().value();
      e.name = c.operation();
      e.input = payload_or_throw(c.input(), c.has_input(), "the input of entity call '" + c.operation() + "'");
      e.request_id = c.requestid();
      return e;
    }
    case ::SendEntityMessageAction::kEntityOperationSignaled: {
      const auto& s = m.entityoperationsignaled();
      auto e = scheduled(a, EventType::entity_operation_signaled, now);
      e.instance_id = s.targetinstanceid().value();
      e.name = s.operation();
      e.input = payload_or_throw(s.input(), s.has_input(), "the input of entity signal '" + s.operation() + "'");
      e.request_id = s.requestid();
      if (s.has_scheduledtime()) e.fire_at = time_point(s.scheduledtime());
      return e;
    }
    case ::SendEntityMessageAction::kEntityLockRequested: {
      const auto& l = m.entitylockrequested();
      auto e = scheduled(a, EventType::entity_lock_requested, now);
      e.request_id = l.criticalsectionid();
      e.lock_set.assign(l.lockset().begin(), l.lockset().end());
      return e;
    }
    case ::SendEntityMessageAction::kEntityUnlockSent: {
      const auto& u = m.entityunlocksent();
      auto e = scheduled(a, EventType::entity_unlock_sent, now);
      e.instance_id = u.targetinstanceid().value();
      e.request_id = u.criticalsectionid();
      return e;
    }
    default:
      throw InvalidAction{"action " + std::to_string(a.id()) + ": a sendEntityMessage with no message"};
  }
}

std::string child_id(const std::string& parent, int32_t action_id) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ":%04x", static_cast<unsigned>(action_id));
  return parent + suffix;
}

}  // namespace

orch::EpisodeResult episode_result(const ::OrchestratorResponse& response, const std::string& instance_id,
                                   std::vector<orch::HistoryEvent> new_events, orch::TimePoint now, bool suspended) {
  orch::EpisodeResult r;
  const bool rewinding = std::any_of(new_events.begin(), new_events.end(), [](const orch::HistoryEvent& e) {
    return e.type == orch::EventType::execution_rewound;
  });
  r.new_history.reserve(new_events.size() + static_cast<size_t>(response.actions_size()) + 3);
  r.new_history.push_back(orch::events::orchestrator_started(now));
  for (auto& e : new_events) r.new_history.push_back(std::move(e));
  r.first_action = r.new_history.size();
  r.status = suspended ? OrchestrationStatus::suspended : OrchestrationStatus::running;
  std::optional<orch::HistoryEvent> completion;
  try {
    r.custom_status = payload_or_throw(response.customstatus(), response.has_customstatus(), "the custom status");
    for (const ::OrchestratorAction& a : response.actions()) {
      if (completion) break;  // nothing happens after the end
      const std::string at = "action " + std::to_string(a.id());
      switch (a.orchestratorActionType_case()) {
        case ::OrchestratorAction::kScheduleTask: {
          const auto& t = a.scheduletask();
          if (t.name().empty()) throw InvalidAction{at + ": scheduleTask without an activity name"};
          auto e = scheduled(a, EventType::task_scheduled, now);
          e.name = t.name();
          e.input = payload_or_throw(t.input(), t.has_input(), "the input of activity '" + t.name() + "'");
          r.new_history.push_back(std::move(e));
          break;
        }
        case ::OrchestratorAction::kCreateTimer: {
          auto e = scheduled(a, EventType::timer_created, now);
          e.fire_at = time_point(a.createtimer().fireat());
          r.new_history.push_back(std::move(e));
          break;
        }
        case ::OrchestratorAction::kCreateSubOrchestration: {
          const auto& c = a.createsuborchestration();
          if (c.name().empty()) throw InvalidAction{at + ": createSubOrchestration without an orchestrator name"};
          auto e = scheduled(a, EventType::sub_orchestration_instance_created, now);
          e.name = c.name();
          e.instance_id = c.instanceid().empty() ? child_id(instance_id, a.id()) : c.instanceid();
          if (Status s = validate_instance_id(e.instance_id); !s) {
            throw InvalidAction{at + ": sub-orchestration '" + c.name() + "': " + s.message()};
          }
          if (e.instance_id == instance_id) {
            throw InvalidAction{at + ": sub-orchestration '" + c.name() + "' cannot use the parent's own instance id"};
          }
          e.input = payload_or_throw(c.input(), c.has_input(), "the input of sub-orchestration '" + c.name() + "'");
          if (c.has_version()) e.version = c.version().value();
          r.new_history.push_back(std::move(e));
          break;
        }
        case ::OrchestratorAction::kSendEvent: {
          const auto& s = a.sendevent();
          auto e = scheduled(a, EventType::event_sent, now);
          e.instance_id = s.instance().instanceid();
          if (Status v = validate_instance_id(e.instance_id); !v) {
            throw InvalidAction{at + ": sendEvent '" + s.name() + "': " + v.message()};
          }
          e.name = s.name();
          e.input = payload_or_throw(s.data(), s.has_data(), "the data of event '" + s.name() + "'");
          r.new_history.push_back(std::move(e));
          break;
        }
        case ::OrchestratorAction::kSendEntityMessage:
          r.new_history.push_back(entity_event(a, now));
          break;
        case ::OrchestratorAction::kCompleteOrchestration: {
          const auto& c = a.completeorchestration();
          Payload result = payload_or_throw(c.result(), c.has_result(), "the orchestration's result");
          switch (c.orchestrationstatus()) {
            case ORCHESTRATION_STATUS_COMPLETED:
              r.status = OrchestrationStatus::completed;
              r.output = std::move(result);
              break;
            case ORCHESTRATION_STATUS_FAILED:
              r.status = OrchestrationStatus::failed;
              r.failure = c.has_failuredetails() ? failure_from(c.failuredetails())
                                                 : orch::FailureDetails{"Error", "the orchestration failed", {}};
              break;
            case ORCHESTRATION_STATUS_TERMINATED:
              r.status = OrchestrationStatus::terminated;
              r.output = std::move(result);
              break;
            case ORCHESTRATION_STATUS_CONTINUED_AS_NEW: {
              r.status = OrchestrationStatus::continued_as_new;
              orch::ContinueAsNewRequest next;
              next.input = result;
              next.version = c.newversion().value();
              for (const ::HistoryEvent& carried : c.carryoverevents()) {
                if (!carried.has_eventraised()) continue;  // only events carry over
                const auto& raised = carried.eventraised();
                next.carried_events.push_back(orch::events::event_raised(
                    now, raised.name(),
                    payload_or_throw(raised.input(), raised.has_input(), "carried-over event '" + raised.name() + "'")));
              }
              r.continue_as_new = std::move(next);
              orch::HistoryEvent e;
              e.type = EventType::continue_as_new;
              e.timestamp = now;
              e.result = std::move(result);
              completion = std::move(e);
              break;
            }
            default:
              throw InvalidAction{at + ": completeOrchestration with status " +
                                  ::OrchestrationStatus_Name(c.orchestrationstatus()) +
                                  " (Completed, Failed, Terminated or ContinuedAsNew expected)"};
          }
          if (!completion) completion = orch::events::execution_completed(now, r.status, r.output, r.failure);
          break;
        }
        case ::OrchestratorAction::kTerminateOrchestration:
          throw InvalidAction{at + ": terminateOrchestration (terminating another instance from an orchestrator) "
                                   "is not supported"};
        case ::OrchestratorAction::kRewindOrchestration: {
          // The SDK agrees to the rewind it was asked for. The history it
          // proposes is not taken: the store keeps the log and replays it
          // through orchestration/rewind.hpp's view, which keeps what a
          // retried call did (the SDKs drop every failed task).
          if (!rewinding) throw InvalidAction{at + ": rewindOrchestration, but no rewind was asked for"};
          orch::EpisodeResult agreed;
          agreed.rewound = true;
          return agreed;
        }
        default:
          throw InvalidAction{at + ": an action of no known kind"};
      }
    }
  } catch (const InvalidAction& invalid) {
    // The execution fails, with nothing of this answer carried out.
    r.new_history.resize(r.first_action);
    r.continue_as_new.reset();
    r.status = OrchestrationStatus::failed;
    r.output.clear();
    r.failure = orch::FailureDetails{"InvalidAction", invalid.message, {}};
    completion = orch::events::execution_completed(now, r.status, {}, r.failure);
  }
  r.action_count = r.new_history.size() - r.first_action;
  if (completion) r.new_history.push_back(std::move(*completion));
  r.new_history.push_back(orch::events::orchestrator_completed(now));
  return r;
}

}  // namespace durable::durabletask
