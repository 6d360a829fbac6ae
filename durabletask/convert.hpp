#pragma once
// The boundary between the Durable Task protocol's messages and ours.
//
// Payloads: the protocol carries JSON text in StringValue wrappers; we keep
// JSON-shaped msgpack (orchestration/payload.hpp). Absent, empty and null
// stay apart: an unset wrapper (or one holding "", which is what the SDKs
// send for `undefined`) is no value (an empty payload), the text "null" is
// msgpack nil, and each goes back as it came. So an instance started over
// gRPC reads the same over HTTP and in C++, and the other way round.
//
// Execution ids: ours are dashed GUIDs; the protocol shows them as 32 hex
// digits.

#include <string>
#include <string_view>

#include "base/status.hpp"
#include "durabletask/orchestrator_service.pb.h"
#include "orchestration/history.hpp"
#include "orchestration/replay_engine.hpp"
#include "store/types.hpp"

namespace durable::durabletask {

namespace orch = durable::orchestration;

/// At most 200 bytes of caller input, for error messages.
std::string excerpt(std::string_view text);

/// The payload a wrapper holds. Errors: invalid_argument "<what> is not
/// JSON: ..." (or nested too deeply).
Result<orch::Payload> payload_from(const google::protobuf::StringValue& text, bool present, std::string_view what);
/// The payload as JSON text (empty for no value).
std::string payload_text(const orch::Payload& payload);
/// Sets the wrapper `field()` returns (a mutable_* accessor) to the
/// payload's JSON text; leaves it unset for no value.
template <class Field>
void set_payload(const orch::Payload& payload, Field field) {
  if (!payload.empty()) field()->set_value(payload_text(payload));
}

std::string protocol_execution_id(std::string_view execution_id);
/// Converts back (accepts either form).
std::string our_execution_id(std::string_view execution_id);

google::protobuf::Timestamp timestamp(orch::TimePoint t);
orch::TimePoint time_point(const google::protobuf::Timestamp& t);

::OrchestrationStatus protocol_status(orch::OrchestrationStatus status);
void failure_to(const orch::FailureDetails& failure, ::TaskFailureDetails* out);
orch::FailureDetails failure_from(const ::TaskFailureDetails& failure);

/// One of our history events as the protocol's (every type has one).
void event_to(const orch::HistoryEvent& event, ::HistoryEvent* out);

/// The instance's row as OrchestrationState (inputs and outputs only when
/// `with_payloads`).
void state_to(const store::InstanceRow& row, bool with_payloads, ::OrchestrationState* out);

/// What a worker's answer to one episode means, as the C++ engine would have
/// said it: `new_events` are the episode's messages (as sent, without the
/// OrchestratorStarted), `suspended` whether the execution is suspended
/// after them. Each action becomes its "scheduled" event with the action's
/// id as event id; completeOrchestration ends the execution (continue-as-new
/// with its carried-over events). An action the runtime cannot carry out
/// (or an invalid one) fails the execution with an InvalidAction failure
/// naming it. rewindOrchestration, the answer to a rewind (`new_events`
/// hold ExecutionRewound), is EpisodeResult::rewound.
orch::EpisodeResult episode_result(const ::OrchestratorResponse& response, const std::string& instance_id,
                                   std::vector<orch::HistoryEvent> new_events, orch::TimePoint now, bool suspended);

}  // namespace durable::durabletask
