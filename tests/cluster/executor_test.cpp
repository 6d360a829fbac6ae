// Episodes and entity batches run by an executor that is not the local
// engine: a fake one that answers late, twice, or not at all the first time.
// Whatever it does, each episode and each signal takes effect once,
// messages that come meanwhile wait their turn, and unanswered work is
// handed out again.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "entities/executor.hpp"
#include "orchestration/local_executor.hpp"
#include "orchestration/payload.hpp"
#include "store/client_store.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::EpisodeExecutor;
using orchestration::EpisodeResult;
using orchestration::EpisodeWork;
using orchestration::EventType;
using orchestration::OrchestrationStatus;
using orchestration::from_payload;
using orchestration::to_payload;

enum class Mode {
  late,         // answers 100 ms after run() returned, from another thread
  twice,        // answers twice during run(), and twice more later
  first_never,  // ignores each episode's first hand-out until long after it was handed out again
};

// What the fake executors of one test share: their mode and their threads.
struct Script {
  Mode mode = Mode::late;
  std::chrono::milliseconds episode_timeout{300};
  std::mutex mu;
  std::vector<std::thread> threads;
  std::map<std::string, int> handouts;  // by episode

  void later(std::chrono::milliseconds delay, std::function<void()> fn) {
    std::lock_guard lock(mu);
    threads.emplace_back([delay, fn = std::move(fn)] {
      std::this_thread::sleep_for(delay);
      fn();
    });
  }
  // Answers `result` through `answer` as the mode says. `key` names the
  // work: its first hand-out is the one first_never leaves unanswered.
  template <class T>
  void reply(const std::string& key, std::function<void(T)> answer, T result) {
    switch (mode) {
      case Mode::late:
        later(100ms, [answer, result] { answer(result); });
        break;
      case Mode::twice:
        answer(result);
        answer(result);
        later(20ms, [answer, result] {
          answer(result);
          answer(result);
        });
        break;
      case Mode::first_never: {
        bool first;
        {
          std::lock_guard lock(mu);
          first = ++handouts[key] == 1;
        }
        if (first) {
          later(episode_timeout * 3, [answer, result] { answer(result); });
        } else {
          answer(result);
        }
        break;
      }
    }
  }
  void join() {
    std::vector<std::thread> all;
    {
      std::lock_guard lock(mu);
      all.swap(threads);
    }
    for (std::thread& t : all) t.join();
  }
};

// The local engine (full replay, so any run stands alone) behind a script.
class FakeExecutor : public EpisodeExecutor {
 public:
  FakeExecutor(const orchestration::Registry& registry, Script& script) : local_(registry, false), script_(script) {}

  void run(const EpisodeWork& work, Answer answer) override {
    EpisodeResult result;
    local_.run(work, [&](EpisodeResult r) { result = std::move(r); });
    script_.reply(work.instance_id + "/" + work.execution_id + "/" + std::to_string(work.past.size()),
                  std::move(answer), std::move(result));
  }

 private:
  orchestration::LocalEpisodeExecutor local_;
  Script& script_;
};

// The registry's entity behind the same script. First hand-outs are told
// apart by their messages' request ids.
class FakeBatchExecutor : public entities::BatchExecutor {
 public:
  FakeBatchExecutor(const entities::EntityFn* fn, Script& script) : local_(fn), script_(script) {}

  void run(entities::BatchWork work, Answer answer) override {
    std::string key = work.entity.instance_id();
    for (const auto& m : work.messages) key += "/" + m.request_id;
    entities::BatchResult result;
    local_.run(std::move(work), [&](entities::BatchResult r) { result = std::move(r); });
    script_.reply(key, std::move(answer), std::move(result));
  }

 private:
  entities::LocalBatchExecutor local_;
  Script& script_;
};

class ExecutorTest : public NodeFixture {
 protected:
  ExecutorTest() : NodeFixture("ex") {}

  void start_with(Mode mode) {
    script_.mode = mode;
    options_.runtime.executor_timeout = script_.episode_timeout;
    options_.runtime.episode_executor = [this](const std::string&) {
      return std::make_unique<FakeExecutor>(registry_, script_);
    };
    options_.runtime.batch_executor = [this](const std::string& name) {
      return std::make_unique<FakeBatchExecutor>(entities_.find(name), script_);
    };
    start_node();
  }
  void TearDown() override {
    script_.join();  // before the node goes: the threads answer its actors
    NodeFixture::TearDown();
  }
  // HelloSequence over two cities completes with its usual history: every
  // episode committed once.
  void expect_hello_exactly_once(const std::string& id) {
    auto row = wait(id);
    ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
    EXPECT_EQ(from_payload<std::vector<std::string>>(row.output),
              (std::vector<std::string>{"Hello Tokyo!", "Hello London!"}));
    EXPECT_EQ(event_types(id), (std::vector<EventType>{EventType::execution_started, EventType::task_scheduled,
                                                       EventType::task_completed, EventType::task_scheduled,
                                                       EventType::task_completed, EventType::execution_completed}));
  }
  std::string start_hello(const std::string& id) {
    auto started = client_->start("HelloSequence", to_payload(std::vector<std::string>{"Tokyo", "London"}), id);
    EXPECT_TRUE(started) << started.status().to_string();
    return id;
  }

  // 60 signals to 3 counters in one call, each adding its index: every
  // counter ends at exactly its sum, each signal applied once.
  void expect_signals_exactly_once() {
    std::vector<client::EntitySignal> signals;
    int64_t sums[3] = {0, 0, 0};
    for (int i = 0; i < 60; ++i) {
      signals.push_back({orchestration::EntityId("Counter", "c" + std::to_string(i % 3)), "add", to_payload(int64_t{i}),
                         {}, {}});
      sums[i % 3] += i;
    }
    ASSERT_TRUE(client_->signal_entities(signals));
    for (int c = 0; c < 3; ++c) {
      const orchestration::EntityId counter("Counter", "c" + std::to_string(c));
      EXPECT_TRUE(eventually([&] {
        auto e = client_->get_entity(counter);
        return e && e->state && from_payload<int64_t>(*e->state) == sums[c];
      })) << "counter c" << c;
    }
  }

  Script script_;
};

TEST_F(ExecutorTest, ALateAnswerIsCommittedOnce) {
  start_with(Mode::late);
  expect_hello_exactly_once(start_hello("late"));
  EXPECT_EQ(node_->counters().activities.load(), 2u);
  EXPECT_EQ(node_->counters().episodes_overdue.load(), 0u);
}

TEST_F(ExecutorTest, AnAnswerGivenTwiceIsCommittedOnce) {
  start_with(Mode::twice);
  expect_hello_exactly_once(start_hello("twice"));
  EXPECT_EQ(node_->counters().activities.load(), 2u);
}

TEST_F(ExecutorTest, AnUnansweredEpisodeIsHandedOutAgain_TheFirstAnswerThenComesTooLate) {
  start_with(Mode::first_never);
  expect_hello_exactly_once(start_hello("never"));
  // Three episodes (the start, each activity's result), each handed out twice.
  EXPECT_EQ(node_->counters().episodes_overdue.load(), 3u);
  EXPECT_EQ(node_->counters().activities.load(), 2u);
  // The first hand-outs' answers arrive long after: dropped, nothing changes.
  script_.join();
  expect_hello_exactly_once("never");
}

TEST_F(ExecutorTest, MessagesThatComeWhileAnEpisodeIsOutWaitForTheNext) {
  start_with(Mode::late);
  auto id = client_->start("Approval", to_payload(samples::ApprovalRequest{"a raise", 3600}), "approve");
  ASSERT_TRUE(id) << id.status().to_string();
  // The first episode is out for 100 ms: the event queues behind it.
  ASSERT_TRUE(client_->raise_event("approve", "Approval", to_payload(true)));
  auto row = wait("approve");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row.output), "approved");
}

TEST_F(ExecutorTest, EntityBatches_LateTwiceOrHandedOutAgain_EachSignalAppliedOnce) {
  for (Mode mode : {Mode::late, Mode::twice, Mode::first_never}) {
    script_.mode = mode;
    if (!node_) start_with(mode);
    expect_signals_exactly_once();
    // The next round's counters start where this one ended.
    for (int c = 0; c < 3; ++c) {
      ASSERT_TRUE(client_->signal_entity(orchestration::EntityId("Counter", "c" + std::to_string(c)), "reset"));
    }
    for (int c = 0; c < 3; ++c) {
      EXPECT_TRUE(eventually([&] {
        auto e = client_->get_entity(orchestration::EntityId("Counter", "c" + std::to_string(c)));
        return e && e->state && from_payload<int64_t>(*e->state) == 0;
      }));
    }
  }
  EXPECT_GT(node_->counters().batches_overdue.load(), 0u);  // first_never made the executor time out
}

}  // namespace
}  // namespace durable::cluster
