#include "http/json.hpp"

#include <algorithm>

#include "base/time.hpp"

namespace durable::http {

using orchestration::EventType;
using orchestration::HistoryEvent;
using orchestration::Payload;

size_t json_depth(std::string_view text) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Payload payload_from_json(const json& value) {
  if (value.is_null()) return {};
  const std::vector<uint8_t> bytes = json::to_msgpack(value);
  return Payload(bytes.begin(), bytes.end());
}

json payload_to_json(const Payload& payload) {
  if (payload.empty()) return nullptr;
  try {
    return json::from_msgpack(payload);
  } catch (const json::exception&) {
    return "<" + std::to_string(payload.size()) + " bytes of non-JSON msgpack>";
  }
}

namespace {

json failure_json(const orchestration::FailureDetails& f) {
  return {{"ErrorType", f.error_type}, {"ErrorMessage", f.message}, {"StackTrace", f.stack_trace}};
}

}  // namespace

json instance_json(const store::InstanceRow& row, bool with_input) {
  json j = {{"name", row.name},
            {"instanceId", row.id},
            {"version", row.orchestration_version},
            {"runtimeStatus", orchestration::status_name(row.status)},
            {"customStatus", payload_to_json(row.custom_status)},
            {"createdTime", format_utc(row.created)},
            {"lastUpdatedTime", format_utc(row.updated)}};
  if (row.failure) {
    j["output"] = failure_json(*row.failure);
  } else {
    j["output"] = payload_to_json(row.output);
  }
  j["input"] = with_input ? payload_to_json(row.input) : json(nullptr);
  return j;
}

json event_json(const HistoryEvent& e, bool with_payloads) {
  json j = {{"EventType", orchestration::event_type_name(e.type)}, {"Timestamp", format_utc(e.timestamp)}};
  if (e.event_id >= 0) j["EventId"] = e.event_id;
  if (!e.name.empty()) j["Name"] = e.name;
  if (!e.instance_id.empty() && e.type != EventType::execution_started) j["InstanceId"] = e.instance_id;
  if (!e.execution_id.empty()) j["ExecutionId"] = e.execution_id;
  if (e.task_scheduled_id >= 0) j["TaskScheduledId"] = e.task_scheduled_id;
  if (e.fire_at != orchestration::TimePoint{}) j["FireAt"] = format_utc(e.fire_at);
  if (e.failure) j["FailureDetails"] = failure_json(*e.failure);
  if (e.parent) j["ParentInstanceId"] = e.parent->instance_id;
  if (e.type == EventType::execution_completed) j["OrchestrationStatus"] = orchestration::status_name(e.status);
  if (!e.request_id.empty()) j["RequestId"] = e.request_id;
  if (!e.version.empty()) j["Version"] = e.version;
  if (!e.lock_set.empty()) j["LockSet"] = e.lock_set;
  if (with_payloads) {
    if (!e.input.empty()) j["Input"] = payload_to_json(e.input);
    if (!e.result.empty()) j["Result"] = payload_to_json(e.result);
  }
  return j;
}

}  // namespace durable::http
