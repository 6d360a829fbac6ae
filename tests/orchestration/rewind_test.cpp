// orchestration/rewind: which failures a rewind voids, and its plan.
#include "orchestration/rewind.hpp"

#include <gtest/gtest.h>

#include "orchestration/codec.hpp"

namespace durable::orchestration {
namespace {

using std::chrono::milliseconds;

TimePoint at(int64_t ms) { return TimePoint(milliseconds(ms)); }

HistoryEvent scheduled(int32_t id, std::string name = "A") {
  HistoryEvent e;
  e.type = EventType::task_scheduled;
  e.event_id = id;
  e.name = std::move(name);
  return e;
}
HistoryEvent timer_created(int32_t id, TimePoint fire) {
  HistoryEvent e;
  e.type = EventType::timer_created;
  e.event_id = id;
  e.fire_at = fire;
  return e;
}
HistoryEvent child_created(int32_t id, std::string child) {
  HistoryEvent e;
  e.type = EventType::sub_orchestration_instance_created;
  e.event_id = id;
  e.name = "Child";
  e.instance_id = std::move(child);
  return e;
}
const FailureDetails kBoom{"std::runtime_error", "boom", {}};
HistoryEvent os() { return events::orchestrator_started(at(1)); }
HistoryEvent oc() { return events::orchestrator_completed(at(1)); }
HistoryEvent failed_end() { return events::execution_completed(at(1), OrchestrationStatus::failed, {}, kBoom); }

std::vector<EventType> types(const std::vector<HistoryEvent>& events) {
  std::vector<EventType> out;
  for (const HistoryEvent& e : events) {
    if (e.type != EventType::orchestrator_started && e.type != EventType::orchestrator_completed) out.push_back(e.type);
  }
  return out;
}

TEST(RewoundView, WithoutARewindTheLogIsTheView) {
  std::vector<HistoryEvent> log = {os(), events::execution_started(at(1), "O", "i", {}), scheduled(0), oc(),
                                   os(), events::task_failed(at(2), 0, kBoom), failed_end(), oc()};
  EXPECT_EQ(rewound_view(log), log);
}

TEST(RewoundView, VoidsTheUnansweredFailureAndTheEndButKeepsTheSchedule) {
  std::vector<HistoryEvent> log = {os(), events::execution_started(at(1), "O", "i", {}), scheduled(0), oc(),
                                   os(), events::task_failed(at(2), 0, kBoom), failed_end(), oc(),
                                   os(), events::execution_rewound(at(3), {}), oc()};
  using enum EventType;
  EXPECT_EQ(types(rewound_view(log)), (std::vector<EventType>{execution_started, task_scheduled, execution_rewound}));
  EXPECT_TRUE(rewound_last(rewound_view(log)));
  EXPECT_EQ(open_work(rewound_view(log)).activities.size(), 1u);
}

TEST(RewoundView, KeepsAFailureTheCodeAnsweredAndVoidsTheLastAttempt) {
  // A retry: attempt 0 fails, a timer (the answer), attempt 2 fails and ends it.
  std::vector<HistoryEvent> log = {os(), events::execution_started(at(1), "O", "i", {}), scheduled(0), oc(),
                                   os(), events::task_failed(at(2), 0, kBoom), timer_created(1, at(5)), oc(),
                                   os(), events::timer_fired(at(5), 1, at(5)), scheduled(2), oc(),
                                   os(), events::task_failed(at(6), 2, kBoom), failed_end(), oc(),
                                   os(), events::execution_rewound(at(7), {}), oc()};
  const auto view = rewound_view(log);
  using enum EventType;
  EXPECT_EQ(types(view), (std::vector<EventType>{execution_started, task_scheduled, task_failed, timer_created,
                                                 timer_fired, task_scheduled, execution_rewound}));
  const OpenWork open = open_work(view);
  ASSERT_EQ(open.activities.size(), 1u);
  EXPECT_EQ(open.activities[0].event_id, 2);
  EXPECT_TRUE(open.timers.empty());
}

TEST(RewoundView, VoidsFailuresOfAFanInThatWasStillWaiting) {
  std::vector<HistoryEvent> log = {os(), events::execution_started(at(1), "O", "i", {}), scheduled(0), scheduled(1),
                                   scheduled(2), oc(),
                                   os(), events::task_failed(at(2), 1, kBoom), oc(),  // still waiting: no answer
                                   os(), events::task_completed(at(3), 0, "\x01"), oc(),
                                   os(), events::task_failed(at(4), 2, kBoom), failed_end(), oc(),
                                   os(), events::execution_rewound(at(5), {}), oc()};
  const OpenWork open = open_work(rewound_view(log));
  ASSERT_EQ(open.activities.size(), 2u);
  EXPECT_EQ(open.activities[0].event_id, 1);
  EXPECT_EQ(open.activities[1].event_id, 2);
}

TEST(RewoundView, ALaterFailureAfterTheRewindStays) {
  std::vector<HistoryEvent> log = {os(), events::execution_started(at(1), "O", "i", {}), scheduled(0), oc(),
                                   os(), events::task_failed(at(2), 0, kBoom), failed_end(), oc(),
                                   os(), events::execution_rewound(at(3), {}), oc(),
                                   os(), events::task_failed(at(4), 0, kBoom), failed_end(), oc()};
  using enum EventType;
  EXPECT_EQ(types(rewound_view(log)), (std::vector<EventType>{execution_started, task_scheduled, execution_rewound,
                                                              task_failed, execution_completed}));
  EXPECT_FALSE(rewound_last(rewound_view(log)));
  EXPECT_TRUE(is_rewind(rewound_view(log), std::vector<HistoryEvent>{events::execution_rewound(at(5), {})}));
}

TEST(RecursiveTerminate, RoundTripsAndAPlainOneKeepsItsBytes) {
  const HistoryEvent plain = events::execution_terminated(at(1), "\xa3why");
  const HistoryEvent recursive = events::execution_terminated(at(1), "\xa3why", true);
  const std::vector<HistoryEvent> both = {plain, recursive};
  auto back = decode_events(encode_events(both));
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(*back, both);
  EXPECT_EQ(encode_event(recursive).size(), encode_event(plain).size() + 1) << "one trailing bool";
}

TEST(IsRewind, NeedsAnEndedExecutionAndTheMessage) {
  const std::vector<HistoryEvent> ended = {os(), failed_end(), oc()};
  const std::vector<HistoryEvent> running = {os(), scheduled(0), oc()};
  const std::vector<HistoryEvent> rewind = {events::execution_rewound(at(2), {})};
  const std::vector<HistoryEvent> other = {events::event_raised(at(2), "E", {})};
  EXPECT_TRUE(is_rewind(ended, rewind));
  EXPECT_FALSE(is_rewind(running, rewind));
  EXPECT_FALSE(is_rewind(ended, other));
}

TEST(PlanRewind, RunningAgainWithItsOpenWorkAndChildrenAsked) {
  std::vector<HistoryEvent> history = {os(), events::execution_started(at(1), "O", "p", {}), scheduled(0),
                                       timer_created(1, at(50)), child_created(2, "p:ok"), child_created(3, "p:bad"),
                                       oc(),
                                       os(), events::sub_orchestration_completed(at(2), 2, "\x01"), oc(),
                                       os(), events::sub_orchestration_failed(at(3), 3, kBoom), failed_end(), oc()};
  InstanceState state;
  state.id = "p";
  state.name = "O";
  state.execution_id = "x1";
  state.status = OrchestrationStatus::failed;
  state.custom_status = "\xa4note";
  state.history = history;
  const HistoryEvent rewound = events::execution_rewound(at(9), "\xa5" "fixed");
  const EpisodePlan plan = plan_rewind(state, at(10), rewound);

  using enum EventType;
  EXPECT_EQ(types(plan.new_history), (std::vector<EventType>{execution_rewound}));
  EXPECT_EQ(plan.new_history.size(), 3u);
  EXPECT_EQ(plan.status, OrchestrationStatus::running);
  EXPECT_TRUE(plan.output.empty());
  EXPECT_FALSE(plan.failure);
  EXPECT_EQ(plan.custom_status, "\xa4note");
  EXPECT_FALSE(plan.finished);
  ASSERT_EQ(plan.activities.size(), 1u);
  EXPECT_EQ(plan.activities[0].event_id, 0);
  ASSERT_EQ(plan.timers_created.size(), 1u);
  EXPECT_EQ(plan.timers_created[0], (TimerPlan{1, at(50), "x1"}));
  ASSERT_EQ(plan.messages.size(), 1u);
  EXPECT_EQ(plan.messages[0].target_id, "p:bad");
  EXPECT_EQ(plan.messages[0].event.type, execution_rewound);
  EXPECT_EQ(plan.messages[0].event.input, "\xa5" "fixed");
  HistoryEvent child_start = events::execution_started(at(1), "Child", "p:bad", {}, "c1",
                                                       ParentInstance{"O", "p", "x1", 3});
  EXPECT_TRUE(asked_by_parent(plan.messages[0].event, &child_start));
  child_start.parent->execution_id = "x0";  // another execution of the parent
  EXPECT_FALSE(asked_by_parent(plan.messages[0].event, &child_start));
  EXPECT_FALSE(asked_by_parent(rewound, &child_start)) << "a client's rewind names no parent";
}

TEST(PlanEpisode, RecursiveTerminatePassesToOpenChildrenOnly) {
  std::vector<HistoryEvent> history = {os(), events::execution_started(at(1), "O", "p", {}),
                                       child_created(0, "p:done"), child_created(1, "p:open"), oc(),
                                       os(), events::sub_orchestration_completed(at(2), 0, "\x01"), oc()};
  InstanceState state;
  state.id = "p";
  state.name = "O";
  state.execution_id = "x1";
  state.status = OrchestrationStatus::running;
  state.history = history;
  for (bool recursive : {false, true}) {
    EpisodeResult result;
    result.new_history = {os(), events::execution_terminated(at(3), "\xa3why", recursive),
                          events::execution_completed(at(3), OrchestrationStatus::terminated, "\xa3why"), oc()};
    result.status = OrchestrationStatus::terminated;
    result.output = "\xa3why";
    const EpisodePlan plan = plan_episode(std::move(result), state, at(3), [] { return std::string("new"); });
    if (!recursive) {
      EXPECT_TRUE(plan.messages.empty());
      continue;
    }
    ASSERT_EQ(plan.messages.size(), 1u);
    EXPECT_EQ(plan.messages[0].target_id, "p:open");
    EXPECT_EQ(plan.messages[0].event.type, EventType::execution_terminated);
    EXPECT_TRUE(plan.messages[0].event.recursive);
    EXPECT_EQ(plan.messages[0].event.input, "\xa3why");
  }
}

}  // namespace
}  // namespace durable::orchestration
