#include "cli/output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
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

// "1.2 s ago" from milliseconds; one decimal, since heartbeats come every
// --lease-renewal (2 s by default) and a silent node stands out in seconds.
std::string ago(const json& ms) {
  if (!ms.is_number()) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s ago", ms.get<double>() / 1000);
  return buf;
}

// "2.0 (strict, reject)", or "-" for a node without a version (it runs
// every instance).
std::string node_version(const json& code) {
  const std::string version = text(field(code, "version"));
  if (version.empty()) return "-";
  return version + " (" + text(field(code, "versionMatch")) + ", " + text(field(code, "versionFailure")) + ")";
}

// "3 activities (A, B, C)": a count and the names, shortened.
std::string names(const json& list, const char* what) {
  constexpr size_t kMaxNames = 60;
  if (!list.is_array() || list.empty()) return std::string("no ") + what;
  std::string joined;
  for (const json& n : list) joined += (joined.empty() ? "" : ", ") + text(n);
  return std::to_string(list.size()) + " " + what + " (" + shorten(joined, kMaxNames) + ")";
}

// The mean of the newest `n` numbers of `list` (nulls skipped), or nothing.
std::optional<double> newest_mean(const json& list, size_t n) {
  if (!list.is_array()) return std::nullopt;
  double sum = 0;
  size_t count = 0;
  for (size_t i = list.size() - std::min(n, list.size()); i < list.size(); ++i) {
    if (!list[i].is_number()) continue;
    sum += list[i].get<double>();
    ++count;
  }
  if (count == 0) return std::nullopt;
  return sum / static_cast<double>(count);
}

// "over the last 60 s: 120.5 episodes/s, ...": the newest intervals of a
// node's published rates that make about a minute; empty for a node that
// publishes none (one of an older build).
std::string recent_rates(const json& rates) {
  const json& interval = field(rates, "intervalSeconds");
  const json& episodes = field(rates, "episodes");
  if (!interval.is_number() || interval.get<double>() <= 0 || !episodes.is_array()) return {};
  const double seconds = interval.get<double>();
  char buf[160];
  if (episodes.empty()) {
    std::snprintf(buf, sizeof buf, "no rates yet (the first after %g s)", seconds);
    return buf;
  }
  const auto minute = static_cast<size_t>(std::max(1.0, std::round(60 / seconds)));
  const size_t n = std::min(episodes.size(), minute);
  auto rate = [&](const char* key) { return newest_mean(field(rates, key), n).value_or(0); };
  std::snprintf(buf, sizeof buf, "over the last %g s: %.1f episodes/s, %.1f activities/s, %.1f entity operations/s",
                seconds * static_cast<double>(n), rate("episodes"), rate("activities"), rate("entityOperations"));
  std::string out = buf;
  if (auto ms = newest_mean(field(rates, "commitLatencyMs"), n)) {
    std::snprintf(buf, sizeof buf, ", commits %.2f ms", *ms);
    out += buf;
  }
  return out;
}

}  // namespace

std::string compact_partitions(const json& partitions) {
  std::vector<int64_t> ps;
  for (const json& p : partitions) {
    if (p.is_number_integer()) ps.push_back(p.get<int64_t>());
  }
  std::sort(ps.begin(), ps.end());
  std::string out;
  for (size_t i = 0; i < ps.size();) {
    size_t j = i;
    while (j + 1 < ps.size() && ps[j + 1] == ps[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(ps[i]);
    if (j > i) out += "-" + std::to_string(ps[j]);
    i = j + 1;
  }
  return out;
}

void print_cluster(std::ostream& out, const json& cluster) {
  std::vector<std::vector<std::string>> rows = {
      {"NODE", "STATE", "PARTITIONS", "LOAD", "HTTP", "GRPC", "CLUSTER", "LAST HEARTBEAT", "VERSION"}};
  const json& nodes = field(cluster, "nodes");
  for (const json& n : nodes.is_array() ? nodes : json::array()) {
    const json& owned = field(n, "partitions");
    const size_t count = owned.is_array() ? owned.size() : 0;
    rows.push_back({text(field(n, "id")), field(n, "live") == true ? "live" : "gone",
                    count == 0 ? "0" : std::to_string(count) + ": " + compact_partitions(owned),
                    text(field(n, "load")), text(field(n, "httpAddress")),
                    field(n, "grpc").is_string() && !field(n, "grpc").get<std::string>().empty() ? text(field(n, "grpc")) : "-",
                    text(field(n, "clusterAddress")),
                    ago(field(n, "lastHeartbeatMs")), node_version(field(n, "code"))});
  }
  print_table(out, rows);
  for (const json& n : nodes.is_array() ? nodes : json::array()) {
    const json& code = field(n, "code");
    if (!code.is_object()) continue;  // a node of an older build says nothing of it
    out << text(field(n, "id")) << " runs " << names(field(code, "orchestrators"), "orchestrators") << ", "
        << names(field(code, "activities"), "activities") << ", " << names(field(code, "entities"), "entities") << '\n';
  }
  for (const json& n : nodes.is_array() ? nodes : json::array()) {
    const std::string rates = recent_rates(field(n, "rates"));
    if (!rates.empty()) out << text(field(n, "id")) << ' ' << rates << '\n';
  }
  const json& unowned = field(cluster, "unowned");
  if (unowned.is_array() && !unowned.empty()) {
    out << unowned.size() << " of " << text(field(cluster, "partitions")) << " partitions unowned: "
        << compact_partitions(unowned) << " (no live node holds their lease yet)\n";
  }
}

void print_instance(std::ostream& out, const json& s) {
  out << text(field(s, "instanceId")) << "  " << text(field(s, "name")) << "  " << text(field(s, "runtimeStatus")) << '\n';
  if (!text(field(s, "version")).empty()) out << "  version  " << text(field(s, "version")) << '\n';
  out << "  created  " << text(field(s, "createdTime")) << "   updated  " << text(field(s, "lastUpdatedTime")) << '\n';
  if (!field(s, "input").is_null()) out << "  input    " << field(s, "input").dump() << '\n';
  if (!field(s, "customStatus").is_null()) out << "  custom   " << field(s, "customStatus").dump() << '\n';
  if (!field(s, "output").is_null()) out << "  output   " << field(s, "output").dump() << '\n';
}

void print_instances(std::ostream& out, const json& list) {
  std::vector<std::vector<std::string>> rows = {{"INSTANCE", "NAME", "VERSION", "STATUS", "CREATED", "UPDATED"}};
  for (const json& s : list) {
    const std::string version = text(field(s, "version"));
    rows.push_back({text(field(s, "instanceId")), text(field(s, "name")), version.empty() ? "-" : version,
                    text(field(s, "runtimeStatus")), text(field(s, "createdTime")), text(field(s, "lastUpdatedTime"))});
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

void print_dead_letters(std::ostream& out, const json& list) {
  constexpr size_t kMaxReason = 80;
  std::vector<std::vector<std::string>> rows = {{"ID", "INSTANCE", "TIME", "MESSAGE", "REASON"}};
  for (const json& d : list) {
    const json& message = field(d, "message");
    const std::string what = message.is_null() ? "undecodable"
                                               : text(field(message, "EventType")) +
                                                     (field(message, "Name").is_null() ? "" : " " + text(field(message, "Name")));
    rows.push_back({text(field(d, "id")), text(field(d, "instanceId")), text(field(d, "deadLetteredTime")), what,
                    shorten(text(field(d, "reason")), kMaxReason)});
  }
  print_table(out, rows);
}

}  // namespace durable::cli
