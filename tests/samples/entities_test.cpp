// The sample entities, run as batches in memory.
#include "samples/entities.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace durable::samples {
namespace {

using entities::EntityId;
using entities::EntityMessage;
using entities::run_batch;
using orchestration::from_payload;
using orchestration::to_payload;
using Items = std::map<std::string, int64_t>;

class EntitySamples : public ::testing::Test {
 protected:
  void SetUp() override { register_entity_samples(registry_); }
  entities::BatchResult run(const std::string& name, std::vector<EntityMessage> ops,
                            entities::EntitySnapshot from = {}) {
    const entities::EntityFn* fn = registry_.find(name);
    EXPECT_NE(fn, nullptr) << name;
    return run_batch(fn, EntityId(name, "k"), std::move(from), std::move(ops), {});
  }
  static EntityMessage op(std::string name, orchestration::Payload input = {}) {
    static int next = 0;
    EntityMessage m;
    m.request_id = "r" + std::to_string(next++);
    m.operation = std::move(name);
    m.input = std::move(input);
    return m;
  }
  entities::EntityRegistry registry_;
};

TEST_F(EntitySamples, Counter_AddResetGet) {
  auto r = run("counter", {op("add", to_payload(int64_t{5})), op("Add", to_payload(int64_t{-2})), op("get"),
                           op("reset"), op("get"), op("divide")});
  EXPECT_EQ(from_payload<int64_t>(r.results[2].result), 3);
  EXPECT_EQ(from_payload<int64_t>(r.results[4].result), 0);
  ASSERT_TRUE(r.results[5].failure);
  EXPECT_NE(r.results[5].failure->message.find("no operation 'divide' (add, reset, get)"), std::string::npos);
}

TEST_F(EntitySamples, Counter_AddFailsPastTheRangeOrWithoutANumber_AndKeepsItsState) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  auto r = run("counter", {op("add", to_payload(max)), op("add", to_payload(max)), op("add", to_payload(std::string("abc"))),
                           op("get")});
  EXPECT_FALSE(r.results[0].failure);
  ASSERT_TRUE(r.results[1].failure);
  EXPECT_NE(r.results[1].failure->message.find("past the range of a 64-bit integer"), std::string::npos)
      << r.results[1].failure->message;
  ASSERT_TRUE(r.results[2].failure);
  EXPECT_NE(r.results[2].failure->message.find("needs a whole number"), std::string::npos)
      << r.results[2].failure->message;
  EXPECT_EQ(from_payload<int64_t>(r.results[3].result), max);
}

TEST_F(EntitySamples, Cart_AddRemoveGetClear) {
  auto r = run("Cart", {op("add", to_payload(CartLine{"apple", 2})), op("add", to_payload(CartLine{"pear", 1})),
                        op("add", to_payload(CartLine{"apple", 1})), op("remove", to_payload(CartLine{"pear", 0})),
                        op("get")});
  EXPECT_EQ(from_payload<Items>(r.results[4].result),
            (Items{{"apple", 3}}));
  auto cleared = run("Cart", {op("clear"), op("get")}, r.snapshot);
  EXPECT_TRUE(from_payload<Items>(cleared.results[1].result).empty());
}

TEST_F(EntitySamples, Inventory_ReserveFailsWhenShortAndTakesNothing) {
  auto r = run("Inventory", {op("restock", to_payload(CartLine{"apple", 5})), op("reserve", to_payload(CartLine{"apple", 3})),
                             op("reserve", to_payload(CartLine{"apple", 3})), op("get")});
  ASSERT_TRUE(r.results[2].failure);
  EXPECT_EQ(r.results[2].failure->message, "only 2 of 'apple' in stock, 3 wanted");
  EXPECT_EQ(from_payload<Items>(r.results[3].result),
            (Items{{"apple", 2}}));
}

TEST_F(EntitySamples, Account_WithdrawFailsWhenShort) {
  auto r = run("Account", {op("deposit", to_payload(int64_t{100})), op("withdraw", to_payload(int64_t{30})),
                           op("withdraw", to_payload(int64_t{80})), op("deposit", to_payload(int64_t{-1})), op("get")});
  ASSERT_TRUE(r.results[2].failure);
  EXPECT_EQ(r.results[2].failure->message, "balance 70 is short of 80");
  ASSERT_TRUE(r.results[3].failure);
  EXPECT_EQ(from_payload<int64_t>(r.results[4].result), 70);
}

}  // namespace
}  // namespace durable::samples
