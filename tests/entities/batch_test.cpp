// Entity batches in memory: function- and class-based entities, rollback of
// a failing operation, duplicate request ids, signals and starts, calls and
// their replies, critical sections (grant, forward, queue, unlock), signals
// for later.
#include "entities/batch.hpp"

#include <gtest/gtest.h>

#include <map>

namespace durable::entities {
namespace {

void counter(EntityContext& ctx) {
  const std::string op = ctx.operation();
  if (op == "add") {
    const auto amount = ctx.input<int64_t>();
    if (amount < 0) throw std::invalid_argument("cannot add a negative amount");
    ctx.set_state(ctx.state<int64_t>() + amount);
  } else if (op == "reset") {
    ctx.set_state(int64_t{0});
  } else if (op == "get") {
    ctx.return_value(ctx.state<int64_t>());
  } else if (op == "delete") {
    ctx.delete_state();
  } else {
    throw UnknownOperation("no operation '" + op + "'");
  }
}

struct Line {
  std::string sku;
  int qty = 0;
  MSGPACK_DEFINE_MAP(sku, qty)
};

struct Cart {
  std::map<std::string, int> items;
  void add(Line line) {
    if (line.qty <= 0) throw std::invalid_argument("qty must be positive");
    items[line.sku] += line.qty;
  }
  void remove(Line line) { items.erase(line.sku); }
  std::map<std::string, int> get() const { return items; }
  void clear() { items.clear(); }
  MSGPACK_DEFINE_MAP(items)
};

const TimePoint kNow{std::chrono::milliseconds(1'700'000'000'000)};

// A signal, or a call when `caller` is set (its execution: "x-<caller>").
EntityMessage op(std::string request_id, std::string name, Payload input = {}, std::string caller = {}) {
  EntityMessage m;
  m.kind = caller.empty() ? MessageKind::signal : MessageKind::call;
  m.request_id = std::move(request_id);
  m.operation = std::move(name);
  m.input = std::move(input);
  if (!caller.empty()) m.sender_execution = "x-" + caller;
  m.sender = std::move(caller);
  return m;
}

EntityMessage lock_request(std::string section, std::string orchestration, std::vector<std::string> set) {
  EntityMessage m;
  m.kind = MessageKind::lock;
  m.request_id = std::move(section);
  m.sender = std::move(orchestration);
  m.sender_execution = "x-" + m.sender;
  m.lock_set = std::move(set);
  return m;
}

EntityMessage unlock_request(std::string section, std::string orchestration) {
  EntityMessage m;
  m.kind = MessageKind::unlock;
  m.request_id = std::move(section);
  m.sender = std::move(orchestration);
  return m;
}

BatchResult run_batch(const EntityFn& fn, const EntityId& id, EntitySnapshot snapshot,
                      std::vector<EntityMessage> messages, TimePoint now = kNow) {
  return entities::run_batch(&fn, id, std::move(snapshot), std::move(messages), now);
}

int64_t counter_value(const BatchResult& r) { return from_payload<int64_t>(*r.snapshot.state); }

TEST(EntityBatch, FunctionEntity_EachOperationSeesThePreviousState) {
  const EntityId id("Counter", "c1");
  const std::vector<EntityMessage> ops = {op("r1", "add", to_payload(int64_t{5})), op("r2", "add", to_payload(int64_t{7})),
                                      op("r3", "get", {}, "orch-1")};
  BatchResult r = run_batch(counter, id, {}, ops);
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(from_payload<int64_t>(*r.snapshot.state), 12);
  EXPECT_EQ(from_payload<int64_t>(r.results[2].result), 12);
  EXPECT_FALSE(r.results[0].failure);
  // The call (and only the call) is answered, to the caller's execution.
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].target, "orch-1");
  EXPECT_EQ(r.messages[0].target_execution, "x-orch-1");
  EXPECT_EQ(r.messages[0].event.type, orchestration::EventType::entity_operation_completed);
  EXPECT_EQ(r.messages[0].event.request_id, "r3");
  EXPECT_EQ(from_payload<int64_t>(r.messages[0].event.result), 12);
  EXPECT_EQ(r.snapshot.recent_request_ids.ids(), (std::deque<std::string>{"r1", "r2", "r3"}));
}

TEST(EntityBatch, ThrowingOperationFailsAloneAndLeavesTheStateAsItWas) {
  const EntityId id("Counter", "c1");
  EntitySnapshot start;
  start.state = to_payload(int64_t{10});
  const std::vector<EntityMessage> ops = {op("a", "add", to_payload(int64_t{1})), op("b", "add", to_payload(int64_t{-3}), "o"),
                                      op("c", "add", to_payload(int64_t{2})), op("d", "frobnicate")};
  BatchResult r = run_batch(counter, id, start, ops);
  ASSERT_EQ(r.results.size(), 4u);
  EXPECT_EQ(from_payload<int64_t>(*r.snapshot.state), 13);
  ASSERT_TRUE(r.results[1].failure);
  EXPECT_EQ(r.results[1].failure->message, "cannot add a negative amount");
  ASSERT_EQ(r.messages.size(), 1u);  // the failed call is told why
  EXPECT_EQ(r.messages[0].event.type, orchestration::EventType::entity_operation_failed);
  EXPECT_EQ(r.messages[0].event.failure->message, "cannot add a negative amount");
  ASSERT_TRUE(r.results[3].failure);
  EXPECT_NE(r.results[3].failure->error_type.find("UnknownOperation"), std::string::npos);
}

TEST(EntityBatch, DuplicateRequestIdsAreDropped_AcrossBatchesToo) {
  const EntityId id("Counter", "c1");
  BatchResult first = run_batch(counter, id, {}, std::vector{op("x", "add", to_payload(int64_t{1}))});
  BatchResult again = run_batch(counter, id, first.snapshot,
                                std::vector{op("x", "add", to_payload(int64_t{1})), op("y", "add", to_payload(int64_t{1})),
                                            op("y", "add", to_payload(int64_t{1}))});
  EXPECT_EQ(again.duplicates, 2u);
  EXPECT_EQ(again.results.size(), 1u);
  EXPECT_EQ(from_payload<int64_t>(*again.snapshot.state), 2);
}

TEST(EntityBatch, RecentRequestIdsAreBounded) {
  const EntityId id("Counter", "c1");
  std::vector<EntityMessage> ops;
  for (size_t i = 0; i < kRecentRequestIds + 5; ++i) ops.push_back(op("r" + std::to_string(i), "add", to_payload(int64_t{1})));
  BatchResult r = run_batch(counter, id, {}, ops);
  EXPECT_EQ(r.snapshot.recent_request_ids.size(), kRecentRequestIds);
  EXPECT_EQ(r.snapshot.recent_request_ids.ids().front(), "r5");
  EXPECT_EQ(from_payload<int64_t>(*r.snapshot.state), static_cast<int64_t>(kRecentRequestIds + 5));
}

TEST(EntityBatch, DeleteStateLeavesNone_AndTheBuiltInDeleteWorksForEveryEntity) {
  BatchResult r = run_batch(counter, EntityId("Counter", "c1"), {},
                            std::vector{op("a", "add", to_payload(int64_t{1})), op("b", "delete")});
  EXPECT_FALSE(r.snapshot.state);
  const EntityFn nothing = [](EntityContext&) { throw std::logic_error("never called"); };
  EntitySnapshot full;
  full.state = to_payload(int64_t{9});
  BatchResult deleted = run_batch(nothing, EntityId("Any", "k"), full, std::vector{op("c", std::string(kDeleteOperation))});
  EXPECT_FALSE(deleted.snapshot.state);
  EXPECT_FALSE(deleted.results[0].failure);
}

TEST(EntityBatch, UnregisteredEntity_OperationsFailSayingSo) {
  BatchResult r = entities::run_batch(nullptr, EntityId("Ghost", "g"), {}, {op("a", "add", {}, "o")}, kNow);
  ASSERT_TRUE(r.results[0].failure);
  EXPECT_EQ(r.results[0].failure->error_type, "EntityNotFound");
  EXPECT_EQ(r.results[0].failure->message, "no entity named 'ghost' is registered on this node");
  EXPECT_EQ(r.messages[0].event.type, orchestration::EventType::entity_operation_failed);
  EXPECT_FALSE(r.snapshot.state);
}

TEST(EntityBatch, ClassEntity_MethodsAreOperationsAndTheObjectIsTheState) {
  const EntityFn cart = ClassEntity<Cart>()
                            .operation("add", &Cart::add)
                            .operation("remove", &Cart::remove)
                            .operation("get", &Cart::get)
                            .operation("clear", &Cart::clear);
  const EntityId id("Cart", "user42");
  const std::vector<EntityMessage> ops = {op("1", "add", to_payload(Line{"apple", 2})), op("2", "ADD", to_payload(Line{"pear", 1})),
                                      op("3", "add", to_payload(Line{"apple", 3})), op("4", "add", to_payload(Line{"plum", 0})),
                                      op("5", "remove", to_payload(Line{"pear", 0})), op("6", "get", {}, "o")};
  BatchResult r = run_batch(cart, id, {}, ops);
  ASSERT_EQ(r.results.size(), 6u);
  ASSERT_TRUE(r.results[3].failure);  // qty 0: that one alone fails
  EXPECT_EQ(r.results[3].failure->message, "qty must be positive");
  using Items = std::map<std::string, int>;
  EXPECT_EQ(from_payload<Items>(r.results[5].result), (Items{{"apple", 5}}));
  EXPECT_EQ(from_payload<Cart>(*r.snapshot.state).items, (Items{{"apple", 5}}));
  BatchResult unknown = run_batch(cart, id, r.snapshot, std::vector{op("7", "checkout")});
  ASSERT_TRUE(unknown.results[0].failure);
  EXPECT_NE(unknown.results[0].failure->message.find("no operation 'checkout'"), std::string::npos);
  EXPECT_EQ(unknown.snapshot.state, r.snapshot.state);
}

TEST(EntityBatch, SignalsAndStartsAreKeptOnlyForOperationsThatSucceed) {
  const EntityFn relay = [](EntityContext& ctx) {
    ctx.signal_entity(EntityId("Counter", "total"), "add", ctx.input<int64_t>());
    const std::string started = ctx.start_orchestration("Audit", ctx.input<int64_t>());
    ctx.return_value(started);
    if (ctx.input<int64_t>() < 0) throw std::runtime_error("negative");
  };
  const EntityId id("Relay", "r");
  const std::vector<EntityMessage> ops = {op("a", "forward", to_payload(int64_t{3})),
                                      op("b", "forward", to_payload(int64_t{-1})),
                                      op("c", "forward", to_payload(int64_t{4}))};
  BatchResult r = run_batch(relay, id, {}, ops);
  // Per successful operation: a signal to counter@total, then a start.
  ASSERT_EQ(r.messages.size(), 4u);
  const Outbound& signal = r.messages[0];
  EXPECT_EQ(signal.target, "@counter@total");
  auto sent = from_event(signal.event);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->kind, MessageKind::signal);
  EXPECT_EQ(sent->operation, "add");
  EXPECT_EQ(sent->sender, "@relay@r");
  EXPECT_EQ(from_payload<int64_t>(sent->input), 3);
  EXPECT_EQ(from_payload<int64_t>(r.messages[2].event.input), 4);
  const Outbound& start = r.messages[1];
  EXPECT_EQ(start.event.type, orchestration::EventType::execution_started);
  EXPECT_EQ(start.event.name, "Audit");
  EXPECT_EQ(start.target, start.event.instance_id);
  EXPECT_EQ(start.target_execution, start.event.execution_id);
  EXPECT_EQ(from_payload<std::string>(r.results[0].result), start.target);
  EXPECT_NE(start.target, r.messages[3].target);
  // Deterministic: the same batch again sends the same messages.
  BatchResult again = run_batch(relay, id, {}, ops);
  for (size_t i = 0; i < r.messages.size(); ++i) {
    EXPECT_EQ(again.messages[i].target, r.messages[i].target);
    EXPECT_EQ(again.messages[i].event, r.messages[i].event);
  }
}

TEST(EntityMessages, RoundTripThroughInboxEvents) {
  EntityMessage scheduled = op("s", "add", to_payload(int64_t{1}));
  scheduled.at = kNow + std::chrono::seconds(5);
  for (const EntityMessage& m : {op("a", "add", to_payload(int64_t{2})), op("b", "get", {}, "orch"), scheduled,
                                 lock_request("sec", "orch", {"@a@1", "@b@2"}), unlock_request("sec", "orch")}) {
    auto back = from_event(to_event(m));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, m);
  }
  EXPECT_FALSE(from_event(orchestration::events::event_raised(kNow, "x", {})));
}

TEST(EntityLocks, GrantIsPassedAlongTheSortedSet_TheLastOneTellsTheOrchestration) {
  const std::vector<std::string> set = {"@account@a", "@account@b"};
  BatchResult first = run_batch(counter, EntityId("Account", "a"), {}, {lock_request("S", "orch", set)});
  ASSERT_TRUE(first.snapshot.lock);
  EXPECT_EQ(*first.snapshot.lock, (LockHolder{"S", "orch", "x-orch"}));
  ASSERT_EQ(first.messages.size(), 1u);
  EXPECT_EQ(first.messages[0].target, "@account@b");
  EXPECT_EQ(first.messages[0].event, to_event(lock_request("S", "orch", set)));

  BatchResult last = run_batch(counter, EntityId("Account", "b"), {}, {lock_request("S", "orch", set)});
  ASSERT_EQ(last.messages.size(), 1u);
  EXPECT_EQ(last.messages[0].target, "orch");
  EXPECT_EQ(last.messages[0].target_execution, "x-orch");
  EXPECT_EQ(last.messages[0].event.type, orchestration::EventType::entity_lock_granted);
  EXPECT_EQ(last.messages[0].event.request_id, "S");
}

TEST(EntityLocks, OthersWaitWhileLocked_TheHolderRuns_UnlockRunsTheQueueInOrder) {
  const EntityId id("Counter", "c");
  BatchResult locked = run_batch(counter, id, {},
                                 {lock_request("S", "orch", {"@counter@c"}), op("1", "add", to_payload(int64_t{1})),
                                  op("2", "add", to_payload(int64_t{10}), "orch"),
                                  lock_request("T", "other", {"@counter@c"}), op("3", "add", to_payload(int64_t{100}))});
  EXPECT_EQ(counter_value(locked), 10);  // only the holder's call ran
  ASSERT_EQ(locked.snapshot.queued.size(), 3u);
  EXPECT_EQ(locked.snapshot.queued[0].request_id, "1");

  // The unlock runs what waited until T's lock request takes the lock again;
  // "3" came after T's request, so it waits for T.
  BatchResult released = run_batch(counter, id, locked.snapshot, {unlock_request("S", "orch")});
  EXPECT_EQ(counter_value(released), 11);
  ASSERT_TRUE(released.snapshot.lock);
  EXPECT_EQ(released.snapshot.lock->section, "T");
  ASSERT_EQ(released.snapshot.queued.size(), 1u);
  EXPECT_EQ(released.snapshot.queued[0].request_id, "3");
  BatchResult done = run_batch(counter, id, released.snapshot, {unlock_request("T", "other")});
  EXPECT_EQ(counter_value(done), 111);
  EXPECT_FALSE(done.snapshot.lock);
  EXPECT_TRUE(done.snapshot.queued.empty());
}

TEST(EntityLocks, UnlockBeforeTheRequestArrives_TheRequestIsDroppedNotGranted) {
  const EntityId id("Counter", "c");
  // The orchestration finished while its lock request was on its way.
  BatchResult r = run_batch(counter, id, {}, {unlock_request("S", "orch"), lock_request("S", "orch", {"@counter@c"})});
  EXPECT_FALSE(r.snapshot.lock);
  EXPECT_TRUE(r.messages.empty());
  // A queued request is dropped by its unlock too.
  BatchResult held = run_batch(counter, id, {}, {lock_request("A", "o1", {"@counter@c"}), lock_request("B", "o2", {"@counter@c"})});
  BatchResult dropped = run_batch(counter, id, held.snapshot, {unlock_request("B", "o2"), unlock_request("A", "o1")});
  EXPECT_FALSE(dropped.snapshot.lock);
  EXPECT_TRUE(dropped.snapshot.queued.empty());
}

TEST(EntityLocks, AMessageFromALaterExecutionOfTheHolder_ReleasesTheStaleLock) {
  const EntityId id("Counter", "c");
  // orch's execution x-orch took the lock and ended without unlocking.
  BatchResult held = run_batch(counter, id, {}, {lock_request("S", "orch", {"@counter@c"}), op("1", "add", to_payload(int64_t{1}))});
  ASSERT_EQ(held.snapshot.queued.size(), 1u);
  // Its next execution calls: the old lock goes, what waited runs, then the call.
  EntityMessage call = op("2", "get", {}, "orch");
  call.sender_execution = "x-orch-2";
  BatchResult r = run_batch(counter, id, held.snapshot, {call});
  EXPECT_FALSE(r.snapshot.lock);
  EXPECT_TRUE(r.snapshot.queued.empty());
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(from_payload<int64_t>(r.messages[0].event.result), 1);
  EXPECT_EQ(r.messages[0].target_execution, "x-orch-2");
}

TEST(EntitySchedule, SignalsForLaterWaitUntilDue_ThenRunInTimeOrder) {
  const EntityId id("Counter", "c");
  EntityMessage later = op("later", "add", to_payload(int64_t{5}));
  later.at = kNow + std::chrono::seconds(10);
  EntityMessage sooner = op("sooner", "reset");
  sooner.at = kNow + std::chrono::seconds(5);
  BatchResult r = run_batch(counter, id, {}, {later, sooner, op("now", "add", to_payload(int64_t{1}))});
  EXPECT_EQ(counter_value(r), 1);
  EXPECT_EQ(r.scheduled.size(), 2u);
  EXPECT_EQ(next_due(r.snapshot), sooner.at);

  BatchResult early = run_batch(counter, id, r.snapshot, {}, kNow + std::chrono::seconds(4));
  EXPECT_EQ(counter_value(early), 1);
  BatchResult due = run_batch(counter, id, r.snapshot, {}, kNow + std::chrono::seconds(11));
  EXPECT_EQ(counter_value(due), 5);  // reset at 5 s, then add 5 at 10 s
  EXPECT_EQ(due.unscheduled.size(), 2u);
  EXPECT_TRUE(due.snapshot.scheduled.empty());
  EXPECT_FALSE(next_due(due.snapshot));
}

TEST(EntityRegistry, NamesCompareCaseInsensitively) {
  EntityRegistry registry;
  registry.add("Counter", counter);
  EXPECT_NE(registry.find("counter"), nullptr);
  EXPECT_NE(registry.find("COUNTER"), nullptr);
  EXPECT_EQ(registry.find("Cart"), nullptr);
}

}  // namespace
}  // namespace durable::entities
