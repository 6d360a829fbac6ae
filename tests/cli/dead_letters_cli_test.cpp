// `durable dead-letters` against a real node process: list, show, retry and
// discard, with the exit codes of their errors.
#include <gtest/gtest.h>

#include "http/json.hpp"
#include "orchestration/codec.hpp"
#include "orchestration/payload.hpp"
#include "store/keys.hpp"
#include "tests/cli/cli_fixture.hpp"

namespace durable::testing {
namespace {

TEST_F(CliTest, DeadLetters_ListShowRetryDiscard) {
  ASSERT_EQ(durable({"start", "Approval", "--id", "dl", "--input", R"({"proposal":"p","timeoutSeconds":600})"}).exit_code, 0);
  // Two letters for it, as a node sets them aside: an approval, and bytes
  // that decode to nothing.
  const store::Keys keys("default");
  const std::string stream = keys.dead_letters(store::partition_of("dl", 4));
  const orchestration::HistoryEvent approval[] = {orchestration::events::event_raised(
      orchestration::TimePoint(std::chrono::milliseconds(1700000000000)), "Approval", orchestration::to_payload(true))};
  ASSERT_TRUE(reply("XADD", stream, "*", "i", "dl", "at", "", "r", "episode crashed 3 times: a bug", "b",
                    orchestration::encode_events(approval)));
  ASSERT_TRUE(reply("XADD", stream, "*", "i", "dl", "at", "", "r", "malformed msgpack", "b", "\xc1"));

  auto list = durable({"dead-letters"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(list.out.starts_with("ID")) << list.out;
  EXPECT_NE(list.out.find("EventRaised Approval"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("undecodable"), std::string::npos) << list.out;
  auto as_json = durable({"--json", "dead-letters", "list"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json.err;
  const durable::http::json letters = durable::http::json::parse(as_json.out);
  ASSERT_EQ(letters.size(), 2u);
  const std::string undecodable = letters[0]["id"], good = letters[1]["id"];

  auto shown = durable({"dead-letters", "show", good});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"Input\": true"), std::string::npos) << shown.out;

  auto refused = durable({"dead-letters", "retry", undecodable});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("discard it"), std::string::npos) << refused.err;
  auto discarded = durable({"dead-letters", "discard", undecodable});
  EXPECT_EQ(discarded.exit_code, 0) << discarded.err;
  EXPECT_EQ(discarded.out, "discarded " + undecodable + "\n");

  auto retried = durable({"dead-letters", "retry", good});
  EXPECT_EQ(retried.exit_code, 0) << retried.err;
  EXPECT_EQ(retried.out, "put back into the inbox of dl\n");
  auto waited = durable({"wait", "dl", "--timeout", "20"});
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_NE(waited.out.find(R"(output   "approved")"), std::string::npos) << waited.out;

  EXPECT_EQ(durable({"dead-letters", "retry"}).exit_code, 2) << "an ID is needed";
  EXPECT_EQ(durable({"dead-letters", "show", "nope"}).exit_code, 2) << "a malformed id is the user's";
  EXPECT_EQ(durable({"dead-letters", "discard", good}).exit_code, 1) << "gone";
}

}  // namespace
}  // namespace durable::testing
