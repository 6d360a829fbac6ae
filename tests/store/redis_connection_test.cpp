#include "store/redis_connection.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/redis_server.hpp"

namespace durable::store_test {
namespace {

using namespace std::chrono_literals;
using store::as_array;
using store::as_integer;
using store::as_string;
using store::Pipeline;
using store::RedisAddress;
using Connection = store::RedisConnection;

// Bytes that break %s formatting and naive UTF-8 handling.
const std::string kBinary = std::string("a\0b\xff\xfe", 5) + std::string(1, '\0');

class RedisConnection : public testing::RedisTest {
 protected:
  RedisAddress address() const {
    RedisAddress a;
    a.host = server().host();
    a.port = server().port();
    return a;
  }

  // A fresh connection to the suite's server; fails the test if it cannot.
  Connection open(std::chrono::milliseconds timeout = 2s) {
    auto c = Connection::connect(address(), timeout);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return std::move(c).value();
  }

  static std::string str(const Result<store::ReplyPtr>& r) {
    if (!r) return "<" + r.status().to_string() + ">";
    auto s = as_string(**r);
    return s ? *s : "<" + s.status().to_string() + ">";
  }
};

TEST_F(RedisConnection, BinaryValue_RoundTripsThroughSetGet) {
  Connection c = open();
  ASSERT_EQ(str(c.command("SET", kBinary, kBinary)), "OK");
  EXPECT_EQ(str(c.command("GET", kBinary)), kBinary);
  auto missing = c.command("GET", "nope");
  ASSERT_TRUE(missing.is_ok());
  EXPECT_TRUE(store::is_nil(**missing));
}

TEST_F(RedisConnection, BinaryValue_RoundTripsThroughXaddXrange) {
  Connection c = open();
  auto id = c.command("XADD", "s", "*", "f", kBinary);
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  const std::string entry_id = *as_string(**id);

  auto range = c.command("XRANGE", "s", "-", "+");
  ASSERT_TRUE(range.is_ok()) << range.status().to_string();
  auto entries = as_array(**range, 1);
  ASSERT_TRUE(entries.is_ok()) << entries.status().to_string();
  ASSERT_EQ(entries->size(), 1u);
  auto entry = as_array(*(*entries)[0], 2);
  ASSERT_TRUE(entry.is_ok());
  EXPECT_EQ(*as_string(*(*entry)[0]), entry_id);
  auto fields = as_array(*(*entry)[1], 2);
  ASSERT_TRUE(fields.is_ok());
  EXPECT_EQ(*as_string(*(*fields)[0]), "f");
  EXPECT_EQ(*as_string(*(*fields)[1]), kBinary);
}

TEST_F(RedisConnection, WrongType_IsInternalWithServerText) {
  Connection c = open();
  ASSERT_TRUE(c.command("SET", "k", "v").is_ok());
  auto r = c.command("XADD", "k", "*", "f", "v");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::internal);
  EXPECT_TRUE(r.status().message().starts_with("WRONGTYPE")) << r.status().message();
  EXPECT_FALSE(c.broken());
  EXPECT_EQ(str(c.command("PING")), "PONG");
}

TEST_F(RedisConnection, UnknownScriptSha_IsNotFound) {
  Connection c = open();
  auto r = c.command("EVALSHA", "0123456789012345678901234567890123456789", "0");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::not_found);
  EXPECT_TRUE(r.status().message().starts_with("NOSCRIPT")) << r.status().message();
}

TEST_F(RedisConnection, ScriptFencingError_IsLeaseLostAndVersionErrorIsFailedPrecondition) {
  Connection c = open();
  auto fenced = c.command("EVAL", "return redis.error_reply('DURABLE_FENCED epoch 3 < 4')", "0");
  ASSERT_FALSE(fenced.is_ok());
  EXPECT_EQ(fenced.status().code(), Errc::lease_lost);
  EXPECT_EQ(fenced.status().message(), "DURABLE_FENCED epoch 3 < 4");

  auto version = c.command("EVAL", "return redis.error_reply('DURABLE_VERSION 2 unknown')", "0");
  ASSERT_FALSE(version.is_ok());
  EXPECT_EQ(version.status().code(), Errc::failed_precondition);
  EXPECT_NE(version.status().message().find("DURABLE_VERSION 2 unknown"), std::string::npos);

  auto busy = c.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
  ASSERT_TRUE(busy.is_ok()) << busy.status().to_string();
  busy = c.command("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
  EXPECT_EQ(busy.status().code(), Errc::already_exists);
}

TEST_F(RedisConnection, Pipeline_HundredCommandsWithOneFailure_ReturnsAllInOrder) {
  Connection c = open();
  ASSERT_TRUE(c.command("SET", "str", "x").is_ok());
  Pipeline p(c);
  constexpr int kCommands = 100;
  constexpr int kFailing = 50;
  for (int i = 0; i < kCommands; ++i) {
    if (i == kFailing) {
      p.add("INCR", "str");  // ERR value is not an integer
    } else {
      p.add("RPUSH", "list", std::to_string(i));
    }
  }
  ASSERT_EQ(p.size(), static_cast<size_t>(kCommands));
  auto results = p.execute();
  EXPECT_EQ(p.size(), 0u);
  ASSERT_EQ(results.size(), static_cast<size_t>(kCommands));
  int64_t expected_len = 0;
  for (int i = 0; i < kCommands; ++i) {
    SCOPED_TRACE(i);
    if (i == kFailing) {
      ASSERT_FALSE(results[i].is_ok());
      EXPECT_EQ(results[i].status().code(), Errc::internal);
      EXPECT_NE(results[i].status().message().find("not an integer"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(results[i].is_ok()) << results[i].status().to_string();
    EXPECT_EQ(*as_integer(**results[i]), ++expected_len);  // RPUSH returns the new length
  }
  // Still in sync: the next reply belongs to the next command.
  EXPECT_FALSE(c.broken());
  EXPECT_EQ(str(c.command("ECHO", "after")), "after");
  EXPECT_EQ(str(c.command("LINDEX", "list", "50")), "51");
  EXPECT_TRUE(Pipeline(c).execute().empty());
}

TEST_F(RedisConnection, ServerKilled_CommandUnavailableThenReconnectAfterRestart) {
  Connection c = open();
  ASSERT_TRUE(c.command("SET", "k", "v").is_ok());
  server().kill();

  auto r = c.command("GET", "k");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::unavailable) << r.status().to_string();
  EXPECT_TRUE(c.broken());
  // Broken: no I/O, still unavailable, for commands and pipelines alike.
  EXPECT_EQ(c.command("PING").status().code(), Errc::unavailable);
  Pipeline p(c);
  p.add("PING");
  p.add("PING");
  auto results = p.execute();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status().code(), Errc::unavailable);
  EXPECT_EQ(results[1].status().code(), Errc::unavailable);

  // Nothing listens yet: reconnect fails cleanly.
  const Status down = c.reconnect();
  EXPECT_EQ(down.code(), Errc::unavailable) << down.to_string();
  EXPECT_TRUE(c.broken());

  const Status s = server().restart();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  const Status up = c.reconnect();
  ASSERT_TRUE(up.is_ok()) << up.to_string();
  EXPECT_FALSE(c.broken());
  EXPECT_EQ(str(c.command("PING")), "PONG");
}

TEST_F(RedisConnection, SocketTimeout_IsDeadlineExceededAndBreaksConnection) {
  Connection c = open(200ms);
  auto r = c.command("BLPOP", "empty", "2");  // blocks 2 s > 200 ms socket timeout
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Errc::deadline_exceeded) << r.status().to_string();
  EXPECT_TRUE(c.broken());
  const Status s = c.reconnect();
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ(str(c.command("PING")), "PONG");
}

TEST_F(RedisConnection, ConnectToClosedPort_IsUnavailable) {
  RedisAddress a = address();
  server().kill();
  auto c = Connection::connect(a, 500ms);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), Errc::unavailable);
  EXPECT_NE(c.status().message().find(a.to_string()), std::string::npos) << c.status().message();
}

TEST_F(RedisConnection, TypedReaders_ReportExpectedAndActualShape) {
  Connection c = open();
  ASSERT_TRUE(c.command("SET", "k", "v").is_ok());
  auto value = c.command("GET", "k");
  ASSERT_TRUE(value.is_ok());
  auto arr = as_array(**value);
  ASSERT_FALSE(arr.is_ok());
  EXPECT_EQ(arr.status().code(), Errc::internal);
  EXPECT_EQ(arr.status().message(), "expected ARRAY, got STRING");
  EXPECT_EQ(as_integer(**value).status().message(), "expected INTEGER, got STRING");

  auto nil = c.command("GET", "missing");
  ASSERT_TRUE(nil.is_ok());
  EXPECT_EQ(as_string(**nil).status().message(), "expected STRING, got NIL");

  auto list = c.command("XRANGE", "nostream", "-", "+");
  ASSERT_TRUE(list.is_ok());
  EXPECT_TRUE(as_array(**list).is_ok());
  EXPECT_EQ(as_array(**list, 3).status().message(), "expected ARRAY of at least 3 elements, got 0");
  EXPECT_EQ(*as_string(**c.command("PING")), "PONG");  // STATUS reads as a string
}

TEST_F(RedisConnection, UrlParsing_AcceptsGoodAndNamesWhatIsWrong) {
  struct Good {
    std::string_view url;
    std::string host;
    uint16_t port;
    std::string password;
  };
  const Good good[] = {
      {"redis://localhost", "localhost", 6379, ""},
      {"redis://127.0.0.1:6390", "127.0.0.1", 6390, ""},
      {"redis://127.0.0.1:6390/", "127.0.0.1", 6390, ""},
      {"redis://:s3cret@example.org:7000", "example.org", 7000, "s3cret"},
      {"redis://:p@ss@h:1", "h", 1, "p@ss"},
      {"redis://[::1]:6400", "::1", 6400, ""},
  };
  for (const Good& g : good) {
    SCOPED_TRACE(g.url);
    auto a = RedisAddress::parse(g.url);
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    EXPECT_EQ(a->host, g.host);
    EXPECT_EQ(a->port, g.port);
    EXPECT_EQ(a->password, g.password);
  }
  struct Bad {
    std::string_view url;
    std::string_view phrase;
  };
  const Bad bad[] = {
      {"http://h:1", "scheme"},
      {"127.0.0.1:6379", "scheme"},
      {"redis://", "empty host"},
      {"redis://:6379", "empty host"},
      {"redis://h:", "not a number"},
      {"redis://h:abc", "not a number"},
      {"redis://h:12x", "not a number"},
      {"redis://h:0", "out of range"},
      {"redis://h:70000", "out of range"},
      {"redis://user:pw@h:1", "user names"},
      {"redis://h:1/0", "database"},
      {"redis://[::1:1", "']'"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.url);
    auto a = RedisAddress::parse(b.url);
    ASSERT_FALSE(a.is_ok());
    EXPECT_EQ(a.status().code(), Errc::invalid_argument);
    EXPECT_NE(a.status().message().find(b.phrase), std::string::npos) << a.status().message();
  }
}

TEST_F(RedisConnection, PasswordProtectedServer_RightPasswordWorksWrongIsRejected) {
  testing::RedisServer secured({"--requirepass", "s3cret"});
  const Status started = secured.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  auto parsed = RedisAddress::parse("redis://:s3cret@127.0.0.1:" + std::to_string(secured.port()));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();

  auto good = Connection::connect(*parsed, 2s);
  ASSERT_TRUE(good.is_ok()) << good.status().to_string();
  EXPECT_EQ(str(good->command("PING")), "PONG");
  // AUTH is sent again after a reconnect.
  ASSERT_TRUE(good->reconnect().is_ok());
  EXPECT_EQ(str(good->command("PING")), "PONG");

  RedisAddress wrong = *parsed;
  wrong.password = "guess";
  auto bad = Connection::connect(wrong, 2s);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), Errc::invalid_argument);
  EXPECT_NE(bad.status().message().find("AUTH"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("WRONGPASS"), std::string::npos) << bad.status().message();

  RedisAddress none = *parsed;
  none.password.clear();
  auto anonymous = Connection::connect(none, 2s);
  ASSERT_TRUE(anonymous.is_ok());  // no AUTH sent, so nothing to reject yet
  auto r = anonymous->command("PING");
  EXPECT_NE(r.status().message().find("NOAUTH"), std::string::npos) << r.status().to_string();
}

TEST_F(RedisConnection, MovedFrom_IsBrokenAndUnavailable) {
  Connection a = open();
  Connection b = std::move(a);
  EXPECT_TRUE(a.broken());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(a.command("PING").status().code(), Errc::unavailable);
  EXPECT_EQ(a.reconnect().code(), Errc::internal);
  EXPECT_EQ(str(b.command("PING")), "PONG");
}

}  // namespace
}  // namespace durable::store_test
