// Tests of durabletask/worker_hub: the work items between the node and the
// workers, through fake streams (no gRPC): the queue and its order, the
// limits, the filters, the completion tokens, and what happens to an item
// whose worker goes away, stays silent or gives it back.

#include "durabletask/worker_hub.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace durable::durabletask {
namespace {

using namespace std::chrono_literals;
using Item = std::shared_ptr<const ::WorkItem>;

// A worker's stream: records what it is sent, in order. Thread-safe.
// Optionally also to a stream shared with other workers' (`also`).
class FakeStream : public WorkerHub::Stream {
 public:
  explicit FakeStream(FakeStream* also = nullptr) : also_(also) {}

  void send(Item item) override {
    if (also_) also_->send(item);
    {
      std::lock_guard lock(mu_);
      items_.push_back(std::move(item));
    }
    changed_.notify_all();
  }

  size_t count() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  Item at(size_t i) const {
    std::lock_guard lock(mu_);
    return i < items_.size() ? items_[i] : nullptr;
  }
  Item last() const {
    std::lock_guard lock(mu_);
    return items_.empty() ? nullptr : items_.back();
  }
  /// What each item sent is for: the orchestrator's instance id, or the
  /// activity's name, in the order sent.
  std::vector<std::string> names() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& item : items_) {
      out.push_back(item->has_orchestratorrequest() ? item->orchestratorrequest().instanceid()
                                                    : item->activityrequest().name());
    }
    return out;
  }
  /// Waits (up to `timeout`) until at least `n` items have been sent.
  bool wait_for(size_t n, std::chrono::milliseconds timeout = 5s) const {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, timeout, [&] { return items_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::vector<Item> items_;
  FakeStream* const also_;
};

// A worker's request: its limits (0: the hub's default) and, optionally,
// the activity names it takes.
::GetWorkItemsRequest worker(int32_t orchestrations = 0, int32_t activities = 0,
                             std::vector<std::string> activity_filter = {}) {
  ::GetWorkItemsRequest r;
  r.set_maxconcurrentorchestrationworkitems(orchestrations);
  r.set_maxconcurrentactivityworkitems(activities);
  if (!activity_filter.empty()) {
    for (const auto& name : activity_filter) r.mutable_workitemfilters()->add_activities()->set_name(name);
  }
  return r;
}

// The answers each item got, by a label given when it was submitted.
struct Answers {
  std::mutex mu;
  std::map<std::string, int> calls;
  std::map<std::string, std::string> custom_status;  // orchestrators: of the last answer
  std::map<std::string, std::string> result;         // activities: of the last answer

  int of(const std::string& label) {
    std::lock_guard lock(mu);
    return calls.count(label) ? calls[label] : 0;
  }
  int total() {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& [label, c] : calls) n += c;
    return n;
  }
};

// Submits an orchestrator item for `instance`; its answers are recorded
// under `label` (the instance, unless given).
void submit_orchestrator(WorkerHub& hub, Answers& answers, const std::string& instance, std::string label = {},
                         const std::string& name = "Orch") {
  if (label.empty()) label = instance;
  ::OrchestratorRequest request;
  request.set_instanceid(instance);
  request.mutable_executionid()->set_value(label);  // tells the versions of an instance apart
  hub.submit_orchestrator(instance, name, std::move(request), [&answers, label](const ::OrchestratorResponse& r) {
    std::lock_guard lock(answers.mu);
    ++answers.calls[label];
    answers.custom_status[label] = r.customstatus().value();
  });
}

// Submits an activity item; its answers are recorded under
// "<instance>/<task_id>".
void submit_activity(WorkerHub& hub, Answers& answers, const std::string& name, const std::string& instance = "i",
                     int32_t task_id = 0) {
  ::ActivityRequest request;
  request.set_name(name);
  request.mutable_orchestrationinstance()->set_instanceid(instance);
  request.set_taskid(task_id);
  const std::string label = instance + "/" + std::to_string(task_id);
  hub.submit_activity(std::move(request), [&answers, label](const ::ActivityResponse& r) {
    std::lock_guard lock(answers.mu);
    ++answers.calls[label];
    answers.result[label] = r.result().value();
  });
}

// A worker's answer to the orchestrator item `item` (or, with an empty
// token, to whatever is out for `instance`).
::OrchestratorResponse orchestrator_answer(const std::string& token, const std::string& instance,
                                           const std::string& custom_status = "answered") {
  ::OrchestratorResponse r;
  r.set_instanceid(instance);
  r.set_completiontoken(token);
  r.mutable_customstatus()->set_value(custom_status);
  return r;
}
::OrchestratorResponse orchestrator_answer(const Item& item, const std::string& custom_status = "answered") {
  return orchestrator_answer(item->completiontoken(), item->orchestratorrequest().instanceid(), custom_status);
}

::ActivityResponse activity_answer(const std::string& token, const std::string& instance, int32_t task_id,
                                   const std::string& result = "\"done\"") {
  ::ActivityResponse r;
  r.set_instanceid(instance);
  r.set_taskid(task_id);
  r.set_completiontoken(token);
  r.mutable_result()->set_value(result);
  return r;
}
::ActivityResponse activity_answer(const Item& item, const std::string& result = "\"done\"") {
  const auto& a = item->activityrequest();
  return activity_answer(item->completiontoken(), a.orchestrationinstance().instanceid(), a.taskid(), result);
}

// Expects a refusal: `code`, with a message naming `token`.
::testing::AssertionResult refused(const Status& s, Errc code, const std::string& token) {
  if (s.code() != code) {
    return ::testing::AssertionFailure() << "expected " << errc_name(code) << ", got " << s.to_string();
  }
  if (s.message().find(token) == std::string::npos) {
    return ::testing::AssertionFailure() << "the message does not name token '" << token << "': " << s.message();
  }
  return ::testing::AssertionSuccess();
}

using Names = std::vector<std::string>;

// ------------------------------------------------------------------ queue and limits

TEST(WorkerHub, ItemsWaitUntilAWorkerConnects_ThenGoInOrder) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  submit_activity(hub, answers, "a1");
  submit_orchestrator(hub, answers, "o3");
  submit_activity(hub, answers, "a2");
  EXPECT_EQ(hub.queued(), 5u);
  EXPECT_EQ(hub.out(), 0u);

  FakeStream s;
  hub.connect(&s, worker());
  // Orchestrators first in their order, then activities in theirs.
  EXPECT_EQ(s.names(), (Names{"o1", "o2", "o3", "a1", "a2"}));
  EXPECT_EQ(hub.queued(), 0u);
  EXPECT_EQ(hub.out(), 5u);
  EXPECT_EQ(hub.workers(), 1u);
  EXPECT_EQ(answers.total(), 0);
}

TEST(WorkerHub, AWorkerGetsAtMostItsLimit_TheRestWaitInOrder) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker(/*orchestrations=*/2, /*activities=*/1));
  for (const char* id : {"o1", "o2", "o3", "o4"}) submit_orchestrator(hub, answers, id);
  submit_activity(hub, answers, "a1", "i", 0);
  submit_activity(hub, answers, "a2", "i", 1);
  EXPECT_EQ(s.names(), (Names{"o1", "o2", "a1"}));
  EXPECT_EQ(hub.queued(), 3u);

  // Each answer lets the next one of its kind go, first come first served.
  ASSERT_TRUE(hub.complete_orchestrator(orchestrator_answer(s.at(1))));  // o2
  EXPECT_EQ(s.names(), (Names{"o1", "o2", "a1", "o3"}));
  ASSERT_TRUE(hub.complete_activity(activity_answer(s.at(2))));  // a1
  EXPECT_EQ(s.names(), (Names{"o1", "o2", "a1", "o3", "a2"}));
  ASSERT_TRUE(hub.complete_orchestrator(orchestrator_answer(s.at(0))));  // o1
  EXPECT_EQ(s.names(), (Names{"o1", "o2", "a1", "o3", "a2", "o4"}));
  EXPECT_EQ(hub.queued(), 0u);
  EXPECT_EQ(hub.out(), 3u);
}

TEST(WorkerHub, AWorkerThatSetsNoLimitGetsTheDefaultLimit) {
  WorkerHub::Options options;
  options.default_limit = 3;
  WorkerHub hub{options};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker());
  for (int i = 0; i < 5; ++i) submit_orchestrator(hub, answers, "o" + std::to_string(i));
  for (int i = 0; i < 5; ++i) submit_activity(hub, answers, "a" + std::to_string(i), "i", i);
  EXPECT_EQ(s.names(), (Names{"o0", "o1", "o2", "a0", "a1", "a2"}));
  EXPECT_EQ(hub.out(), 6u);
  EXPECT_EQ(hub.queued(), 4u);
}

// ------------------------------------------------------------------ tokens

TEST(WorkerHub, EachHandOutHasItsOwnToken_AnAnswerCallsDoneOnce_ASecondIsNotFound) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker());
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  submit_activity(hub, answers, "a", "o1", 0);
  ASSERT_EQ(s.count(), 3u);
  const std::string t1 = s.at(0)->completiontoken(), t2 = s.at(1)->completiontoken(),
                    t3 = s.at(2)->completiontoken();
  EXPECT_FALSE(t1.empty());
  EXPECT_NE(t1, t2);
  EXPECT_NE(t1, t3);
  EXPECT_NE(t2, t3);

  ASSERT_TRUE(hub.complete_orchestrator(orchestrator_answer(s.at(0), "first")));
  EXPECT_EQ(answers.of("o1"), 1);
  EXPECT_EQ(answers.custom_status["o1"], "first");  // the response itself reached done
  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(s.at(0), "again")), Errc::not_found, t1));
  EXPECT_EQ(answers.of("o1"), 1);
  EXPECT_EQ(answers.custom_status["o1"], "first");

  ASSERT_TRUE(hub.complete_activity(activity_answer(s.at(2), "\"r\"")));
  EXPECT_EQ(answers.of("o1/0"), 1);
  EXPECT_EQ(answers.result["o1/0"], "\"r\"");
  EXPECT_TRUE(refused(hub.complete_activity(activity_answer(s.at(2))), Errc::not_found, t3));
  EXPECT_TRUE(refused(hub.abandon(t3, WorkerHub::kActivity), Errc::not_found, t3));
  EXPECT_EQ(answers.of("o1/0"), 1);

  // Never issued.
  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer("made-up-token", "o2")), Errc::not_found,
                      "made-up-token"));
  EXPECT_EQ(answers.of("o2"), 0);
  EXPECT_EQ(hub.out(), 1u);
}

TEST(WorkerHub, ATokenOfTheOtherKindIsInvalidArgument_AndTheItemStaysOut) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker());
  submit_orchestrator(hub, answers, "o1");
  submit_activity(hub, answers, "a", "o1", 0);
  ASSERT_EQ(s.count(), 2u);
  const Item orchestrator = s.at(0), activity = s.at(1);

  EXPECT_TRUE(refused(hub.complete_activity(activity_answer(orchestrator->completiontoken(), "o1", 0)),
                      Errc::invalid_argument, orchestrator->completiontoken()));
  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(activity->completiontoken(), "o1")),
                      Errc::invalid_argument, activity->completiontoken()));
  EXPECT_TRUE(refused(hub.abandon(orchestrator->completiontoken(), WorkerHub::kActivity), Errc::invalid_argument,
                      orchestrator->completiontoken()));
  EXPECT_EQ(answers.total(), 0);
  EXPECT_EQ(hub.out(), 2u);
  EXPECT_EQ(s.count(), 2u);

  EXPECT_TRUE(hub.complete_orchestrator(orchestrator_answer(orchestrator)));
  EXPECT_TRUE(hub.complete_activity(activity_answer(activity)));
  EXPECT_EQ(answers.of("o1"), 1);
  EXPECT_EQ(answers.of("o1/0"), 1);
}

// ------------------------------------------------------------------ filters

TEST(WorkerHub, AWorkerWithFiltersGetsOnlyTheActivitiesItListed_CaseInsensitively_AnotherGetsTheRest) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream filtered;
  hub.connect(&filtered, worker(0, 0, {"a"}));
  submit_activity(hub, answers, "A", "i", 0);
  submit_activity(hub, answers, "b", "i", 1);
  submit_activity(hub, answers, "a", "i", 2);
  submit_orchestrator(hub, answers, "o1");  // it listed no orchestrators: it takes them all
  EXPECT_EQ(filtered.names(), (Names{"A", "a", "o1"}));
  EXPECT_EQ(hub.queued(), 1u);  // "b" waits for a worker that takes it

  FakeStream any;
  hub.connect(&any, worker());
  EXPECT_EQ(any.names(), (Names{"b"}));
  submit_activity(hub, answers, "c", "i", 3);
  EXPECT_EQ(any.names(), (Names{"b", "c"}));
  EXPECT_EQ(filtered.names(), (Names{"A", "a", "o1"}));
  EXPECT_EQ(hub.queued(), 0u);
}

// ------------------------------------------------------------------ one orchestrator item per instance

TEST(WorkerHub, ANewOrchestratorItemForAnInstanceReplacesTheOneOut_WhoseTokenIsRefused) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker());
  submit_orchestrator(hub, answers, "o1", "v1");
  ASSERT_EQ(s.count(), 1u);
  submit_orchestrator(hub, answers, "o1", "v2");
  ASSERT_EQ(s.count(), 2u);
  const Item old_item = s.at(0), new_item = s.at(1);
  EXPECT_EQ(new_item->orchestratorrequest().executionid().value(), "v2");
  EXPECT_NE(old_item->completiontoken(), new_item->completiontoken());
  EXPECT_EQ(hub.out(), 1u);

  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(old_item)), Errc::not_found,
                      old_item->completiontoken()));
  EXPECT_TRUE(hub.complete_orchestrator(orchestrator_answer(new_item)));
  EXPECT_EQ(answers.of("v1"), 0);
  EXPECT_EQ(answers.of("v2"), 1);
  EXPECT_EQ(hub.out(), 0u);
}

TEST(WorkerHub, ANewOrchestratorItemForAnInstanceReplacesTheOneQueued) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  submit_orchestrator(hub, answers, "o1", "v1");
  submit_orchestrator(hub, answers, "o2");
  submit_orchestrator(hub, answers, "o1", "v2");
  EXPECT_EQ(hub.queued(), 2u);
  FakeStream s;
  hub.connect(&s, worker());
  ASSERT_EQ(s.names(), (Names{"o2", "o1"}));
  EXPECT_EQ(s.at(1)->orchestratorrequest().executionid().value(), "v2");
  EXPECT_TRUE(hub.complete_orchestrator(orchestrator_answer(s.at(1))));
  EXPECT_EQ(answers.of("v1"), 0);
  EXPECT_EQ(answers.of("v2"), 1);
}

TEST(WorkerHub, AWithdrawnOrchestratorItemIsDropped_ItsTokenIsRefused) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  submit_orchestrator(hub, answers, "queued");
  hub.withdraw_orchestrator("queued");
  EXPECT_EQ(hub.queued(), 0u);

  FakeStream s;
  hub.connect(&s, worker());
  EXPECT_EQ(s.count(), 0u);
  submit_orchestrator(hub, answers, "out");
  ASSERT_EQ(s.count(), 1u);
  hub.withdraw_orchestrator("out");
  hub.withdraw_orchestrator("never-submitted");  // nothing happens
  EXPECT_EQ(hub.out(), 0u);
  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(s.at(0))), Errc::not_found,
                      s.at(0)->completiontoken()));
  EXPECT_EQ(answers.total(), 0);
}

TEST(WorkerHub, WithdrawingTheItemOutToAFullWorker_LetsTheNextOneGo) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker(/*orchestrations=*/1));
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  ASSERT_EQ(s.names(), (Names{"o1"}));
  hub.withdraw_orchestrator("o1");
  // The worker has room again: o2 should not wait for an unrelated event.
  EXPECT_TRUE(s.wait_for(2, 1s)) << "o2 is still queued after o1 was withdrawn from the worker's only slot";
  EXPECT_EQ(s.names(), (Names{"o1", "o2"}));
}

TEST(WorkerHub, AnAnswerNamingAnotherInstanceIsRefused_AndStillOneItemPerInstance) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker());
  submit_orchestrator(hub, answers, "o1", "v1");
  ASSERT_EQ(s.count(), 1u);
  const Status refusal = hub.complete_orchestrator(orchestrator_answer(s.at(0)->completiontoken(), "o2"));
  EXPECT_EQ(refusal.code(), Errc::invalid_argument) << refusal.to_string();
  EXPECT_NE(refusal.message().find("'o1'"), std::string::npos) << refusal.message();
  EXPECT_NE(refusal.message().find("'o2'"), std::string::npos) << refusal.message();
  EXPECT_EQ(answers.total(), 0);

  // A new item for o1 replaces whatever the hub still has for o1.
  submit_orchestrator(hub, answers, "o1", "v2");
  EXPECT_EQ(hub.out() + hub.queued(), 1u) << "two orchestrator items for instance o1";
  ASSERT_TRUE(s.last());
  EXPECT_EQ(s.last()->orchestratorrequest().executionid().value(), "v2");
  EXPECT_TRUE(hub.complete_orchestrator(orchestrator_answer(s.last())));
  EXPECT_EQ(answers.of("v2"), 1);
  EXPECT_EQ(answers.of("v1"), 0);
}

// ------------------------------------------------------------------ workers that go away or stay silent

TEST(WorkerHub, WhenAWorkerDisconnects_ItsItemsGoToAnother_WithNewTokens) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream first, second;
  const uint64_t w1 = hub.connect(&first, worker());
  submit_orchestrator(hub, answers, "o1");
  submit_activity(hub, answers, "a", "o1", 0);
  ASSERT_EQ(first.names(), (Names{"o1", "a"}));
  hub.connect(&second, worker());
  EXPECT_EQ(second.count(), 0u);

  hub.disconnect(w1);
  EXPECT_EQ(hub.workers(), 1u);
  ASSERT_EQ(second.names(), (Names{"o1", "a"}));
  EXPECT_EQ(first.count(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_NE(first.at(i)->completiontoken(), second.at(i)->completiontoken());

  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(first.at(0))), Errc::not_found,
                      first.at(0)->completiontoken()));
  EXPECT_TRUE(refused(hub.complete_activity(activity_answer(first.at(1))), Errc::not_found,
                      first.at(1)->completiontoken()));
  EXPECT_TRUE(hub.complete_orchestrator(orchestrator_answer(second.at(0))));
  EXPECT_TRUE(hub.complete_activity(activity_answer(second.at(1))));
  EXPECT_EQ(answers.of("o1"), 1);
  EXPECT_EQ(answers.of("o1/0"), 1);

  hub.disconnect(w1);  // again: nothing happens
  EXPECT_EQ(hub.workers(), 1u);
}

TEST(WorkerHub, WhenTheOnlyWorkerDisconnects_ItsItemsWaitForTheNext) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream first, second;
  const uint64_t w1 = hub.connect(&first, worker());
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  hub.disconnect(w1);
  EXPECT_EQ(hub.out(), 0u);
  EXPECT_EQ(hub.queued(), 2u);
  hub.connect(&second, worker());
  EXPECT_EQ(second.names(), (Names{"o1", "o2"}));
}

TEST(WorkerHub, AnItemUnansweredForTheWorkerTimeoutIsHandedOutAgain_WithANewToken) {
  WorkerHub::Options options;
  options.worker_timeout = 200ms;
  WorkerHub hub{options};
  Answers answers;
  FakeStream both;  // what a and b are sent, in the order sent
  FakeStream a(&both), b(&both);
  hub.connect(&a, worker());
  hub.connect(&b, worker());
  submit_orchestrator(hub, answers, "o1");
  ASSERT_EQ(a.count() + b.count(), 1u);
  const Item first = a.count() ? a.at(0) : b.at(0);

  // Handed out again, to either worker: wait for it with a deadline.
  ASSERT_TRUE(both.wait_for(2, 5s)) << "not handed out again within 5 s of a 200 ms worker timeout";
  const Item again = both.at(1);
  EXPECT_EQ(again->orchestratorrequest().instanceid(), "o1");
  EXPECT_NE(again->completiontoken(), first->completiontoken());

  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(first)), Errc::not_found,
                      first->completiontoken()));
  EXPECT_EQ(answers.of("o1"), 0);
  // The second hand-out may have timed out too by now (a slow machine):
  // answer the newest hand-out until one answer lands.
  Status s = hub.complete_orchestrator(orchestrator_answer(again));
  for (int tries = 0; !s && tries < 50; ++tries) s = hub.complete_orchestrator(orchestrator_answer(both.last()));
  EXPECT_TRUE(s) << s.to_string();
  EXPECT_EQ(answers.of("o1"), 1);
}

// ------------------------------------------------------------------ abandon, answers without a token

TEST(WorkerHub, AnAbandonedItemGoesBackFirstInLine) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker(/*orchestrations=*/1, /*activities=*/1));
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  submit_activity(hub, answers, "a1", "i", 0);
  submit_activity(hub, answers, "a2", "i", 1);
  ASSERT_EQ(s.names(), (Names{"o1", "a1"}));

  ASSERT_TRUE(hub.abandon(s.at(0)->completiontoken(), WorkerHub::kOrchestrator));
  ASSERT_TRUE(hub.abandon(s.at(1)->completiontoken(), WorkerHub::kActivity));
  ASSERT_EQ(s.names(), (Names{"o1", "a1", "o1", "a1"}));
  EXPECT_NE(s.at(2)->completiontoken(), s.at(0)->completiontoken());
  EXPECT_TRUE(refused(hub.complete_orchestrator(orchestrator_answer(s.at(0))), Errc::not_found,
                      s.at(0)->completiontoken()));
  EXPECT_TRUE(refused(hub.abandon(s.at(0)->completiontoken(), WorkerHub::kOrchestrator), Errc::not_found,
                      s.at(0)->completiontoken()));

  // Still the instance's item: a new one for o1 replaces it.
  submit_orchestrator(hub, answers, "o1", "o1-v2");
  EXPECT_EQ(hub.out() + hub.queued(), 4u);  // o1 (v2), o2, a1, a2

  EXPECT_TRUE(hub.complete_activity(activity_answer(s.at(3))));
  EXPECT_EQ(answers.of("i/0"), 1);
  EXPECT_EQ(s.names().back(), "a2");
}

TEST(WorkerHub, AnswersWithoutATokenAreMatchedByInstance_AndActivitiesByInstanceAndTaskId) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker());
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  submit_activity(hub, answers, "a", "o1", 0);
  submit_activity(hub, answers, "a", "o1", 1);
  submit_activity(hub, answers, "a", "o2", 1);
  ASSERT_EQ(s.count(), 5u);

  ASSERT_TRUE(hub.complete_orchestrator(orchestrator_answer("", "o2", "by instance")));
  EXPECT_EQ(answers.of("o2"), 1);
  EXPECT_EQ(answers.of("o1"), 0);
  EXPECT_EQ(answers.custom_status["o2"], "by instance");
  ASSERT_TRUE(hub.complete_activity(activity_answer("", "o1", 1, "\"by task\"")));
  EXPECT_EQ(answers.of("o1/1"), 1);
  EXPECT_EQ(answers.of("o1/0"), 0);
  EXPECT_EQ(answers.of("o2/1"), 0);
  EXPECT_EQ(answers.result["o1/1"], "\"by task\"");

  // Nothing out for them (any more): refused.
  EXPECT_EQ(hub.complete_orchestrator(orchestrator_answer("", "o2")).code(), Errc::not_found);
  EXPECT_EQ(hub.complete_orchestrator(orchestrator_answer("", "unknown")).code(), Errc::not_found);
  EXPECT_EQ(hub.complete_activity(activity_answer("", "o1", 1)).code(), Errc::not_found);
  EXPECT_EQ(hub.complete_activity(activity_answer("", "o1", 7)).code(), Errc::not_found);
  EXPECT_EQ(answers.total(), 2);
  EXPECT_EQ(hub.out(), 3u);
}

// ------------------------------------------------------------------ stop

TEST(WorkerHub, StopDropsEverything_LaterSubmitsAreDropped_NoCallbacks) {
  WorkerHub hub{WorkerHub::Options{}};
  Answers answers;
  FakeStream s;
  hub.connect(&s, worker(/*orchestrations=*/1, /*activities=*/1));
  submit_orchestrator(hub, answers, "o1");
  submit_orchestrator(hub, answers, "o2");
  submit_activity(hub, answers, "a1", "i", 0);
  submit_activity(hub, answers, "a2", "i", 1);
  ASSERT_EQ(s.count(), 2u);
  EXPECT_EQ(hub.queued(), 2u);

  hub.stop();
  EXPECT_EQ(hub.queued(), 0u);
  EXPECT_EQ(hub.out(), 0u);
  EXPECT_EQ(hub.complete_orchestrator(orchestrator_answer(s.at(0))).code(), Errc::not_found);
  EXPECT_EQ(hub.complete_activity(activity_answer(s.at(1))).code(), Errc::not_found);
  EXPECT_EQ(hub.abandon(s.at(0)->completiontoken(), WorkerHub::kOrchestrator).code(), Errc::not_found);

  submit_orchestrator(hub, answers, "o3");
  submit_activity(hub, answers, "a3", "i", 2);
  EXPECT_EQ(hub.queued(), 0u);
  EXPECT_EQ(hub.out(), 0u);
  FakeStream later;
  hub.connect(&later, worker());
  EXPECT_EQ(later.count(), 0u);
  EXPECT_EQ(s.count(), 2u);
  hub.stop();  // idempotent
  EXPECT_EQ(answers.total(), 0);
}

}  // namespace
}  // namespace durable::durabletask
