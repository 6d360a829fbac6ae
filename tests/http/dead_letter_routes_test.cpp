// The dead-letter routes over real HTTP on a node in this process: list with
// paging, show, retry into the inbox, discard, and their errors.
#include <gtest/gtest.h>

#include "orchestration/codec.hpp"
#include "orchestration/payload.hpp"
#include "store/keys.hpp"
#include "tests/http/http_fixture.hpp"

namespace durable::http {
namespace {

class DeadLetterRoutesTest : public HttpTest {
 protected:
  // Writes a dead letter for `id` as a node sets one aside.
  void dead_letter(const std::string& id, const std::string& bytes, const std::string& reason) {
    const store::Keys keys("h");
    ASSERT_TRUE(reply("XADD", keys.dead_letters(store::partition_of(id, 4)), "*", "i", id, "at", "1-0", "r", reason,
                      "b", bytes));
  }
  json list(const std::string& query, std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("x-ms-continuation-token", token);
    auto r = client_->Get((kBase + "/deadLetters" + query).c_str(), headers);
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    token = r->get_header_value("x-ms-continuation-token");
    return body(r);
  }
};

TEST_F(DeadLetterRoutesTest, ListShowRetryAndDiscard) {
  start_waiting("wants-approval");
  const orchestration::HistoryEvent approval[] = {orchestration::events::event_raised(
      orchestration::TimePoint(std::chrono::milliseconds(1700000000000)), "Approval", orchestration::to_payload(true))};
  dead_letter("wants-approval", orchestration::encode_events(approval), "episode crashed 3 times: a bug");
  dead_letter("wants-approval", "\xc1", "malformed msgpack");

  std::string token;
  json first = list("?top=1", token);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(token.empty()) << "a second page";
  EXPECT_EQ(first[0]["reason"], "malformed msgpack") << "newest first";
  EXPECT_TRUE(first[0]["message"].is_null()) << "undecodable";
  json second = list("?top=1", token);
  ASSERT_EQ(second.size(), 1u);
  const json letter = second[0];
  EXPECT_EQ(letter["instanceId"], "wants-approval");
  EXPECT_EQ(letter["inboxEntry"], "1-0");
  EXPECT_EQ(letter["message"]["EventType"], "EventRaised");
  EXPECT_EQ(letter["message"]["Name"], "Approval");
  EXPECT_FALSE(letter["message"].contains("Input")) << "payloads only when shown one by one";

  auto shown = get("/deadLetters/" + letter["id"].get<std::string>());
  ASSERT_TRUE(shown);
  ASSERT_EQ(shown->status, 200) << shown->body;
  EXPECT_EQ(body(shown)["message"]["Input"], true);

  // The undecodable one cannot go back; it can only be discarded.
  auto refused = post("/deadLetters/" + first[0]["id"].get<std::string>() + "/retry");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409);
  EXPECT_NE(body(refused)["error"].get<std::string>().find("discard it"), std::string::npos) << refused->body;
  auto discarded = del("/deadLetters/" + first[0]["id"].get<std::string>());
  ASSERT_TRUE(discarded);
  EXPECT_EQ(discarded->status, 200);
  auto again = del("/deadLetters/" + first[0]["id"].get<std::string>());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404);

  // The other goes back into the inbox it came from, and the instance acts on it.
  auto retried = post("/deadLetters/" + letter["id"].get<std::string>() + "/retry");
  ASSERT_TRUE(retried);
  ASSERT_EQ(retried->status, 202) << retried->body;
  EXPECT_EQ(finished("wants-approval")["output"], "approved");
  std::string none;
  EXPECT_TRUE(list("", none).empty());

  auto bad = get("/deadLetters/not-an-id");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

}  // namespace
}  // namespace durable::http
