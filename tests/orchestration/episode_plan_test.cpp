// The episode planner: engine results in, messages, work and row fields out.
// Results are built by hand, so each test names exactly the actions it plans.

#include "orchestration/episode_plan.hpp"

#include <gtest/gtest.h>

#include "entities/batch.hpp"

namespace durable::orchestration {
namespace {

using namespace std::chrono_literals;
const TimePoint kNow{std::chrono::milliseconds(1'800'000'000'000LL)};

HistoryEvent action(EventType type, int32_t id, std::string target, std::string name = {}, Payload input = {}) {
  HistoryEvent e;
  e.type = type;
  e.event_id = id;
  e.timestamp = kNow;
  e.instance_id = std::move(target);
  e.name = std::move(name);
  e.input = std::move(input);
  return e;
}

HistoryEvent timer(int32_t id, TimePoint at) {
  HistoryEvent e = action(EventType::timer_created, id, {});
  e.fire_at = at;
  return e;
}

HistoryEvent entity_action(EventType type, int32_t id, std::string entity, std::string request) {
  HistoryEvent e = action(type, id, std::move(entity), "add", "\x05");
  e.request_id = std::move(request);
  return e;
}

// OrchestratorStarted, the actions, OrchestratorCompleted, as the engine lays them out.
EpisodeResult result_of(std::vector<HistoryEvent> actions, OrchestrationStatus status = OrchestrationStatus::running) {
  EpisodeResult r;
  r.new_history.push_back(events::orchestrator_started(kNow));
  r.first_action = 1;
  r.action_count = actions.size();
  for (HistoryEvent& a : actions) r.new_history.push_back(std::move(a));
  r.new_history.push_back(events::orchestrator_completed(kNow));
  r.status = status;
  return r;
}

class EpisodePlanTest : public ::testing::Test {
 protected:
  EpisodePlanTest() {
    state_.id = "order-7";
    state_.name = "Process";
    state_.execution_id = "exec-1";
    state_.status = OrchestrationStatus::running;
    state_.open_timers = &open_timers_;
  }

  EpisodePlan plan(EpisodeResult result) {
    return plan_episode(std::move(result), state_, kNow, [this] { return "new-exec-" + std::to_string(++ids_); });
  }
  void give_parent() { state_.parent = &parent_; }
  EpisodeResult ended(OrchestrationStatus status) {
    EpisodeResult r = result_of({}, status);
    r.new_history.insert(r.new_history.end() - 1, events::execution_completed(kNow, status, {}));
    return r;
  }
  // The parent's notice: the plan's last message, checked to be addressed to it.
  const HistoryEvent& parent_notice(const EpisodePlan& p) {
    EXPECT_FALSE(p.messages.empty());
    EXPECT_EQ(p.messages.back().target_id, "shop-1");
    EXPECT_EQ(p.messages.back().target_execution_id, "shop-exec");
    EXPECT_EQ(p.messages.back().event.task_scheduled_id, 4);
    return p.messages.back().event;
  }

  // The state's views point here.
  ParentInstance parent_{"Shop", "shop-1", "shop-exec", 4};
  std::map<int32_t, TimePoint> open_timers_;
  InstanceState state_;
  int ids_ = 0;
};

// --- One action of each kind -------------------------------------------------------------

TEST_F(EpisodePlanTest, TaskScheduled_IsAnActivityAndNoMessage) {
  const HistoryEvent scheduled = action(EventType::task_scheduled, 0, {}, "Charge", "\x01");
  EpisodePlan p = plan(result_of({scheduled}));
  ASSERT_EQ(p.activities.size(), 1u);
  EXPECT_EQ(p.activities[0], scheduled);
  EXPECT_TRUE(p.messages.empty());
  EXPECT_TRUE(p.timers_created.empty());
  EXPECT_FALSE(p.finished);
  EXPECT_EQ(p.new_history.size(), 3u);
}

TEST_F(EpisodePlanTest, TimerCreated_IsArmedForThisExecution) {
  EpisodePlan p = plan(result_of({timer(2, kNow + 60s)}));
  ASSERT_EQ(p.timers_created.size(), 1u);
  EXPECT_EQ(p.timers_created[0], (TimerPlan{2, kNow + 60s, "exec-1"}));
  EXPECT_TRUE(p.timers_fired.empty());
  EXPECT_TRUE(p.activities.empty());
}

TEST_F(EpisodePlanTest, EventSent_IsRaisedAtTheTargetNow) {
  EpisodePlan p = plan(result_of({action(EventType::event_sent, 0, "other-3", "Approved", "\xc3")}));
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].target_id, "other-3");
  EXPECT_EQ(p.messages[0].target_execution_id, "");
  EXPECT_EQ(p.messages[0].event, events::event_raised(kNow, "Approved", "\xc3"));
}

TEST_F(EpisodePlanTest, SubOrchestration_StartsTheChildForANewExecutionNamingThisOneAsParent) {
  EpisodePlan p = plan(result_of({action(EventType::sub_orchestration_instance_created, 5, "child-9", "Ship", "\x07"),
                                  action(EventType::sub_orchestration_instance_created, 6, "child-10", "Bill")}));
  ASSERT_EQ(p.messages.size(), 2u);
  const OutMessage& m = p.messages[0];
  EXPECT_EQ(m.target_id, "child-9");
  EXPECT_EQ(m.target_execution_id, "new-exec-1");
  EXPECT_EQ(m.event, events::execution_started(kNow, "Ship", "child-9", "\x07", "new-exec-1",
                                               ParentInstance{"Process", "order-7", "exec-1", 5}));
  EXPECT_EQ(p.messages[1].target_execution_id, "new-exec-2");
  EXPECT_EQ(p.messages[1].event.parent->task_scheduled_id, 6);
}

// --- Entities: the message in the entity's inbox is entities::to_event's form -----------

// Checks that `m` is the canonical inbox form of an entity message from this
// orchestration, and returns that message.
entities::EntityMessage as_entity_message(const OutMessage& m) {
  auto decoded = entities::from_event(m.event);
  EXPECT_TRUE(decoded.has_value());
  if (!decoded) return {};
  EXPECT_EQ(entities::to_event(*decoded), m.event);
  EXPECT_EQ(decoded->sender, "order-7");
  EXPECT_EQ(decoded->sender_execution, "exec-1");
  EXPECT_EQ(m.target_execution_id, "");
  return *decoded;
}

TEST_F(EpisodePlanTest, EntityCall_GoesToTheEntityAsACallFromThisExecution) {
  EpisodePlan p = plan(result_of({entity_action(EventType::entity_operation_called, 0, "@counter@c1", "req-1")}));
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].target_id, "@counter@c1");
  const entities::EntityMessage m = as_entity_message(p.messages[0]);
  EXPECT_EQ(m.kind, entities::MessageKind::call);
  EXPECT_EQ(m.request_id, "req-1");
  EXPECT_EQ(m.operation, "add");
  EXPECT_EQ(m.input, "\x05");
  EXPECT_FALSE(m.at.has_value());
  EXPECT_TRUE(p.warnings.empty());
}

TEST_F(EpisodePlanTest, EntitySignal_CarriesItsScheduledTime) {
  HistoryEvent later = entity_action(EventType::entity_operation_signaled, 0, "@counter@c1", "req-2");
  later.fire_at = kNow + 1min;
  const HistoryEvent now = entity_action(EventType::entity_operation_signaled, 1, "@counter@c2", "req-3");
  EpisodePlan p = plan(result_of({later, now}));
  ASSERT_EQ(p.messages.size(), 2u);
  const entities::EntityMessage scheduled = as_entity_message(p.messages[0]);
  EXPECT_EQ(scheduled.kind, entities::MessageKind::signal);
  EXPECT_EQ(scheduled.at, kNow + 1min);
  EXPECT_EQ(scheduled.operation, "add");
  EXPECT_EQ(p.messages[1].target_id, "@counter@c2");
  EXPECT_FALSE(as_entity_message(p.messages[1]).at.has_value());
}

TEST_F(EpisodePlanTest, EntityLock_GoesToTheFirstEntityOfTheSortedSet) {
  HistoryEvent lock = entity_action(EventType::entity_lock_requested, 0, "@account@b", "section-1");
  lock.lock_set = {"@account@a", "@account@b"};
  EpisodePlan p = plan(result_of({lock}));
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].target_id, "@account@a");
  const entities::EntityMessage m = as_entity_message(p.messages[0]);
  EXPECT_EQ(m.kind, entities::MessageKind::lock);
  EXPECT_EQ(m.request_id, "section-1");
  EXPECT_EQ(m.lock_set, lock.lock_set);
}

TEST_F(EpisodePlanTest, EntityUnlock_GoesToTheEntityItNames) {
  EpisodePlan p = plan(result_of({entity_action(EventType::entity_unlock_sent, 0, "@account@b", "section-1")}));
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(p.messages[0].target_id, "@account@b");
  const entities::EntityMessage m = as_entity_message(p.messages[0]);
  EXPECT_EQ(m.kind, entities::MessageKind::unlock);
  EXPECT_EQ(m.request_id, "section-1");
}

TEST_F(EpisodePlanTest, UnknownAction_IsAWarningNotWork) {
  EpisodePlan p = plan(result_of({action(EventType::event_raised, 0, {}, "Odd")}));
  EXPECT_TRUE(p.messages.empty());
  EXPECT_TRUE(p.activities.empty());
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0], "action EventRaised is not supported yet");
}

TEST_F(EpisodePlanTest, RowFields_AreTheResults) {
  EpisodeResult r = result_of({});
  r.custom_status = "\xa4step";
  EpisodePlan p = plan(std::move(r));
  EXPECT_EQ(p.status, OrchestrationStatus::running);
  EXPECT_EQ(p.custom_status, "\xa4step");
  EXPECT_FALSE(p.failure.has_value());
}

// --- Continue-as-new -----------------------------------------------------------------------

TEST_F(EpisodePlanTest, ContinueAsNew_KeepsMessagesSentBeforeAndStartsANewExecution) {
  give_parent();
  open_timers_ = {{1, kNow + 5s}};
  EpisodeResult r = result_of({action(EventType::event_sent, 0, "other-3", "Tick"),
                               action(EventType::task_scheduled, 1, {}, "Work"), timer(2, kNow + 1h),
                               action(EventType::sub_orchestration_instance_created, 3, "child-9", "Ship")},
                              OrchestrationStatus::continued_as_new);
  r.continue_as_new = ContinueAsNewRequest{"\x02", {events::event_raised(kNow - 1s, "Carried", "\x09")}, {}};
  EpisodePlan p = plan(std::move(r));

  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].target_id, "other-3");
  EXPECT_EQ(p.messages[1].target_execution_id, "new-exec-1");  // the child's id comes first
  EXPECT_TRUE(p.activities.empty());
  EXPECT_TRUE(p.timers_created.empty());
  EXPECT_TRUE(p.timers_fired.empty()) << "the caller's new execution closes the old timers";
  EXPECT_FALSE(p.finished);
  ASSERT_TRUE(p.continued.has_value());
  EXPECT_EQ(p.continued->started,
            events::execution_started(kNow, "Process", "order-7", "\x02", "new-exec-2", parent_));
  ASSERT_EQ(p.continued->carried_events.size(), 1u);
  EXPECT_EQ(p.continued->carried_events[0].name, "Carried");
}

TEST_F(EpisodePlanTest, ContinueAsNew_KeepsTheVersionUnlessGivenANewOne) {
  state_.version = "1.4";
  EpisodeResult keep = result_of({}, OrchestrationStatus::continued_as_new);
  keep.continue_as_new = ContinueAsNewRequest{"\x02", {}, {}};
  EpisodePlan kept = plan(std::move(keep));
  ASSERT_TRUE(kept.continued.has_value());
  EXPECT_EQ(kept.continued->started.version, "1.4");

  EpisodeResult change = result_of({}, OrchestrationStatus::continued_as_new);
  change.continue_as_new = ContinueAsNewRequest{"\x02", {}, "2.0"};
  EpisodePlan changed = plan(std::move(change));
  ASSERT_TRUE(changed.continued.has_value());
  EXPECT_EQ(changed.continued->started.version, "2.0");
}

// --- The end of an execution ---------------------------------------------------------------

TEST_F(EpisodePlanTest, Completed_TellsTheParentTheOutput) {
  give_parent();
  EpisodeResult r = ended(OrchestrationStatus::completed);
  r.output = "\x2a";
  EpisodePlan p = plan(std::move(r));
  EXPECT_TRUE(p.finished);
  ASSERT_EQ(p.messages.size(), 1u);
  EXPECT_EQ(parent_notice(p), events::sub_orchestration_completed(kNow, 4, "\x2a"));
}

TEST_F(EpisodePlanTest, Failed_TellsTheParentTheFailure) {
  give_parent();
  EpisodeResult r = ended(OrchestrationStatus::failed);
  r.failure = FailureDetails{"std::runtime_error", "out of stock", {}};
  EpisodePlan p = plan(std::move(r));
  EXPECT_EQ(parent_notice(p), events::sub_orchestration_failed(kNow, 4, *p.failure));
  EXPECT_EQ(p.failure->message, "out of stock");
}

TEST_F(EpisodePlanTest, Terminated_TellsTheParentItWasTerminated) {
  give_parent();
  EpisodePlan p = plan(ended(OrchestrationStatus::terminated));
  EXPECT_EQ(parent_notice(p),
            events::sub_orchestration_failed(
                kNow, 4, {"SubOrchestrationTerminated", "sub-orchestration 'order-7' was terminated", {}}));
}

TEST_F(EpisodePlanTest, End_FiresEveryTimerAndDropsTheWorkAndTheNoticeComesLast) {
  give_parent();
  open_timers_ = {{1, kNow + 5s}, {3, kNow + 9s}};
  EpisodeResult r = result_of({action(EventType::event_sent, 0, "other-3", "Bye"),
                               action(EventType::task_scheduled, 4, {}, "Work"), timer(5, kNow + 1h)},
                              OrchestrationStatus::completed);
  EpisodePlan p = plan(std::move(r));
  EXPECT_TRUE(p.finished);
  EXPECT_TRUE(p.activities.empty());
  EXPECT_TRUE(p.timers_created.empty());
  EXPECT_EQ(p.timers_fired, (std::vector<TimerPlan>{
                                {1, kNow + 5s, "exec-1"}, {3, kNow + 9s, "exec-1"}, {5, kNow + 1h, "exec-1"}}));
  ASSERT_EQ(p.messages.size(), 2u);
  EXPECT_EQ(p.messages[0].target_id, "other-3");
  EXPECT_EQ(parent_notice(p).type, EventType::sub_orchestration_instance_completed);
}

TEST_F(EpisodePlanTest, End_WithoutAParent_SendsNothing) {
  EpisodePlan p = plan(ended(OrchestrationStatus::completed));
  EXPECT_TRUE(p.finished);
  EXPECT_TRUE(p.messages.empty());
}

TEST_F(EpisodePlanTest, AnExecutionThatHadEnded_DoesNotEndAgain) {
  give_parent();
  state_.status = OrchestrationStatus::completed;
  open_timers_ = {{1, kNow + 5s}};
  EpisodePlan p = plan(result_of({}, OrchestrationStatus::completed));
  EXPECT_FALSE(p.finished);
  EXPECT_TRUE(p.messages.empty());
  EXPECT_TRUE(p.timers_fired.empty());
}

// --- Duplicate starts ----------------------------------------------------------------------

TEST_F(EpisodePlanTest, DuplicateStarts_AreRemovedAndAParentIsToldTheInstanceRuns) {
  std::vector<HistoryEvent> batch = {
      events::execution_started(kNow - 2s, "Process", "order-7", {}, "e2", ParentInstance{"Shop", "shop-1", "shop-exec", 8}),
      events::event_raised(kNow, "Approved", {}),
      events::execution_started(kNow, "Process", "order-7", {}, "e3"),
      events::event_raised(kNow, "Paid", {})};
  RefusedStarts refused = refuse_duplicate_starts("order-7", batch);
  EXPECT_EQ(refused.count, 2u);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].name, "Approved");
  EXPECT_EQ(batch[1].name, "Paid");
  ASSERT_EQ(refused.notices.size(), 1u);
  EXPECT_EQ(refused.notices[0].target_id, "shop-1");
  EXPECT_EQ(refused.notices[0].target_execution_id, "shop-exec");
  EXPECT_EQ(refused.notices[0].event,
            events::sub_orchestration_failed(
                kNow - 2s, 8, {"InstanceAlreadyRunning", "an instance with id 'order-7' is already running", {}}));
}

// --- The action limit ----------------------------------------------------------------------

TEST_F(EpisodePlanTest, ActionLimit_FailsBeforeTheClosingOrchestratorCompleted) {
  EpisodeResult r = result_of({action(EventType::task_scheduled, 7, {}, "Work")});
  r.output = "\x01";
  ASSERT_TRUE(enforce_action_limit(r, "order-7", 8, 10, kNow));  // 8 + 3 events
  ASSERT_EQ(r.new_history.size(), 4u);
  EXPECT_EQ(r.new_history[2].type, EventType::execution_completed);
  EXPECT_EQ(r.new_history[2].status, OrchestrationStatus::failed);
  EXPECT_EQ(r.new_history[3].type, EventType::orchestrator_completed);
  EXPECT_EQ(r.status, OrchestrationStatus::failed);
  EXPECT_EQ(r.failure->error_type, "ActionLimitExceeded");
  EXPECT_EQ(*r.new_history[2].failure, *r.failure);
  EXPECT_NE(r.failure->message.find("has 11 events, over the limit of 10"), std::string::npos) << r.failure->message;
  EXPECT_TRUE(r.output.empty());
  EXPECT_TRUE(r.actions().empty());

  give_parent();
  EpisodePlan p = plan(std::move(r));
  EXPECT_TRUE(p.activities.empty()) << "nothing the failed episode scheduled runs";
  EXPECT_EQ(parent_notice(p).failure->error_type, "ActionLimitExceeded");
}

TEST_F(EpisodePlanTest, ActionLimit_LeavesAResultAtOrUnderTheLimitOrAlreadyEnded) {
  EpisodeResult at = result_of({action(EventType::task_scheduled, 7, {}, "Work")});
  EXPECT_FALSE(enforce_action_limit(at, "order-7", 7, 10, kNow));
  EXPECT_EQ(at.new_history.size(), 3u);
  EXPECT_EQ(at.actions().size(), 1u);
  EpisodeResult done = ended(OrchestrationStatus::completed);
  EXPECT_FALSE(enforce_action_limit(done, "order-7", 100, 10, kNow));
  EXPECT_EQ(done.status, OrchestrationStatus::completed);
}

// --- Quarantine ----------------------------------------------------------------------------

TEST_F(EpisodePlanTest, Quarantine_FailsWithPoisonMessageNamingTheCount) {
  give_parent();
  state_.custom_status = "\xa4half";
  open_timers_ = {{2, kNow + 1min}};
  const std::string reason = poison_reason(3, "boom");
  EXPECT_EQ(reason, "episode crashed 3 times: boom");
  EpisodePlan p = plan_quarantine(state_, kNow, nullptr, reason, 5);
  EXPECT_EQ(p.status, OrchestrationStatus::failed);
  const FailureDetails expected{
      "PoisonMessage",
      "instance 'order-7': episode crashed 3 times: boom; its 5 message(s) were moved to the dead-letter stream", {}};
  EXPECT_EQ(p.failure, expected);
  EXPECT_EQ(p.custom_status, "\xa4half");
  EXPECT_TRUE(p.output.empty());
  EXPECT_TRUE(p.finished);
  ASSERT_EQ(p.new_history.size(), 3u);
  EXPECT_EQ(p.new_history[0], events::orchestrator_started(kNow));
  EXPECT_EQ(p.new_history[1], events::execution_completed(kNow, OrchestrationStatus::failed, {}, expected));
  EXPECT_EQ(p.new_history[2], events::orchestrator_completed(kNow));
  EXPECT_EQ(p.timers_fired, (std::vector<TimerPlan>{{2, kNow + 1min, "exec-1"}}));
  EXPECT_EQ(parent_notice(p), events::sub_orchestration_failed(kNow, 4, expected));
}

TEST_F(EpisodePlanTest, Quarantine_OfAStart_RecordsTheStart) {
  const HistoryEvent started = events::execution_started(kNow, "Process", "order-7", "\x01", "exec-1");
  EpisodePlan p = plan_quarantine(state_, kNow, &started, poison_reason(3, "boom"), 1);
  ASSERT_EQ(p.new_history.size(), 4u);
  EXPECT_EQ(p.new_history[1], started);
  EXPECT_EQ(p.new_history[2].type, EventType::execution_completed);
  EXPECT_TRUE(p.messages.empty());
  EXPECT_NE(p.failure->message.find("its 1 message(s)"), std::string::npos);
}

}  // namespace
}  // namespace durable::orchestration
