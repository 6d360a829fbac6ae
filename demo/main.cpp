// durable-demo: drives the replay engine through every sample orchestration
// on an in-memory runtime with a virtual clock (LocalRunner), and prints each
// one's history and output. No Redis and no cluster yet: this shows the
// engine alone.

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "base/time.hpp"
#include "orchestration/local_runner.hpp"
#include "samples/samples.hpp"

namespace {

using json = nlohmann::json;
using namespace durable::orchestration;

struct Demo {
  std::string orchestrator;
  std::string instance_id;
  json input;
  std::string event;  // raised once the instance waits, if set
  json event_payload;
};

Payload to_payload_json(const json& value) {
  if (value.is_null()) return {};
  auto bytes = json::to_msgpack(value);
  return Payload(bytes.begin(), bytes.end());
}

std::string json_text(const Payload& payload, size_t limit = 60) {
  if (payload.empty()) return "null";
  std::string text;
  try {
    text = json::from_msgpack(payload).dump();
  } catch (const json::exception&) {
    text = "<" + std::to_string(payload.size()) + " bytes, not JSON-compatible>";
  }
  return text.size() > limit ? text.substr(0, limit - 3) + "..." : text;
}

std::string detail(const HistoryEvent& e) {
  switch (e.type) {
    case EventType::execution_started:
    case EventType::task_scheduled:
    case EventType::sub_orchestration_instance_created:
    case EventType::event_raised:
    case EventType::event_sent:
      return "input=" + json_text(e.input);
    case EventType::task_completed:
    case EventType::sub_orchestration_instance_completed:
      return fmt::format("task {} result={}", e.task_scheduled_id, json_text(e.result));
    case EventType::task_failed:
    case EventType::sub_orchestration_instance_failed:
      return fmt::format("task {} {}: {}", e.task_scheduled_id, e.failure->error_type, e.failure->message);
    case EventType::timer_created:
      return "fire at " + durable::format_utc(e.fire_at);
    case EventType::timer_fired:
      return fmt::format("timer {}", e.task_scheduled_id);
    case EventType::execution_completed:
      return std::string(status_name(e.status)) +
             (e.failure ? " " + e.failure->error_type + ": " + e.failure->message
                        : " output=" + json_text(e.result));
    case EventType::continue_as_new:
      return "new input=" + json_text(e.result);
    default:
      return {};
  }
}

void print_history(const LocalRunner::Instance& instance, TimePoint origin) {
  fmt::print("  {:>10}  {:<4} {:<34} {:<18} {}\n", "time", "seq", "event", "name", "detail");
  for (const auto& e : instance.history) {
    const double seconds = std::chrono::duration<double>(e.timestamp - origin).count();
    fmt::print("  {:>+9.3f}s  {:<4} {:<34} {:<18} {}\n", seconds,
               e.event_id >= 0 ? std::to_string(e.event_id) : "", event_type_name(e.type), e.name,
               detail(e));
  }
}

bool run_demo(const Registry& registry, const Demo& demo, LocalRunner::Mode mode) {
  const TimePoint origin{std::chrono::milliseconds(1'800'000'000'000LL)};
  LocalRunner runner(registry, {mode, SIZE_MAX, origin, true});
  auto id = runner.start(demo.orchestrator, to_payload_json(demo.input), demo.instance_id);
  if (!id.is_ok()) {
    fmt::print("{}: {}\n", demo.orchestrator, id.status().to_string());
    return false;
  }
  runner.run(origin + std::chrono::seconds(1));
  if (!demo.event.empty()) {
    fmt::print("  (raising event \"{}\" with {})\n", demo.event, demo.event_payload.dump());
    if (auto s = runner.raise_event(*id, demo.event, to_payload_json(demo.event_payload)); !s.is_ok()) {
      fmt::print("  raise failed: {}\n", s.to_string());
    }
  }
  runner.run();

  const auto& instance = *runner.instance(*id);
  fmt::print("\n== {} (instance {}) input {}\n", demo.orchestrator, *id, demo.input.dump());
  print_history(instance, origin);
  fmt::print("  status: {}   executions: {}   episodes: {}   virtual time: {:.0f}s\n",
             status_name(instance.status), instance.executions, instance.episodes,
             std::chrono::duration<double>(runner.now() - origin).count());
  if (instance.failure) {
    fmt::print("  failure: {}: {}\n", instance.failure->error_type, instance.failure->message);
  } else {
    fmt::print("  output: {}\n", json_text(instance.output, 200));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"durable-demo: the sample orchestrations on the replay engine, in memory"};
  std::string mode_name = "live";
  std::string only;
  app.add_option("--mode", mode_name, "live (keep coroutines between episodes) or replay (full replay every episode)")
      ->check(CLI::IsMember({"live", "replay"}));
  app.add_option("--sample", only, "run only this orchestrator");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  Registry registry;
  durable::samples::register_samples(registry);
  const std::vector<Demo> demos = {
      {"HelloSequence", "hello-1", nullptr, {}, {}},
      {"HelloParent", "parent-1", json{"Lisbon", "Nairobi"}, {}, {}},
      {"HelloParent", "parent-2", json{"Lima", ""}, {}, {}},
      {"OrderProcessing", "order-1", {{"orderId", "o-1"}, {"amount", 42.5}, {"email", "ann@example.com"}}, {}, {}},
      {"OrderProcessing", "order-2", {{"orderId", "o-2"}, {"amount", 0}, {"email", "bob@example.com"}}, {}, {}},
      {"OrderProcessing", "order-3", {{"orderId", "o-3"}, {"amount", 25000}, {"email", "cy@example.com"}}, {}, {}},
      {"FanOutFanIn", "fanout-1", 10, {}, {}},
      {"Approval", "approval-1", {{"proposal", "a new laptop"}, {"timeoutSeconds", 3600}}, "Approval", true},
      {"Approval", "approval-2", {{"proposal", "a boat"}, {"timeoutSeconds", 3600}}, {}, {}},
      {"Monitor", "monitor-1", {{"jobId", "job-7"}, {"pollSeconds", 30}, {"expirySeconds", 600}, {"doneAfter", 3}}, {}, {}},
  };
  const auto mode = mode_name == "live" ? LocalRunner::Mode::live : LocalRunner::Mode::full_replay;
  fmt::print("durable-demo: {} samples, engine mode {}\n", demos.size(), mode_name);
  bool ok = true;
  for (const auto& demo : demos) {
    if (only.empty() || only == demo.orchestrator) ok = run_demo(registry, demo, mode) && ok;
  }
  return ok ? 0 : 1;
}
