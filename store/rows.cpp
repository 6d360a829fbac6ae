#include "store/rows.hpp"

#include <map>

#include "store/reply.hpp"

namespace durable::store {

using namespace reply;
using orchestration::is_terminal;

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
          "fs", f.stack_trace,
          "ov", row.orchestration_version,
          "sa", row.scheduled_start == TimePoint{} ? std::string() : ms_text(row.scheduled_start)};
}

std::vector<std::string> row_progress_fields(const InstanceRow& row, EpisodeWrite::Changed changed) {
  std::vector<std::string> fields = {"ut", ms_text(row.updated)};
  if (changed.status) fields.insert(fields.end(), {"s", std::to_string(static_cast<int>(row.status))});
  if (changed.custom_status) fields.insert(fields.end(), {"cs", row.custom_status});
  if (changed.inbox_position) {
    fields.insert(fields.end(), {"ip", row.inbox_position.empty() ? "0-0" : row.inbox_position});
  }
  if (is_terminal(row.status) || changed.outcome) {
    fields.insert(fields.end(), {"out", row.output});
    // The execution's first write cleared them; only a failure sets them,
    // and a rewind clears them again.
    if (row.failure) {
      fields.insert(fields.end(), {"fe", "1", "ft", row.failure->error_type, "fm", row.failure->message, "fs",
                                   row.failure->stack_trace});
    } else if (changed.outcome) {
      fields.insert(fields.end(), {"fe", "", "ft", "", "fm", "", "fs", ""});
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
  row.orchestration_version = field(m, "ov");
  if (auto at = field(m, "sa"); !at.empty()) {
    auto ms = parse_int("sa", at);
    if (!ms) return Status::corruption("instance " + row.id + ": " + ms.status().message());
    row.scheduled_start = TimePoint(std::chrono::milliseconds(*ms));
  }
  if (auto v = m.find("v"); v != m.end()) {
    auto version = parse_int("v", v->second);
    if (!version) return Status::corruption("instance " + row.id + ": " + version.status().message());
    row.version = static_cast<uint64_t>(*version);
  }
  return row;
}

HistoryEvent start_event(const InstanceRow& row) {
  auto started = orchestration::events::execution_started(row.created, row.name, row.id, row.input, row.execution_id);
  started.fire_at = row.scheduled_start;
  started.version = row.orchestration_version;
  return started;
}

}  // namespace durable::store
