#include "node/sample_run.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "http/json.hpp"
#include "orchestration/payload.hpp"

namespace durable::node {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using orchestration::OrchestrationStatus;
using orchestration::Payload;

Payload from_json(const json& value) { return http::payload_from_json(value); }
std::string to_text(const Payload& payload) { return http::payload_to_json(payload).dump(); }

struct Sample {
  Sample(std::string title, std::string name, json input,
         OrchestrationStatus expected = OrchestrationStatus::completed, std::string event = {},
         json event_input = nullptr)
      : title(std::move(title)), name(std::move(name)), input(std::move(input)), expected(expected),
        event(std::move(event)), event_input(std::move(event_input)) {}
  std::string title;
  std::string name;
  json input;
  OrchestrationStatus expected;
  std::string event;  // raised once the instance runs, if set
  json event_input;
};

// Prints one finished sample; true when it ended as expected.
bool report(const Sample& s, const Result<store::InstanceRow>& row) {
  if (!row) {
    fmt::print("{:<36} {}\n", s.title, row.status().message());
    return false;
  }
  const std::string outcome = row->status == OrchestrationStatus::completed
                                  ? to_text(row->output)
                                  : (row->failure ? row->failure->error_type + ": " + row->failure->message : "");
  // Created to finished, as the store recorded it.
  const auto took = row->updated - row->created;
  fmt::print("{:<36} {:<10} {:>6} ms  {}\n", s.title, orchestration::status_name(row->status), took.count(),
             outcome.size() > 170 ? outcome.substr(0, 167) + "..." : outcome);
  return row->status == s.expected;
}

}  // namespace

bool run_samples(client::Client& client) {
  const std::vector<Sample> samples = {
      {"HelloSequence", "HelloSequence", {"Tokyo", "Seattle", "London"}},
      {"HelloParent (sub-orchestration)", "HelloParent", {"Paris", "Oslo"}},
      {"OrderProcessing (confirmed)", "OrderProcessing",
       {{"orderId", "o-1"}, {"amount", 120.5}, {"email", "ann@example.com"}}},
      {"OrderProcessing (declined, retried)", "OrderProcessing",
       {{"orderId", "o-2"}, {"amount", 25000}, {"email", "bob@example.com"}},
       OrchestrationStatus::failed},
      {"FanOutFanIn (1,000 activities)", "FanOutFanIn", 1000},
      {"Approval (event raised)", "Approval", {{"proposal", "new laptop"}, {"timeoutSeconds", 600}},
       OrchestrationStatus::completed, "Approval", true},
      {"Approval (timer fires)", "Approval", {{"proposal", "new desk"}, {"timeoutSeconds", 1}}},
      {"Monitor (continue-as-new)", "Monitor",
       {{"jobId", "job-7"}, {"pollSeconds", 1}, {"expirySeconds", 60}, {"doneAfter", 3}}},
  };
  // All start at once (they run concurrently on the node), then each is
  // waited for in turn.
  std::vector<Result<std::string>> ids;
  for (const Sample& s : samples) ids.push_back(client.start(s.name, from_json(s.input)));
  for (size_t i = 0; i < samples.size(); ++i) {
    if (ids[i] && !samples[i].event.empty()) {
      // The inbox keeps the event until the instance waits for it.
      if (Status st = client.raise_event(*ids[i], samples[i].event, from_json(samples[i].event_input)); !st) {
        ids[i] = st;
      }
    }
  }
  fmt::print("{:<36} {:<10} {:>9}  {}\n", "sample", "status", "time", "output");
  bool ok = true;
  for (size_t i = 0; i < samples.size(); ++i) {
    Result<store::InstanceRow> row = ids[i] ? client.wait(*ids[i], 120s) : Result<store::InstanceRow>(ids[i].status());
    ok = report(samples[i], row) && ok;
  }
  return ok;
}

}  // namespace durable::node
