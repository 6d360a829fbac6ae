// Every sample end to end through LocalRunner, in both ways of running the
// engine (live coroutine, full replay through the codec) and several batch
// sizes; inputs go in as JSON and outputs come back as JSON, so every payload
// also makes the JSON round trip the HTTP API will make.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "orchestration/local_runner.hpp"
#include "samples/samples.hpp"

namespace durable::samples {
namespace {

using json = nlohmann::json;
using orchestration::EventType;
using orchestration::HistoryEvent;
using orchestration::LocalRunner;
using orchestration::OrchestrationStatus;
using orchestration::Payload;
using orchestration::Registry;
using orchestration::TimePoint;
using ::testing::HasSubstr;

const TimePoint kStart{std::chrono::milliseconds(1'800'000'000'000LL)};

Payload from_json(const json& value) {
  if (value.is_null()) return {};
  auto bytes = json::to_msgpack(value);
  return Payload(bytes.begin(), bytes.end());
}

json to_json(const Payload& payload) {
  if (payload.empty()) return nullptr;
  return json::from_msgpack(payload);
}

struct Scenario {
  std::string name;
  std::string orchestrator;
  json input;
  OrchestrationStatus status;
  json output;              // when Completed
  std::string failure;      // a phrase of the failure message when Failed
  std::string event_name;   // raised once the instance waits, if set
  json event_payload;
};

std::vector<Scenario> scenarios() {
  const json hellos = {"Hello Tokyo!", "Hello Seattle!", "Hello London!"};
  return {
      {"HelloDefault", "HelloSequence", nullptr, OrchestrationStatus::completed, hellos, {}, {}, {}},
      {"HelloCities", "HelloSequence", {"Paris", "Oslo"}, OrchestrationStatus::completed,
       {"Hello Paris!", "Hello Oslo!"}, {}, {}, {}},
      {"HelloParent", "HelloParent", nullptr, OrchestrationStatus::completed, hellos, {}, {}, {}},
      {"HelloParentChildFails", "HelloParent", {"Rome", ""}, OrchestrationStatus::failed, nullptr,
       "SayHello needs a city name", {}, {}},
      {"OrderConfirmed", "OrderProcessing", {{"orderId", "o-1"}, {"amount", 42.5}, {"email", "a@example.com"}},
       OrchestrationStatus::completed, {{"orderId", "o-1"}, {"status", "confirmed"}, {"charged", 42.5}}, {}, {}, {}},
      {"OrderIntegerAmount", "OrderProcessing", {{"orderId", "o-2"}, {"amount", 7}, {"email", "a@example.com"}},
       OrchestrationStatus::completed, {{"orderId", "o-2"}, {"status", "confirmed"}, {"charged", 7.0}}, {}, {}, {}},
      {"OrderRejectedAmount", "OrderProcessing", {{"orderId", "o-3"}, {"amount", -1}, {"email", "a@example.com"}},
       OrchestrationStatus::completed,
       {{"orderId", "o-3"}, {"status", "rejected"}, {"reason", "amount must be positive"}}, {}, {}, {}},
      {"OrderRejectedEmail", "OrderProcessing", {{"orderId", "o-4"}, {"amount", 5}},
       OrchestrationStatus::completed, {{"orderId", "o-4"}, {"status", "rejected"}, {"reason", "email is missing"}},
       {}, {}, {}},
      {"OrderDeclined", "OrderProcessing", {{"orderId", "o-5"}, {"amount", 20000}, {"email", "a@example.com"}},
       OrchestrationStatus::failed, nullptr, "card declined", {}, {}},
      {"FanOut100", "FanOutFanIn", 100, OrchestrationStatus::completed, 9900, {}, {}, {}},
      {"FanOut0", "FanOutFanIn", 0, OrchestrationStatus::completed, 0, {}, {}, {}},
      {"FanOutNegative", "FanOutFanIn", -5, OrchestrationStatus::failed, nullptr,
       "the count must be between 0 and 1000000, got -5", {}, {}},
      {"ApprovalTimeoutPastTheClock", "Approval", {{"proposal", "forever"}, {"timeoutSeconds", 9223372036LL}},
       OrchestrationStatus::failed, nullptr, "past what the clock can represent", {}, {}},
      {"ApprovalTimeoutWrapsMilliseconds", "Approval",
       {{"proposal", "forever"}, {"timeoutSeconds", 18446744073709552LL}}, OrchestrationStatus::failed, nullptr,
       "a timer 18446744073709552 s from now is past what the clock can represent", {}, {}},
      {"ApprovalApproved", "Approval", {{"proposal", "new laptop"}, {"timeoutSeconds", 600}},
       OrchestrationStatus::completed, "approved", {}, "Approval", true},
      {"ApprovalRejected", "Approval", {{"proposal", "new car"}}, OrchestrationStatus::completed, "rejected", {},
       "approval", false},
      {"ApprovalTimesOut", "Approval", {{"proposal", "new desk"}, {"timeoutSeconds", 60}},
       OrchestrationStatus::completed, "escalated", {}, {}, {}},
      {"MonitorDone", "Monitor",
       {{"jobId", "job-1"}, {"pollSeconds", 60}, {"expirySeconds", 3600}, {"doneAfter", 3}},
       OrchestrationStatus::completed, "done", {}, {}, {}},
      {"MonitorExpires", "Monitor",
       {{"jobId", "job-2"}, {"pollSeconds", 60}, {"expirySeconds", 150}, {"doneAfter", 0}},
       OrchestrationStatus::completed, "expired", {}, {}, {}},
  };
}

struct Config {
  LocalRunner::Mode mode;
  size_t max_batch;
};

std::string config_name(const Config& c);
void PrintTo(const Config& c, std::ostream* os) { *os << config_name(c); }

std::string config_name(const Config& c) {
  return std::string(c.mode == LocalRunner::Mode::live ? "Live" : "FullReplay") + "Batch" +
         (c.max_batch > 1000 ? std::string("All") : std::to_string(c.max_batch));
}

/// Runs `s` to its end and returns the runner (for its instance's state).
std::unique_ptr<LocalRunner> run_scenario(const Registry& registry, const Config& config, const Scenario& s) {
  auto runner = std::make_unique<LocalRunner>(
      registry, LocalRunner::Options{config.mode, config.max_batch, kStart, true});
  auto id = runner->start(s.orchestrator, from_json(s.input), "sample-" + s.name);
  EXPECT_TRUE(id.is_ok()) << id.status().to_string();
  runner->run(kStart + std::chrono::seconds(1));  // the event is raised after the instance waits
  if (!s.event_name.empty()) {
    EXPECT_TRUE(runner->raise_event(*id, s.event_name, from_json(s.event_payload)).is_ok());
  }
  runner->run();
  return runner;
}

class SampleRun : public ::testing::TestWithParam<Config> {
 protected:
  void SetUp() override { register_samples(registry_); }
  Registry registry_;
};

TEST_P(SampleRun, EverySampleGivesItsExpectedOutcome) {
  for (const auto& s : scenarios()) {
    SCOPED_TRACE(s.name);
    auto runner = run_scenario(registry_, GetParam(), s);
    const auto* instance = runner->instance("sample-" + s.name);
    ASSERT_NE(instance, nullptr);
    EXPECT_EQ(instance->status, s.status) << (instance->failure ? instance->failure->message : "");
    if (s.status == OrchestrationStatus::completed) {
      EXPECT_EQ(to_json(instance->output), s.output);
    } else {
      ASSERT_TRUE(instance->failure);
      EXPECT_THAT(instance->failure->message + instance->failure->stack_trace, HasSubstr(s.failure));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, SampleRun,
                         ::testing::Values(Config{LocalRunner::Mode::live, SIZE_MAX},
                                           Config{LocalRunner::Mode::live, 1},
                                           Config{LocalRunner::Mode::live, 3},
                                           Config{LocalRunner::Mode::full_replay, SIZE_MAX},
                                           Config{LocalRunner::Mode::full_replay, 1},
                                           Config{LocalRunner::Mode::full_replay, 3}),
                         [](const auto& info) { return config_name(info.param); });

TEST(Samples, LiveAndFullReplay_ProduceIdenticalHistories) {
  Registry registry;
  register_samples(registry);
  for (size_t batch : {size_t{1}, size_t{3}, SIZE_MAX}) {
    for (const auto& s : scenarios()) {
      SCOPED_TRACE(s.name + " batch " + std::to_string(batch));
      auto live = run_scenario(registry, {LocalRunner::Mode::live, batch}, s);
      auto full = run_scenario(registry, {LocalRunner::Mode::full_replay, batch}, s);
      const auto* a = live->instance("sample-" + s.name);
      const auto* b = full->instance("sample-" + s.name);
      EXPECT_EQ(a->history, b->history);
      EXPECT_EQ(a->output, b->output);
      EXPECT_EQ(a->failure, b->failure);
      EXPECT_EQ(a->executions, b->executions);
      EXPECT_EQ(a->episodes, b->episodes);
    }
  }
}

class SampleDetail : public ::testing::Test {
 protected:
  void SetUp() override { register_samples(registry_); }
  const LocalRunner::Instance& run(const std::string& name, const json& input) {
    runner_ = std::make_unique<LocalRunner>(registry_, LocalRunner::Options{LocalRunner::Mode::live, SIZE_MAX, kStart, true});
    auto id = runner_->start(name, from_json(input), "detail");
    EXPECT_TRUE(id.is_ok());
    runner_->run();
    return *runner_->instance("detail");
  }
  static std::vector<HistoryEvent> of_type(const LocalRunner::Instance& i, EventType type) {
    std::vector<HistoryEvent> out;
    for (const auto& e : i.history) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
  Registry registry_;
  std::unique_ptr<LocalRunner> runner_;
};

TEST_F(SampleDetail, OrderDeclined_ChargesThreeTimesWithBackoff) {
  const auto& i = run("OrderProcessing", {{"orderId", "o"}, {"amount", 20000}, {"email", "e@x"}});
  EXPECT_EQ(i.status, OrchestrationStatus::failed);
  int charges = 0;
  for (const auto& e : of_type(i, EventType::task_scheduled)) charges += e.name == "ChargeCustomer";
  EXPECT_EQ(charges, 3);
  const auto timers = of_type(i, EventType::timer_created);
  ASSERT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers[0].fire_at, kStart + std::chrono::seconds(5));
  EXPECT_EQ(timers[1].fire_at, kStart + std::chrono::seconds(5 + 10));
  EXPECT_EQ(i.failure->error_type, "TaskFailedException");
  EXPECT_THAT(i.failure->stack_trace, HasSubstr("PaymentDeclined"));
}

TEST_F(SampleDetail, ApprovalDefaultTimeout_Is72Hours) {
  const auto& i = run("Approval", {{"proposal", "p"}});
  EXPECT_EQ(to_json(i.output), "escalated");
  EXPECT_EQ(runner_->now(), kStart + std::chrono::hours(72));
}

TEST_F(SampleDetail, Monitor_ContinuesAsNewEachRoundKeepingHistoryShort) {
  const auto& i = run("Monitor", {{"jobId", "j"}, {"pollSeconds", 60}, {"expirySeconds", 3600}, {"doneAfter", 4}});
  EXPECT_EQ(to_json(i.output), "done");
  EXPECT_EQ(i.executions, 4);
  EXPECT_LE(i.history.size(), 10u) << "only the last round is in the history";
  EXPECT_EQ(runner_->now(), kStart + std::chrono::minutes(3));
  EXPECT_EQ(to_json(i.input)["checks"], 3) << "state travels in the continue-as-new input";
}

TEST_F(SampleDetail, FanOut10000_SchedulesInOneEpisodeAndFansInInOne) {
  const auto& i = run("FanOutFanIn", 10000);
  EXPECT_EQ(to_json(i.output), 10000LL * 9999LL);
  EXPECT_EQ(i.episodes, 2u);
  EXPECT_EQ(of_type(i, EventType::task_scheduled).size(), 10000u);
}

TEST(SamplesJson, InputsAndOutputsSurviveJsonRoundTrip) {
  // C++ value -> msgpack -> JSON -> msgpack -> C++ value, for every sample type.
  auto round_trip = [](const auto& value) {
    using T = std::decay_t<decltype(value)>;
    const Payload bytes = orchestration::to_payload(value);
    const json j = to_json(bytes);
    return std::pair{orchestration::from_payload<T>(from_json(j)), j};
  };
  {
    auto [back, j] = round_trip(Order{"o-1", 12.5, "a@b"});
    EXPECT_EQ(j, (json{{"orderId", "o-1"}, {"amount", 12.5}, {"email", "a@b"}}));
    EXPECT_EQ(back.orderId, "o-1");
    EXPECT_EQ(back.amount, 12.5);
  }
  {
    auto [back, j] = round_trip(OrderResult{"o-1", "rejected", std::nullopt, "no"});
    EXPECT_EQ(j, (json{{"orderId", "o-1"}, {"status", "rejected"}, {"reason", "no"}}));
    EXPECT_EQ(back.reason, "no");
    EXPECT_FALSE(back.charged);
  }
  {
    auto [back, j] = round_trip(ApprovalRequest{"p", 30});
    EXPECT_EQ(j, (json{{"proposal", "p"}, {"timeoutSeconds", 30}}));
    EXPECT_EQ(back.timeoutSeconds, 30);
  }
  {
    auto [back, j] = round_trip(MonitorInput{"j", 1, 2, 3, 4, 5});
    EXPECT_EQ(j["expiresAtMs"], 5);
    EXPECT_EQ(back.checks, 4);
  }
  {
    auto [back, j] = round_trip(std::vector<std::string>{"Hello Tokyo!"});
    EXPECT_EQ(j, json::array({"Hello Tokyo!"}));
  }
  {
    auto [back, j] = round_trip(int64_t{99990000});
    EXPECT_EQ(back, 99990000);
  }
  // Keys missing from the JSON keep their defaults.
  EXPECT_EQ(orchestration::from_payload<ApprovalRequest>(from_json({{"proposal", "p"}})).timeoutSeconds, 72 * 3600);
}

TEST(SamplesRegistry, EveryNameIsRegistered) {
  Registry registry;
  register_samples(registry);
  for (const char* name : {"HelloSequence", "HelloParent", "OrderProcessing", "FanOutFanIn", "Approval", "Monitor",
                           "FlakyOnce", "ApprovalBoard"}) {
    EXPECT_NE(registry.find_orchestrator(name), nullptr) << name;
  }
  for (const char* name : {"SayHello", "ValidateOrder", "ChargeCustomer", "SendConfirmation", "Double",
                           "RequestApproval", "Escalate", "CheckJobStatus", "FlakyStep"}) {
    EXPECT_NE(registry.find_activity(name), nullptr) << name;
  }
  EXPECT_NE(registry.find_orchestrator("hellosequence"), nullptr) << "names are case-insensitive";
}

}  // namespace
}  // namespace durable::samples
