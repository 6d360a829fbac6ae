// The client against a real redis-server. No node runs, so started
// instances stay Pending: these tests cover validation, the store's guards
// as the client reports them, queries, reconnecting and thread safety.
#include "client/client.hpp"
#include "store/store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <numeric>
#include <set>
#include <thread>

#include "tests/support/redis_server.hpp"
#include "store/owner_store.hpp"

namespace durable::client {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class ClientTest : public durable::testing::RedisTest {
 protected:
  void SetUp() override {
    RedisTest::SetUp();
    client_ = connect();
    ASSERT_TRUE(client_);
  }

  ClientOptions options(uint32_t partitions = 4) {
    auto address = store::RedisAddress::parse(server().url());
    EXPECT_TRUE(address) << address.status().to_string();
    ClientOptions o;
    o.address = *address;
    o.hub = "t";
    o.partitions = partitions;
    o.max_payload_bytes = 64;
    return o;
  }
  std::unique_ptr<Client> connect(uint32_t partitions = 4) {
    auto c = Client::connect(options(partitions));
    EXPECT_TRUE(c) << c.status().to_string();
    return c ? std::move(*c) : nullptr;
  }
  Client& client() { return *client_; }

  // Starts "Hello" as `id` and expects success.
  void start(const std::string& id, Payload input = "in") {
    auto started = client().start("Hello", std::move(input), id);
    ASSERT_TRUE(started) << started.status().to_string();
    EXPECT_EQ(*started, id);
  }
  // The error of starting `id`: expects invalid_argument, returns its message.
  std::string refused_id(const std::string& id) {
    auto started = client().start("Hello", "in", id);
    EXPECT_FALSE(started) << "id was accepted: " << id;
    if (started) return {};
    EXPECT_EQ(started.status().code(), Errc::invalid_argument) << started.status().to_string();
    return started.status().message();
  }
  std::vector<std::string> list_ids(const InstanceFilter& filter, size_t page_size) {
    std::vector<std::string> ids;
    std::string continuation;
    do {
      auto page = client().list(filter, page_size, continuation);
      EXPECT_TRUE(page) << page.status().to_string();
      if (!page) break;
      EXPECT_LE(page->instances.size(), page_size);
      for (const auto& row : page->instances) ids.push_back(row.id);
      continuation = page->continuation;
    } while (!continuation.empty());
    return ids;
  }

  std::unique_ptr<Client> client_;
};

// -- start -------------------------------------------------------------------

TEST_F(ClientTest, StartWithoutIdReturnsANewGuid) {
  auto id = client().start("Hello", "in");
  ASSERT_TRUE(id) << id.status().to_string();
  EXPECT_EQ(id->size(), 32u);
  EXPECT_TRUE(std::all_of(id->begin(), id->end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << *id;
  auto other = client().start("Hello", "in");
  ASSERT_TRUE(other);
  EXPECT_NE(*id, *other);
  EXPECT_TRUE(client().get(*id));
}

TEST_F(ClientTest, InvalidIdsAreRefusedNamingTheRule) {
  EXPECT_THAT(refused_id("@counter@1"), HasSubstr("reserved for entity ids"));
  EXPECT_THAT(refused_id("a/b"), HasSubstr("contains '/' at position 1"));
  EXPECT_THAT(refused_id(std::string(257, 'x')), HasSubstr("too long; at most 256"));
  EXPECT_THAT(refused_id(std::string("a\x01" "b")), HasSubstr("control character '\\x01'"));
  // Every message says what was being done.
  EXPECT_THAT(refused_id("a?b"), HasSubstr("cannot start 'Hello'"));
  // 256 bytes is still fine.
  start(std::string(256, 'x'));
}

TEST_F(ClientTest, EmptyIdMeansGenerateButEmptyNameIsRefused) {
  auto started = client().start("", "in", "a");
  ASSERT_FALSE(started);
  EXPECT_EQ(started.status().code(), Errc::invalid_argument);
  EXPECT_THAT(started.status().message(), HasSubstr("orchestrator name is empty"));
  EXPECT_EQ(client().get("a").status().code(), Errc::not_found);
}

TEST_F(ClientTest, StartingARunningIdTwiceIsRefused) {
  start("a");
  auto again = client().start("Hello", "in", "a");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.status().code(), Errc::already_exists);
  EXPECT_THAT(again.status().message(), HasSubstr("'a'"));
}

TEST_F(ClientTest, OversizedPayloadsAreRefusedNamingSizes) {
  auto started = client().start("Hello", std::string(65, 'x'), "big");
  ASSERT_FALSE(started);
  EXPECT_EQ(started.status().code(), Errc::invalid_argument);
  EXPECT_THAT(started.status().message(), HasSubstr("input is 65 bytes; the limit is 64 bytes"));
  EXPECT_EQ(client().get("big").status().code(), Errc::not_found);
  start("big", std::string(64, 'x'));  // exactly the limit is fine

  Status raised = client().raise_event("big", "Approval", std::string(100, 'x'));
  EXPECT_EQ(raised.code(), Errc::invalid_argument);
  EXPECT_THAT(raised.message(), HasSubstr("100 bytes"));
  EXPECT_EQ(client().terminate("big", std::string(100, 'x')).code(), Errc::invalid_argument);
}

// -- messages ------------------------------------------------------------------

TEST_F(ClientTest, MessagesToUnknownInstancesAreNotFound) {
  Status raised = client().raise_event("nobody", "Approval", "yes");
  EXPECT_EQ(raised.code(), Errc::not_found);
  EXPECT_THAT(raised.message(), HasSubstr("'nobody'"));
  EXPECT_EQ(client().terminate("nobody").code(), Errc::not_found);
  EXPECT_EQ(client().suspend("nobody").code(), Errc::not_found);
  EXPECT_EQ(client().resume("nobody").code(), Errc::not_found);
}

TEST_F(ClientTest, MessagesToAPendingInstanceAreAccepted) {
  start("a");
  EXPECT_TRUE(client().raise_event("a", "Approval", "yes"));
  EXPECT_TRUE(client().suspend("a", "maintenance"));
  EXPECT_TRUE(client().resume("a"));
  EXPECT_TRUE(client().terminate("a", "no longer needed"));
  // Only a node applies them: the row is unchanged until one runs.
  auto state = client().get("a");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->row.status, OrchestrationStatus::pending);
}

TEST_F(ClientTest, EmptyEventNameIsRefused) {
  start("a");
  Status raised = client().raise_event("a", "", "yes");
  EXPECT_EQ(raised.code(), Errc::invalid_argument);
  EXPECT_THAT(raised.message(), HasSubstr("event name is empty"));
}

// -- queries -------------------------------------------------------------------

TEST_F(ClientTest, GetOfAFreshInstance) {
  start("a", "the input");
  auto state = client().get("a", /*with_history=*/true);
  ASSERT_TRUE(state) << state.status().to_string();
  EXPECT_EQ(state->row.id, "a");
  EXPECT_EQ(state->row.name, "Hello");
  EXPECT_EQ(state->row.input, "the input");
  EXPECT_EQ(state->row.status, OrchestrationStatus::pending);
  EXPECT_EQ(state->row.execution_id.size(), 32u);
  EXPECT_GT(state->row.created.time_since_epoch().count(), 0);
  // The ExecutionStarted waits in the inbox; history begins when a node runs it.
  EXPECT_TRUE(state->history.empty());
}

TEST_F(ClientTest, GetOfAnUnknownInstanceIsNotFound) {
  auto state = client().get("nobody");
  ASSERT_FALSE(state);
  EXPECT_EQ(state.status().code(), Errc::not_found);
  EXPECT_EQ(state.status().message(), "no instance with id 'nobody'");
}

TEST_F(ClientTest, EachStartGetsItsOwnExecutionId) {
  start("a");
  start("b");
  auto a = client().get("a");
  auto b = client().get("b");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->row.execution_id, b->row.execution_id);
}

TEST_F(ClientTest, ListFiltersByPrefixAndPages) {
  for (int i = 1; i <= 5; ++i) start("order-" + std::to_string(i));
  start("other-1");
  InstanceFilter orders;
  orders.id_prefix = "order-";
  auto first = client().list(orders, 2);
  ASSERT_TRUE(first) << first.status().to_string();
  ASSERT_EQ(first->instances.size(), 2u);
  EXPECT_FALSE(first->continuation.empty());
  EXPECT_EQ(list_ids(orders, 2),
            (std::vector<std::string>{"order-1", "order-2", "order-3", "order-4", "order-5"}));
  EXPECT_EQ(list_ids({}, 4).size(), 6u);

  InstanceFilter running;
  running.statuses = {OrchestrationStatus::running};
  EXPECT_TRUE(list_ids(running, 10).empty());
}

TEST_F(ClientTest, CountsByStatusCountStartsInTheirCreatedRange) {
  for (const char* id : {"c1", "c2", "c3"}) start(id);
  auto counts = client().count_by_status();
  ASSERT_TRUE(counts) << counts.status().to_string();
  EXPECT_EQ((*counts)[static_cast<size_t>(OrchestrationStatus::pending)], 3u);
  EXPECT_EQ(std::accumulate(counts->begin(), counts->end(), uint64_t{0}), 3u);
  // Created later than now: none.
  auto later = client().count_by_status(std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now() + 1h));
  ASSERT_TRUE(later);
  EXPECT_EQ(std::accumulate(later->begin(), later->end(), uint64_t{0}), 0u);
}

TEST_F(ClientTest, WaitTimesOutNamingTheStatus) {
  start("a");
  const auto t0 = std::chrono::steady_clock::now();
  auto row = client().wait("a", 200ms);
  ASSERT_FALSE(row);
  EXPECT_EQ(row.status().code(), Errc::deadline_exceeded);
  EXPECT_THAT(row.status().message(), HasSubstr("Pending"));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
  EXPECT_EQ(client().wait("nobody", 50ms).status().code(), Errc::not_found);
}

TEST_F(ClientTest, WaitDoesNotHoldUpOtherCalls) {
  start("a");
  std::thread waiter([&] { EXPECT_FALSE(client().wait("a", 1500ms)); });
  std::this_thread::sleep_for(100ms);  // let the wait block
  const auto t0 = std::chrono::steady_clock::now();
  start("b");
  EXPECT_TRUE(client().get("b"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  waiter.join();
}

TEST_F(ClientTest, PurgeNeedsAFinishedInstance) {
  start("a");
  EXPECT_EQ(client().purge("a").code(), Errc::failed_precondition);
  EXPECT_EQ(client().purge("nobody").code(), Errc::not_found);
  auto purged = client().purge(InstanceFilter{});
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 0u);  // Pending is not finished
  EXPECT_TRUE(client().get("a"));
}

// -- connecting ----------------------------------------------------------------

TEST_F(ClientTest, ConnectRefusesAnotherPartitionCount) {
  auto other = Client::connect(options(8));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.status().code(), Errc::failed_precondition);
  EXPECT_THAT(other.status().message(), HasSubstr("4 partitions"));
  EXPECT_THAT(other.status().message(), HasSubstr("8"));
  EXPECT_TRUE(Client::connect(options(4)));

  auto none = Client::connect(options(0));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.status().code(), Errc::invalid_argument);
}

TEST_F(ClientTest, ConnectToNoServerIsUnavailable) {
  ClientOptions o = options();
  o.address.port = 1;  // privileged and unused: refused at once
  auto c = Client::connect(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.status().code(), Errc::unavailable);
}

TEST_F(ClientTest, ReadsSurviveARedisRestart) {
  start("a");
  ASSERT_TRUE(server().restart());
  // The connection broke with the old server; a read reconnects and repeats.
  auto state = client().get("a");
  ASSERT_TRUE(state) << state.status().to_string();
  EXPECT_EQ(state->row.name, "Hello");
  start("b");
  EXPECT_EQ(list_ids({}, 10).size(), 2u);
}

TEST_F(ClientTest, WaitSurvivesARedisRestart) {
  start("a");
  EXPECT_EQ(client().wait("a", 10ms).status().code(), Errc::deadline_exceeded);  // pools a connection
  ASSERT_TRUE(server().restart());
  EXPECT_EQ(client().wait("a", 10ms).status().code(), Errc::deadline_exceeded);
}

TEST_F(ClientTest, AWriteAfterARestartWaitsForTheConnection_AndHappensOnce) {
  ASSERT_TRUE(server().restart());
  // The shared connection is re-established in the background; a write made
  // meanwhile waits for it (it was never sent, so nothing is repeated).
  start("a");
  EXPECT_EQ(client().start("Hello", "in", "a").status().code(), Errc::already_exists);
  EXPECT_EQ(list_ids({}, 10), std::vector<std::string>{"a"});
}

TEST_F(ClientTest, WaitReturnsWhenTheInstanceFinishes_WhoeverFinishesIt) {
  start("a");
  start("b");
  // A node's commit, as far as waiters can tell: the row turns final and the
  // partition's completion stream announces it.
  auto finish = [&](const std::string& id) {
    store::Keys keys("t");
    const uint32_t p = store::partition_of(id, 4);
    reply("HSET", keys.instance(p, id), "s", std::to_string(static_cast<int>(OrchestrationStatus::completed)));
    reply("XADD", keys.done(p), "*", "i", id, "s", "1");
  };
  std::vector<std::thread> waiters;
  std::atomic<int> finished{0};
  for (int i = 0; i < 8; ++i) {
    waiters.emplace_back([&, i] {
      auto row = client().wait(i % 2 ? "a" : "b", 10s);
      EXPECT_TRUE(row) << row.status().to_string();
      if (row && row->status == OrchestrationStatus::completed) ++finished;
    });
  }
  std::this_thread::sleep_for(100ms);  // let them subscribe (a late one finds the row final: same outcome)
  const auto t0 = std::chrono::steady_clock::now();
  finish("a");
  finish("b");
  for (auto& w : waiters) w.join();
  EXPECT_EQ(finished.load(), 8);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s) << "woken by the notices, not by the 5 s re-check";
}

TEST_F(ClientTest, AWaitAcrossARedisRestart_SeesTheCompletionAfterIt) {
  start("a");
  Result<InstanceRow> row = Status::internal("not yet");
  std::thread waiter([&] { row = client().wait("a", 20s); });
  std::this_thread::sleep_for(100ms);  // subscribed, blocked on the notices
  ASSERT_TRUE(server().restart());
  ASSERT_TRUE(reconnect());
  std::this_thread::sleep_for(100ms);  // the reader has lost its place and found it again
  const auto t0 = std::chrono::steady_clock::now();
  store::Keys keys("t");
  const uint32_t p = store::partition_of("a", 4);
  reply("HSET", keys.instance(p, "a"), "s", std::to_string(static_cast<int>(OrchestrationStatus::completed)));
  reply("XADD", keys.done(p), "*", "i", "a", "s", "1");
  waiter.join();
  ASSERT_TRUE(row) << row.status().to_string();
  EXPECT_EQ(row->status, OrchestrationStatus::completed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s) << "woken by the notice, not by the 5 s re-check";
}

TEST_F(ClientTest, ConcurrentWritesSharingAConnectionThatDrops_NoneAppliedTwice) {
  // A pending instance takes every raised event into its inbox: each event
  // acknowledged must be there exactly once; one whose reply was lost
  // (unavailable) at most once.
  start("p");
  constexpr int kThreads = 8;
  constexpr int kEach = 300;
  std::vector<std::vector<Status>> outcomes(kThreads);
  std::atomic<bool> done{false};
  std::thread killer([&] {
    while (!done) {
      std::this_thread::sleep_for(5ms);
      reply("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        outcomes[t].push_back(client().raise_event("p", "e" + std::to_string(t) + "-" + std::to_string(i)));
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  killer.join();

  auto store = store::Store::connect({*store::RedisAddress::parse(server().url()), "t", 4});
  ASSERT_TRUE(store);
  std::vector<store::DeadLetter> undecodable;
  auto inbox = store::OwnerStore(*store).read_inbox("p", "0-0", 100'000, undecodable);
  ASSERT_TRUE(inbox) << inbox.status().to_string();
  std::map<std::string, int> seen;
  for (const store::InboxEntry& e : *inbox) ++seen[e.event.name];
  size_t acked = 0, lost = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      const std::string name = "e" + std::to_string(t) + "-" + std::to_string(i);
      const Status& s = outcomes[t][i];
      if (s) {
        ++acked;
        EXPECT_EQ(seen[name], 1) << name;
      } else {
        ++lost;
        EXPECT_EQ(s.code(), Errc::unavailable) << s.to_string();
        EXPECT_LE(seen[name], 1) << name;
      }
    }
  }
  std::printf("acknowledged %zu, unavailable %zu\n", acked, lost);
  EXPECT_GT(acked, 0u);
  EXPECT_GT(lost, 0u) << "the connection never dropped mid-request: the test tested nothing";
}

// -- threads -------------------------------------------------------------------

TEST_F(ClientTest, ConcurrentStartsThroughOneClient) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto id = client().start("Hello", "in", "c-" + std::to_string(t) + "-" + std::to_string(i));
        EXPECT_TRUE(id) << id.status().to_string();
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto ids = list_ids({}, 64);
  const std::set<std::string> unique(ids.begin(), ids.end());
  EXPECT_EQ(ids.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(unique.size(), size_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      EXPECT_TRUE(unique.count("c-" + std::to_string(t) + "-" + std::to_string(i)));
    }
  }
}

}  // namespace
}  // namespace durable::client
