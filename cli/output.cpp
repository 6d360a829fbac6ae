#include "cli/output.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace durable::cli {
namespace {

constexpr size_t kMaxDetail = 70;
// With ENTITY, UPDATED and LOCKED BY (a GUID), a line stays near 120 columns.
constexpr size_t kMaxState = 40;

// value[key], or null when `value` is not an object or has no such key.
const json& field(const json& value, const char* key) {
  static const json kNull;
  if (!value.is_object()) return kNull;
  auto it = value.find(key);
  return it == value.end() ? kNull : *it;
}

std::string text(const json& value) {
  if (value.is_null()) return "";
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string shorten(std::string s, size_t max) {
  if (s.size() <= max) return s;
  s.resize(max - 3);
  return s + "...";
}

void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      line += row[c];
      if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

// What matters of an event besides its type and name.
std::string detail(const json& e) {
  std::vector<std::string> parts;
  if (e.contains("TaskScheduledId")) parts.push_back("task " + text(field(e, "TaskScheduledId")));
  if (e.contains("EventId")) parts.push_back("#" + text(field(e, "EventId")));
  if (e.contains("FireAt")) parts.push_back("fires " + text(field(e, "FireAt")));
  if (e.contains("InstanceId")) parts.push_back("instance " + text(field(e, "InstanceId")));
  if (e.contains("OrchestrationStatus")) parts.push_back(text(field(e, "OrchestrationStatus")));
  if (e.contains("Input")) parts.push_back("input " + text(field(e, "Input")));
  if (e.contains("Result")) parts.push_back("result " + text(field(e, "Result")));
  if (e.contains("FailureDetails")) parts.push_back("failed: " + text(field(field(e, "FailureDetails"), "ErrorMessage")));
  std::string joined;
  for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
  return shorten(joined, kMaxDetail);
}

}  // namespace

void print_instance(std::ostream& out, const json& s) {
  out << text(field(s, "instanceId")) << "  " << text(field(s, "name")) << "  " << text(field(s, "runtimeStatus")) << '\n';
  out << "  created  " << text(field(s, "createdTime")) << "   updated  " << text(field(s, "lastUpdatedTime")) << '\n';
  if (!field(s, "input").is_null()) out << "  input    " << field(s, "input").dump() << '\n';
  if (!field(s, "customStatus").is_null()) out << "  custom   " << field(s, "customStatus").dump() << '\n';
  if (!field(s, "output").is_null()) out << "  output   " << field(s, "output").dump() << '\n';
}

void print_instances(std::ostream& out, const json& list) {
  std::vector<std::vector<std::string>> rows = {{"INSTANCE", "NAME", "STATUS", "CREATED", "UPDATED"}};
  for (const json& s : list) {
    rows.push_back({text(field(s, "instanceId")), text(field(s, "name")), text(field(s, "runtimeStatus")), text(field(s, "createdTime")),
                    text(field(s, "lastUpdatedTime"))});
  }
  print_table(out, rows);
}

void print_history(std::ostream& out, const json& events) {
  std::vector<std::vector<std::string>> rows = {{"TIME", "EVENT", "NAME", "DETAIL"}};
  for (const json& e : events) {
    rows.push_back({text(field(e, "Timestamp")), text(field(e, "EventType")), text(field(e, "Name")), detail(e)});
  }
  print_table(out, rows);
}

void print_entities(std::ostream& out, const json& list) {
  std::vector<std::vector<std::string>> rows = {{"ENTITY", "UPDATED", "STATE", "LOCKED BY"}};
  for (const json& e : list) {
    const json& id = field(e, "entityId");
    const json& state = field(e, "state");
    rows.push_back({text(field(id, "name")) + "@" + text(field(id, "key")), text(field(e, "lastOperationTime")),
                    state.is_null() ? "(no state)" : shorten(state.dump(), kMaxState), text(field(e, "lockedBy"))});
  }
  print_table(out, rows);
}

}  // namespace durable::cli
