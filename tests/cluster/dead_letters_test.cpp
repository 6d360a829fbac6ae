// Dead letters and quarantined instances on a node in this process against a
// real redis-server: a message whose episodes keep crashing is set aside,
// and an operator lists it, fixes the code, rewinds the instance and retries
// (or discards) the message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "client/client.hpp"
#include "orchestration/codec.hpp"
#include "orchestration/payload.hpp"
#include "store/keys.hpp"
#include "tests/cluster/node_fixture.hpp"

namespace durable::cluster {
namespace {

using namespace std::chrono_literals;
using orchestration::EventType;
using orchestration::OrchestrationContext;
using orchestration::OrchestrationStatus;
using orchestration::Payload;
using orchestration::Task;
using orchestration::from_payload;
using orchestration::to_payload;
using ::testing::HasSubstr;

// While true, replaying "Picky" throws out of the engine (its factory
// throws): every episode of it crashes.
std::atomic<bool> broken{false};

class DeadLettersTest : public NodeFixture {
 protected:
  DeadLettersTest() : NodeFixture("t") {}

  void SetUp() override {
    NodeFixture::SetUp();
    broken = false;
    // Without the instance cache every episode replays, so a broken build
    // of the code crashes the episode that delivers the next message.
    options_.runtime.cache_instances = false;
    registry_.add_orchestrator_fn("Picky", [](OrchestrationContext& ctx) -> Task<Payload> {
      if (broken) throw std::runtime_error("Picky: broken build");
      return picky(ctx);
    });
  }
  static Task<Payload> picky(OrchestrationContext& ctx) {
    std::string order = co_await ctx.wait_for_external_event<std::string>("Order");
    co_return to_payload("served " + order);
  }

  // Starts Picky as `id`, breaks the code and sends it an order: the order
  // crashes its episodes until the instance is quarantined.
  store::DeadLetter quarantine(const std::string& id) {
    client::Client::StartOptions o;
    o.instance_id = id;
    EXPECT_TRUE(client_->start("Picky", {}, o));
    EXPECT_TRUE(eventually([&] {
      auto got = client_->get(id);
      return got && got->row.status == OrchestrationStatus::running;
    }));
    broken = true;
    EXPECT_TRUE(client_->raise_event(id, "Order", to_payload(std::string("tea"))));
    auto row = wait(id, 20s);
    EXPECT_EQ(row.status, OrchestrationStatus::failed);
    EXPECT_TRUE(row.failure && row.failure->error_type == "PoisonMessage");
    auto page = client_->dead_letters();
    EXPECT_TRUE(page) << page.status().to_string();
    if (!page || page->letters.empty()) return {};
    EXPECT_EQ(page->letters.size(), 1u);
    return page->letters.front();
  }
};

TEST_F(DeadLettersTest, AQuarantinedMessageIsListedAndShown) {
  start_node();
  const store::DeadLetter letter = quarantine("picky");
  EXPECT_EQ(letter.instance_id, "picky");
  EXPECT_THAT(letter.reason, HasSubstr("Picky: broken build"));
  EXPECT_NE(letter.at, orchestration::TimePoint{});
  auto events = orchestration::decode_events(letter.bytes);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, EventType::event_raised);
  EXPECT_EQ((*events)[0].name, "Order");

  auto shown = client_->dead_letter(letter.id);
  ASSERT_TRUE(shown) << shown.status().to_string();
  EXPECT_EQ(shown->bytes, letter.bytes);
  EXPECT_EQ(client_->dead_letter("0-1-1").status().code(), Errc::not_found);
  EXPECT_EQ(client_->dead_letter("no-such").status().code(), Errc::invalid_argument);
  EXPECT_EQ(client_->dead_letter("99-1-0").status().code(), Errc::invalid_argument) << "partition out of range";
}

TEST_F(DeadLettersTest, ADeadLetterRetriedAfterTheFixReachesTheRewoundInstance) {
  start_node();
  const store::DeadLetter letter = quarantine("picky");
  broken = false;  // the fix is deployed
  ASSERT_TRUE(client_->rewind("picky", to_payload(std::string("fixed the build"))));
  ASSERT_TRUE(eventually([&] {
    auto got = client_->get("picky");
    return got && got->row.status == OrchestrationStatus::running;
  }));
  ASSERT_TRUE(client_->retry_dead_letter(letter.id));
  auto row = wait("picky");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row.output), "served tea");
  // It left the dead letters, and a second retry finds nothing.
  EXPECT_TRUE(client_->dead_letters()->letters.empty());
  EXPECT_EQ(client_->retry_dead_letter(letter.id).code(), Errc::not_found);
}

TEST_F(DeadLettersTest, AQuarantinedInstanceRewoundAfterItsPoisonIsDiscarded) {
  start_node();
  const store::DeadLetter letter = quarantine("picky");
  ASSERT_TRUE(client_->discard_dead_letter(letter.id));
  EXPECT_EQ(client_->discard_dead_letter(letter.id).code(), Errc::not_found);
  broken = false;
  ASSERT_TRUE(client_->rewind("picky"));
  ASSERT_TRUE(eventually([&] {
    auto got = client_->get("picky");
    return got && got->row.status == OrchestrationStatus::running;
  }));
  // It waits for an order again: the poisoned one is gone.
  ASSERT_TRUE(client_->raise_event("picky", "Order", to_payload(std::string("coffee"))));
  auto row = wait("picky");
  ASSERT_EQ(row.status, OrchestrationStatus::completed) << (row.failure ? row.failure->message : "");
  EXPECT_EQ(from_payload<std::string>(row.output), "served coffee");
}

TEST_F(DeadLettersTest, UndecodableLettersCannotBeRetriedAndListingPages) {
  start_node();
  const store::Keys& keys = store_->keys();
  // Three letters in two partitions, written as the node writes them.
  for (const std::string id : {"a!0", "b!0", "c!1"}) {
    ASSERT_TRUE(reply("XADD", keys.dead_letters(store_->partition_of(id)), "*", "i", id, "at", "", "r",
                      "malformed msgpack", "b", "\xc1"));
  }
  std::vector<std::string> seen;
  std::string token;
  do {
    auto page = client_->dead_letters(2, token);
    ASSERT_TRUE(page) << page.status().to_string();
    for (const auto& d : page->letters) seen.push_back(d.instance_id);
    token = page->continuation;
  } while (!token.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"b!0", "a!0", "c!1"})) << "by partition, newest first";
  auto first = client_->dead_letters(1);
  ASSERT_TRUE(first);
  Status retried = client_->retry_dead_letter(first->letters[0].id);
  EXPECT_EQ(retried.code(), Errc::failed_precondition);
  EXPECT_THAT(retried.message(), HasSubstr("cannot be retried"));
  EXPECT_THAT(retried.message(), HasSubstr("discard it"));
  EXPECT_EQ(client_->dead_letters(0).status().code(), Errc::invalid_argument);
  EXPECT_EQ(client_->dead_letters(10, "garbage").status().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace durable::cluster
