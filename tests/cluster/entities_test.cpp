// Durable entities end to end: a node in this process against a real
// redis-server, driven through the C++ client. Signals, calls, critical
// sections (transfers, checkout), lock rules, failures, scheduled signals,
// eviction and reload, delete, listing and clean-up.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "client/client.hpp"
#include "cluster/node.hpp"
#include "orchestration/errors.hpp"
#include "orchestration/payload.hpp"
#include "samples/entities.hpp"
#include "samples/samples.hpp"
#include "tests/cluster/node_fixture.hpp"
#include "store/client_store.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using client::EntitySignal;
using orchestration::EntityId;
using orchestration::from_payload;
using orchestration::OrchestrationContext;
using orchestration::OrchestrationStatus;
using orchestration::Task;
using orchestration::to_payload;
using Items = std::map<std::string, int64_t>;

class EntitiesTest : public NodeFixture {
 protected:
  EntitiesTest() : NodeFixture("e") {}

  // The entity's state once `done` holds for it, or the last state seen.
  template <class T, class Pred>
  std::optional<T> state_when(const EntityId& id, Pred done, std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::optional<T> last;
    while (std::chrono::steady_clock::now() < deadline) {
      auto e = client_->get_entity(id);
      if (e && e->state) {
        last = from_payload<T>(*e->state);
        if (done(*last)) return last;
      }
      std::this_thread::sleep_for(10ms);
    }
    return last;
  }
  int64_t counter_when(const EntityId& id, int64_t expected, std::chrono::milliseconds timeout = 20s) {
    return state_when<int64_t>(id, [&](int64_t v) { return v == expected; }, timeout).value_or(-1);
  }

  std::string start(const std::string& name, orchestration::Payload input) {
    auto id = client_->start(name, std::move(input));
    EXPECT_TRUE(id) << id.status().to_string();
    return id ? *id : std::string();
  }
};

TEST_F(EntitiesTest, SignalsFromClients_EveryCounterExact_RetriesWithTheSameIdApplyOnce) {
  start_node();
  constexpr int kCounters = 20, kRounds = 50;
  std::vector<EntitySignal> batch;
  for (int round = 0; round < kRounds; ++round) {
    for (int c = 0; c < kCounters; ++c) batch.push_back({EntityId("Counter", "c" + std::to_string(c)), "add", to_payload(int64_t{c + 1}), {}, {}});
  }
  ASSERT_TRUE(client_->signal_entities(batch));
  // The whole batch again, same request ids: a client retrying after a lost reply.
  ASSERT_TRUE(client_->signal_entities(batch));
  for (int c = 0; c < kCounters; ++c) {
    EXPECT_EQ(counter_when(EntityId("counter", "c" + std::to_string(c)), int64_t{c + 1} * kRounds), int64_t{c + 1} * kRounds) << c;
  }
  // Settled: still exact a moment later (no duplicate trickled in).
  std::this_thread::sleep_for(200ms);
  auto c0 = client_->get_entity(EntityId("Counter", "c0"));
  ASSERT_TRUE(c0);
  EXPECT_EQ(from_payload<int64_t>(*c0->state), kRounds);
}

TEST_F(EntitiesTest, ABacklogIsTakenABatchAtATime) {
  // 25,000 signals wait before any node runs: the load reads at most
  // 10,000, and a batch takes at most about twice that.
  client::ClientOptions o;
  o.address = options_.store.address;
  o.hub = options_.store.hub;
  o.partitions = options_.store.partitions;
  auto early = client::Client::connect(o);
  ASSERT_TRUE(early);
  std::vector<EntitySignal> backlog(25'000, EntitySignal{EntityId("Counter", "backlog"), "add", to_payload(int64_t{1}), {}, {}});
  ASSERT_TRUE((*early)->signal_entities(backlog));
  start_node();
  EXPECT_EQ(counter_when(EntityId("Counter", "backlog"), 25'000), 25'000);
  EXPECT_GE(node_->counters().entity_batches.load(), 2u);
}

TEST_F(EntitiesTest, OrchestrationCallsAndSignals_ResultsAndFailuresComeBack) {
  registry_.add_orchestrator("UseCounter", [](OrchestrationContext& ctx) -> Task<std::string> {
    const EntityId counter("Counter", ctx.instance_id());
    ctx.signal_entity(counter, "add", int64_t{5});
    co_await ctx.call_entity<void>(counter, "add", int64_t{2});
    const auto value = co_await ctx.call_entity<int64_t>(counter, "get");
    std::string failed;
    try {
      co_await ctx.call_entity<void>(counter, "divide", int64_t{2});
    } catch (const orchestration::TaskFailedException& e) {
      failed = e.details().message;
    }
    co_return std::to_string(value) + "|" + failed;
  });
  start_node();
  const std::string id = start("UseCounter", {});
  store::InstanceRow row = wait(id);
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  // Signals and calls from one orchestration arrive in order: 5 + 2 before get.
  EXPECT_EQ(from_payload<std::string>(row.output), "7|entity 'counter' has no operation 'divide' (add, reset, get)");
}

TEST_F(EntitiesTest, EntitiesSignalEntitiesAndStartOrchestrations) {
  entities_.add("Relay", [](entities::EntityContext& ctx) {
    const auto amount = ctx.input<int64_t>();
    ctx.signal_entity(EntityId("Counter", "relayed"), "add", amount);
    ctx.start_orchestration("HelloSequence", std::vector<std::string>{"Oslo"}, "relay-" + std::to_string(amount));
  });
  start_node();
  ASSERT_TRUE(client_->signal_entity(EntityId("Relay", "r"), "forward", to_payload(int64_t{3})));
  ASSERT_TRUE(client_->signal_entity(EntityId("Relay", "r"), "forward", to_payload(int64_t{4})));
  EXPECT_EQ(counter_when(EntityId("Counter", "relayed"), 7), 7);
  for (const char* id : {"relay-3", "relay-4"}) {
    store::InstanceRow row = wait(id);
    EXPECT_EQ(row.status, OrchestrationStatus::completed) << id;
    EXPECT_EQ(from_payload<std::vector<std::string>>(row.output), (std::vector<std::string>{"Hello Oslo!"})) << id;
  }
}

TEST_F(EntitiesTest, ContinueAsNew_KeepsEntityMessages_AndReleasesItsLock) {
  // Each round signals a counter, locks it, and continues as new while
  // holding the lock: nothing sent before continuing may be lost, and the
  // next round must get the lock again.
  registry_.add_orchestrator("Eternal", [](OrchestrationContext& ctx, int64_t round) -> Task<int64_t> {
    const EntityId counter("Counter", "eternal");
    if (round == 5) co_return co_await ctx.call_entity<int64_t>(counter, "get");
    ctx.signal_entity(EntityId("Counter", "rounds"), "add", int64_t{1});
    auto section = co_await ctx.lock_entities(counter);
    co_await ctx.call_entity<void>(counter, "add", int64_t{10});
    ctx.continue_as_new(round + 1);
    co_return 0;
  });
  start_node();
  store::InstanceRow row = wait(start("Eternal", to_payload(int64_t{0})));
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<int64_t>(row.output), 50);
  EXPECT_EQ(counter_when(EntityId("Counter", "rounds"), 5), 5);
  EXPECT_FALSE(client_->get_entity(EntityId("Counter", "eternal"))->locked_by);
}

TEST_F(EntitiesTest, AnEntityIdBreakingARule_FailsTheOrchestrationNamingTheRule) {
  registry_.add_orchestrator("BadKey", [](OrchestrationContext& ctx) -> Task<int> {
    ctx.signal_entity(EntityId("Counter", "a\nb"), "add", int64_t{1});
    co_return 0;
  });
  start_node();
  store::InstanceRow row = wait(start("BadKey", {}));
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  EXPECT_NE(row.failure->message.find("entity key \"a\nb\" has a control character at position 1"), std::string::npos)
      << row.failure->message;
}

TEST_F(EntitiesTest, UnregisteredEntity_ACallFailsSayingSo) {
  registry_.add_orchestrator("CallGhost", [](OrchestrationContext& ctx) -> Task<std::string> {
    co_return co_await ctx.call_entity<std::string>(EntityId("Ghost", "g"), "get");
  });
  start_node();
  store::InstanceRow row = wait(start("CallGhost", {}));
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  EXPECT_NE(row.failure->message.find("no entity named 'ghost' is registered on this node"), std::string::npos)
      << row.failure->message;
}

TEST_F(EntitiesTest, ConcurrentTransfers_TotalUnchanged_NoneLostOrDoubled) {
  start_node();
  constexpr int kAccounts = 20, kTransfers = 1000;
  constexpr int64_t kOpening = 1000;
  std::vector<EntitySignal> deposits;
  for (int a = 0; a < kAccounts; ++a) deposits.push_back({EntityId("Account", "a" + std::to_string(a)), "deposit", to_payload(kOpening), {}, {}});
  ASSERT_TRUE(client_->signal_entities(deposits));
  for (int a = 0; a < kAccounts; ++a) {
    ASSERT_TRUE(state_when<samples::Account>(EntityId("Account", "a" + std::to_string(a)),
                                             [](const samples::Account& x) { return x.balance == kOpening; }));
  }

  std::mt19937 rng(7);
  std::vector<std::string> ids;
  std::map<std::string, samples::TransferRequest> requests;
  for (int t = 0; t < kTransfers; ++t) {
    const int from = static_cast<int>(rng() % kAccounts);
    const int to = static_cast<int>((from + 1 + rng() % (kAccounts - 1)) % kAccounts);
    samples::TransferRequest r{"a" + std::to_string(from), "a" + std::to_string(to), static_cast<int64_t>(1 + rng() % 300)};
    ids.push_back(start("Transfer", to_payload(r)));
    requests[ids.back()] = r;
  }
  std::map<std::string, int64_t> expected;
  for (int a = 0; a < kAccounts; ++a) expected["a" + std::to_string(a)] = kOpening;
  // Replay the transfers that went through, in any order: the balances must
  // be what they add up to (a transfer's check ran under the lock).
  int transferred = 0;
  for (const std::string& id : ids) {
    store::InstanceRow row = wait(id, 60s);
    ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
    auto result = from_payload<samples::TransferResult>(row.output);
    if (!result.transferred) continue;
    ++transferred;
    expected[requests[id].from] -= requests[id].amount;
    expected[requests[id].to] += requests[id].amount;
  }
  EXPECT_GT(transferred, kTransfers / 2);
  int64_t total = 0;
  for (int a = 0; a < kAccounts; ++a) {
    const std::string key = "a" + std::to_string(a);
    // A finished transfer's unlock is a message the account applies a
    // little later: wait for it (its balance moved under the lock, before).
    auto e = client_->get_entity(EntityId("Account", key));
    for (const auto until = std::chrono::steady_clock::now() + 10s;
         e && e->locked_by && std::chrono::steady_clock::now() < until;) {
      std::this_thread::sleep_for(5ms);
      e = client_->get_entity(EntityId("Account", key));
    }
    ASSERT_TRUE(e) << e.status().to_string();
    const auto balance = from_payload<samples::Account>(*e->state).balance;
    EXPECT_EQ(balance, expected[key]) << key;
    EXPECT_GE(balance, 0);
    EXPECT_FALSE(e->locked_by) << key << " still locked by " << *e->locked_by;
    total += balance;
  }
  EXPECT_EQ(total, kAccounts * kOpening);
}

TEST_F(EntitiesTest, Checkout_ReservesStockEmptiesCart_DeclinedCardPutsStockBack) {
  start_node();
  std::vector<EntitySignal> setup = {
      {EntityId("Inventory", "main"), "restock", to_payload(samples::CartLine{"apple", 10}), {}, {}},
      {EntityId("Inventory", "main"), "restock", to_payload(samples::CartLine{"pear", 2}), {}, {}},
      {EntityId("Cart", "ada"), "add", to_payload(samples::CartLine{"apple", 3}), {}, {}},
      {EntityId("Cart", "ada"), "add", to_payload(samples::CartLine{"pear", 1}), {}, {}},
      {EntityId("Cart", "bob"), "add", to_payload(samples::CartLine{"apple", 2}), {}, {}},
      {EntityId("Cart", "cy"), "add", to_payload(samples::CartLine{"pear", 5}), {}, {}},
  };
  ASSERT_TRUE(client_->signal_entities(setup));

  store::InstanceRow paid = wait(start("Checkout", to_payload(samples::CheckoutRequest{"ada", "main", "4242"})));
  ASSERT_EQ(paid.status, OrchestrationStatus::completed) << (paid.failure ? paid.failure->message : "");
  auto receipt = from_payload<samples::Receipt>(paid.output);
  EXPECT_EQ(receipt.status, "paid");
  EXPECT_EQ(receipt.items, (Items{{"apple", 3}, {"pear", 1}}));
  EXPECT_NE(receipt.detail.find("4 unit(s) charged"), std::string::npos) << receipt.detail;
  EXPECT_TRUE(from_payload<samples::Cart>(*client_->get_entity(EntityId("Cart", "ada"))->state).items.empty());
  EXPECT_EQ(from_payload<samples::Inventory>(*client_->get_entity(EntityId("Inventory", "main"))->state).stock,
            (Items{{"apple", 7}, {"pear", 1}}));

  store::InstanceRow declined = wait(start("Checkout", to_payload(samples::CheckoutRequest{"bob", "main", "declined"})));
  EXPECT_EQ(from_payload<samples::Receipt>(declined.output).status, "payment failed");
  EXPECT_EQ(from_payload<samples::Inventory>(*client_->get_entity(EntityId("Inventory", "main"))->state).stock,
            (Items{{"apple", 7}, {"pear", 1}}));
  EXPECT_EQ(from_payload<samples::Cart>(*client_->get_entity(EntityId("Cart", "bob"))->state).items, (Items{{"apple", 2}}));

  store::InstanceRow short_of = wait(start("Checkout", to_payload(samples::CheckoutRequest{"cy", "main", "4242"})));
  auto r = from_payload<samples::Receipt>(short_of.output);
  EXPECT_EQ(r.status, "out of stock");
  EXPECT_EQ(r.detail, "only 1 of 'pear', 5 wanted");
}

TEST_F(EntitiesTest, LockRulesBroken_TheOrchestrationFailsWithTheRule_AndItsLocksAreReleased) {
  registry_.add_orchestrator("Nested", [](OrchestrationContext& ctx) -> Task<int> {
    auto section = co_await ctx.lock_entities(EntityId("Counter", "l1"));
    co_await ctx.lock_entities(EntityId("Counter", "l2"));  // nesting: throws
    co_return 0;
  });
  start_node();
  store::InstanceRow row = wait(start("Nested", {}));
  ASSERT_EQ(row.status, OrchestrationStatus::failed);
  EXPECT_NE(row.failure->message.find("critical sections do not nest"), std::string::npos) << row.failure->message;
  // The failed orchestration's lock on l1 was released: a signal goes through.
  ASSERT_TRUE(client_->signal_entity(EntityId("Counter", "l1"), "add", to_payload(int64_t{4})));
  EXPECT_EQ(counter_when(EntityId("Counter", "l1"), 4), 4);
  auto l1 = client_->get_entity(EntityId("Counter", "l1"));
  EXPECT_FALSE(l1->locked_by);
}

TEST_F(EntitiesTest, ScheduledSignal_AppliesAtItsTime) {
  start_node();
  const EntityId id("Counter", "later");
  const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  // Both in one write: the batch that applies the first has the second.
  client::EntitySignal both[] = {{id, "add", to_payload(int64_t{1}), {}, {}},
                                 {id, "add", to_payload(int64_t{10}), {}, now + 1500ms}};
  ASSERT_TRUE(client_->signal_entities(both));
  EXPECT_EQ(counter_when(id, 1), 1);
  auto waiting = client_->get_entity(id);
  EXPECT_EQ(waiting->scheduled, 1u);
  EXPECT_EQ(counter_when(id, 11, 10s), 11);
  EXPECT_GE(std::chrono::system_clock::now(), now + 1500ms);
}

TEST_F(EntitiesTest, IdleEntityUnloaded_ReloadsItsState_AndANodeRestartKeepsIt) {
  options_.runtime.idle_eviction = 50ms;
  start_node();
  const EntityId id("Counter", "idle");
  ASSERT_TRUE(client_->signal_entity(id, "add", to_payload(int64_t{3})));
  ASSERT_EQ(counter_when(id, 3), 3);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (node_->counters().live_entities.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(node_->counters().live_entities.load(), 0u);
  ASSERT_TRUE(client_->signal_entity(id, "add", to_payload(int64_t{4})));
  EXPECT_EQ(counter_when(id, 7), 7);
  node_->stop();
  node_.reset();
  start_node();
  ASSERT_TRUE(client_->signal_entity(id, "add", to_payload(int64_t{5})));
  EXPECT_EQ(counter_when(id, 12), 12);
}

TEST_F(EntitiesTest, Delete_StateGone_ASignalRecreatesIt) {
  start_node();
  const EntityId id("Counter", "gone");
  ASSERT_TRUE(client_->signal_entity(id, "add", to_payload(int64_t{8})));
  ASSERT_EQ(counter_when(id, 8), 8);
  ASSERT_TRUE(client_->delete_entity(id));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (client_->get_entity(id)->state && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(client_->get_entity(id)->state);
  ASSERT_TRUE(client_->signal_entity(id, "add", to_payload(int64_t{2})));
  EXPECT_EQ(counter_when(id, 2), 2);
}

TEST_F(EntitiesTest, ListByPrefixWithPaging_CleanUpRemovesEmptyAndReleasesOrphanedLocks) {
  start_node();
  std::vector<EntitySignal> signals;
  for (int i = 0; i < 7; ++i) signals.push_back({EntityId("Counter", "k" + std::to_string(i)), "add", to_payload(int64_t{i}), {}, {}});
  signals.push_back({EntityId("Cart", "k0"), "add", to_payload(samples::CartLine{"x", 1}), {}, {}});
  ASSERT_TRUE(client_->signal_entities(signals));
  ASSERT_EQ(counter_when(EntityId("Counter", "k6"), 6), 6);
  ASSERT_TRUE(state_when<samples::Cart>(EntityId("Cart", "k0"), [](const samples::Cart& c) { return !c.items.empty(); }));
  ASSERT_EQ(counter_when(EntityId("Counter", "k0"), 0), 0);

  std::vector<std::string> seen;
  std::string continuation;
  int pages = 0;
  do {
    auto page = client_->list_entities("COUNTER", 3, continuation);
    ASSERT_TRUE(page) << page.status().to_string();
    for (auto& e : page->entities) seen.push_back(e.id.key());
    continuation = page->continuation;
    ++pages;
  } while (!continuation.empty() && pages < 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"k0", "k1", "k2", "k3", "k4", "k5", "k6"}));
  EXPECT_GE(pages, 3);
  auto carts = client_->list_entities("cart@k");
  ASSERT_TRUE(carts);
  ASSERT_EQ(carts->entities.size(), 1u);
  EXPECT_EQ(carts->entities[0].id, EntityId("Cart", "k0"));

  // k1 deleted: listed only with include_empty, then cleaned up.
  ASSERT_TRUE(client_->delete_entity(EntityId("Counter", "k1")));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (client_->get_entity(EntityId("Counter", "k1"))->state && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(client_->list_entities("counter@k1")->entities.size(), 0u);
  EXPECT_EQ(client_->list_entities("counter@k1", 10, {}, true)->entities.size(), 1u);

  // A lock whose holder is gone: an unlock-less lock request from a made-up orchestration.
  entities::EntityMessage lock{entities::MessageKind::lock, "section-x", {}, {}, "no-such-orchestration", "x", {"@counter@k2"}, {}};
  {
    auto store = store::Store::connect(options_.store);
    ASSERT_TRUE(store);
    store::OutboundMessage m{"@counter@k2", entities::to_event(lock), {}};
    ASSERT_TRUE(store::ClientStore(*store).send_messages(std::span(&m, 1)));
  }
  ASSERT_TRUE(state_when<int64_t>(EntityId("Counter", "k2"), [&](int64_t) {
    return client_->get_entity(EntityId("Counter", "k2"))->locked_by.has_value();
  }));
  ASSERT_TRUE(client_->signal_entity(EntityId("Counter", "k2"), "add", to_payload(int64_t{100})));
  // It waits behind the lock.
  EXPECT_TRUE(eventually([&] { return client_->get_entity(EntityId("Counter", "k2"))->queued == 1u; }));

  auto cleaned = client_->clean_entity_storage();
  ASSERT_TRUE(cleaned) << cleaned.status().to_string();
  EXPECT_EQ(cleaned->removed, 1u);
  EXPECT_EQ(cleaned->locks_released, 1u);
  EXPECT_EQ(client_->get_entity(EntityId("Counter", "k1")).status().code(), Errc::not_found);
  EXPECT_EQ(counter_when(EntityId("Counter", "k2"), 102), 102);  // the queued signal ran
}

TEST_F(EntitiesTest, BadInput_ClearErrors) {
  start_node();
  auto bad = client_->signal_entity(EntityId("Coun/ter", "k"), "add");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.status().code(), Errc::invalid_argument);
  EXPECT_NE(bad.status().message().find("'/' at position 4"), std::string::npos) << bad.status().message();
  EXPECT_EQ(client_->signal_entity(EntityId("Counter", "k"), "").status().message(), "the operation name is empty");
  EXPECT_EQ(client_->get_entity(EntityId("Counter", "never")).status().code(), Errc::not_found);
  EXPECT_EQ(orchestration::EntityId::parse("nokey").status().message(),
            "entity id \"nokey\" has no '@': write it as name@key, e.g. Counter@c1");
  EXPECT_EQ(orchestration::EntityId::parse("Counter@").status().message(), "entity key is empty");
}

}  // namespace
}  // namespace durable::cluster
