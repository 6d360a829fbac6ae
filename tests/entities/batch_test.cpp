// Entity batches in memory: function- and class-based entities, rollback of
// a failing operation, duplicate request ids, signals and starts.
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

Operation op(std::string request_id, std::string name, Payload input = {}, std::string caller = {}) {
  return {std::move(request_id), std::move(name), std::move(input), std::move(caller)};
}

TEST(EntityBatch, FunctionEntity_EachOperationSeesThePreviousState) {
  const EntityId id("Counter", "c1");
  const std::vector<Operation> ops = {op("r1", "add", to_payload(int64_t{5})), op("r2", "add", to_payload(int64_t{7})),
                                      op("r3", "get", {}, "orch-1")};
  BatchResult r = run_batch(counter, id, {}, ops);
  ASSERT_EQ(r.results.size(), 3u);
  EXPECT_EQ(from_payload<int64_t>(*r.snapshot.state), 12);
  EXPECT_EQ(from_payload<int64_t>(r.results[2].result), 12);
  EXPECT_EQ(r.results[2].caller, "orch-1");
  EXPECT_FALSE(r.results[0].failure);
  EXPECT_EQ(r.snapshot.recent_request_ids, (std::deque<std::string>{"r1", "r2", "r3"}));
}

TEST(EntityBatch, ThrowingOperationFailsAloneAndLeavesTheStateAsItWas) {
  const EntityId id("Counter", "c1");
  EntitySnapshot start;
  start.state = to_payload(int64_t{10});
  const std::vector<Operation> ops = {op("a", "add", to_payload(int64_t{1})), op("b", "add", to_payload(int64_t{-3}), "o"),
                                      op("c", "add", to_payload(int64_t{2})), op("d", "frobnicate")};
  BatchResult r = run_batch(counter, id, start, ops);
  ASSERT_EQ(r.results.size(), 4u);
  EXPECT_EQ(from_payload<int64_t>(*r.snapshot.state), 13);
  ASSERT_TRUE(r.results[1].failure);
  EXPECT_EQ(r.results[1].failure->message, "cannot add a negative amount");
  EXPECT_EQ(r.results[1].caller, "o");
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
  std::vector<Operation> ops;
  for (size_t i = 0; i < kRecentRequestIds + 5; ++i) ops.push_back(op("r" + std::to_string(i), "add", to_payload(int64_t{1})));
  BatchResult r = run_batch(counter, id, {}, ops);
  EXPECT_EQ(r.snapshot.recent_request_ids.size(), kRecentRequestIds);
  EXPECT_EQ(r.snapshot.recent_request_ids.front(), "r5");
  EXPECT_EQ(from_payload<int64_t>(*r.snapshot.state), static_cast<int64_t>(kRecentRequestIds + 5));
}

TEST(EntityBatch, DeleteStateLeavesNone) {
  BatchResult r = run_batch(counter, EntityId("Counter", "c1"), {},
                            std::vector{op("a", "add", to_payload(int64_t{1})), op("b", "delete")});
  EXPECT_FALSE(r.snapshot.state);
}

TEST(EntityBatch, ClassEntity_MethodsAreOperationsAndTheObjectIsTheState) {
  const EntityFn cart = ClassEntity<Cart>()
                            .operation("add", &Cart::add)
                            .operation("remove", &Cart::remove)
                            .operation("get", &Cart::get)
                            .operation("clear", &Cart::clear);
  const EntityId id("Cart", "user42");
  const std::vector<Operation> ops = {op("1", "add", to_payload(Line{"apple", 2})), op("2", "ADD", to_payload(Line{"pear", 1})),
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
  const std::vector<Operation> ops = {op("a", "forward", to_payload(int64_t{3})),
                                      op("b", "forward", to_payload(int64_t{-1})),
                                      op("c", "forward", to_payload(int64_t{4}))};
  BatchResult r = run_batch(relay, id, {}, ops);
  ASSERT_EQ(r.signals.size(), 2u);
  EXPECT_EQ(r.signals[0], (SignalOut{EntityId("counter", "total"), "add", to_payload(int64_t{3}), std::nullopt}));
  EXPECT_EQ(from_payload<int64_t>(r.signals[1].input), 4);
  ASSERT_EQ(r.starts.size(), 2u);
  EXPECT_EQ(r.starts[0].name, "Audit");
  EXPECT_EQ(from_payload<std::string>(r.results[0].result), r.starts[0].instance_id);
  EXPECT_NE(r.starts[0].instance_id, r.starts[1].instance_id);
  // Deterministic: the same batch again starts the same instances.
  BatchResult again = run_batch(relay, id, {}, ops);
  EXPECT_EQ(again.starts, r.starts);
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
