#pragma once
// JSON at the HTTP edge, msgpack inside: payloads, instance status and
// history events as Durable Functions' HTTP API shows them.

#include <nlohmann/json.hpp>

#include "orchestration/history.hpp"
#include "store/types.hpp"

namespace durable::http {

using json = nlohmann::json;

/// The deepest nesting of arrays and objects in JSON text (strings skipped);
/// the text need not be valid JSON.
size_t json_depth(std::string_view text);

/// JSON null is "no value" (an empty payload); anything else is packed as
/// msgpack (payload.hpp's format).
orchestration::Payload payload_from_json(const json& value);
/// The payload as a JSON value; null when empty; a payload that is not
/// JSON-shaped msgpack (bytes from a custom packer) becomes a string that
/// says so.
json payload_to_json(const orchestration::Payload& payload);

/// name, instanceId, version ("" for none), runtimeStatus, input (when `with_input`),
/// customStatus, output, createdTime, lastUpdatedTime; a failed instance's
/// output is its failure (errorType, message, stackTrace).
json instance_json(const store::InstanceRow& row, bool with_input);
/// One history event: EventType, Timestamp and its fields (Name, Input,
/// Result, EventId, TaskScheduledId, FireAt, FailureDetails, ...); payloads
/// only when `with_payloads`.
json event_json(const orchestration::HistoryEvent& event, bool with_payloads);

}  // namespace durable::http
