// Proves the real-Redis test fixture: binary-safe commands, AOF persistence
// across a clean restart and across SIGKILL, and isolation between servers.

#include "tests/support/redis_server.hpp"

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using durable::Errc;
using durable::Status;
using durable::testing::ContextPtr;
using durable::testing::ReplyPtr;
using durable::testing::command_argv;
// The suite is called RedisServer, so inside the tests that name means the fixture.
using Server = durable::testing::RedisServer;

// Bytes that break C strings and naive UTF-8 handling.
const std::string kBinaryValue = std::string("a\0b\xff\xfe\0", 6) + "\r\n$3\r\n" + std::string(1, '\0');
const std::string kBinaryField = std::string("f\0\xff", 3);

class RedisServer : public durable::testing::RedisTest {
 protected:
  // XADD <stream> * <field> <value>; returns the entry id ("" on failure, with a test failure).
  std::string add(const std::string& stream, const std::string& field, const std::string& value) {
    ReplyPtr r = reply("XADD", stream, "*", field, value);
    EXPECT_TRUE(r != nullptr) << redis()->errstr;
    if (!r) return "";
    EXPECT_EQ(r->type, REDIS_REPLY_STRING) << std::string(r->str ? r->str : "", r->len);
    return r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
  }

  struct Entry {
    std::string id, field, value;
    bool operator==(const Entry&) const = default;
  };

  // XRANGE <stream> - +, each entry with exactly one field.
  std::vector<Entry> range(const std::string& stream) {
    std::vector<Entry> out;
    ReplyPtr r = reply("XRANGE", stream, "-", "+");
    EXPECT_TRUE(r != nullptr) << redis()->errstr;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
      ADD_FAILURE() << "XRANGE did not return an array";
      return out;
    }
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* e = r->element[i];
      const redisReply* fields = e->element[1];
      EXPECT_EQ(fields->elements, 2u);
      out.push_back({std::string(e->element[0]->str, e->element[0]->len),
                     std::string(fields->element[0]->str, fields->element[0]->len),
                     std::string(fields->element[1]->str, fields->element[1]->len)});
    }
    return out;
  }

  // Restarts (or starts after a kill) the suite's server and reconnects.
  void bring_back(bool after_kill) {
    const Status s = after_kill ? server().start() : server().restart();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    const Status c = reconnect();
    ASSERT_TRUE(c.is_ok()) << c.to_string();
  }
};

bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

TEST_F(RedisServer, BinaryValues_XrangeReturnsExactBytes) {
  const std::string id1 = add("s", kBinaryField, kBinaryValue);
  const std::string id2 = add("s", "plain", std::string(300, '\xff'));

  const std::vector<Entry> want = {{id1, kBinaryField, kBinaryValue}, {id2, "plain", std::string(300, '\xff')}};
  EXPECT_EQ(range("s"), want);
}

TEST_F(RedisServer, UrlHostAndDir_DescribeTheRunningServer) {
  EXPECT_EQ(server().host(), "127.0.0.1");
  EXPECT_EQ(server().url(), "redis://127.0.0.1:" + std::to_string(server().port()));
  EXPECT_TRUE(std::filesystem::is_directory(server().dir()));
  EXPECT_EQ(server().dir().string().rfind("/tmp/", 0), 0u) << server().dir();
  ReplyPtr r = reply("CONFIG", "GET", "dir");
  ASSERT_TRUE(r != nullptr && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
  EXPECT_EQ(std::filesystem::path(std::string(r->element[1]->str, r->element[1]->len)),
            std::filesystem::canonical(server().dir()));
}

TEST_F(RedisServer, Restart_KeepsStreamFromAof) {
  const std::string id = add("s", kBinaryField, kBinaryValue);
  const uint16_t port = server().port();
  const pid_t old_pid = server().pid();

  bring_back(/*after_kill=*/false);

  EXPECT_EQ(server().port(), port);
  EXPECT_NE(server().pid(), old_pid);
  EXPECT_EQ(range("s"), (std::vector<Entry>{{id, kBinaryField, kBinaryValue}}));
}

TEST_F(RedisServer, KillThenStart_KeepsWritesAcknowledgedWithFsyncAlways) {
  ReplyPtr cfg = reply("CONFIG", "SET", "appendfsync", "always");
  ASSERT_TRUE(cfg != nullptr && cfg->type == REDIS_REPLY_STATUS);
  std::vector<Entry> want;
  for (int i = 0; i < 50; ++i) {
    const std::string value = kBinaryValue + std::to_string(i);
    want.push_back({add("s", "n", value), "n", value});
  }
  const pid_t old_pid = server().pid();

  server().kill();
  EXPECT_FALSE(server().running());
  EXPECT_FALSE(process_exists(old_pid));
  bring_back(/*after_kill=*/true);

  EXPECT_EQ(range("s"), want);
}

TEST_F(RedisServer, EachTest_StartsWithEmptyDatabase) {
  // Earlier tests in this suite left streams behind; SetUp flushed them.
  ReplyPtr r = reply("DBSIZE");
  ASSERT_TRUE(r != nullptr && r->type == REDIS_REPLY_INTEGER);
  EXPECT_EQ(r->integer, 0);
}

TEST_F(RedisServer, TwoServers_GetDifferentPortsAndFolders) {
  Server a, b;
  ASSERT_TRUE(a.start().is_ok());
  ASSERT_TRUE(b.start().is_ok());

  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.dir(), b.dir());
  EXPECT_NE(a.port(), server().port());
  for (Server* s : {&a, &b}) {
    ContextPtr c;
    ASSERT_TRUE(s->connect(c).is_ok());
    const std::string_view ping[] = {"PING"};
    ReplyPtr r = command_argv(c.get(), ping);
    ASSERT_TRUE(r != nullptr);
    EXPECT_EQ(std::string(r->str, r->len), "PONG");
  }
}

TEST_F(RedisServer, Destructor_StopsServerAndRemovesFolder) {
  pid_t pid = -1;
  std::filesystem::path dir;
  {
    Server s;
    ASSERT_TRUE(s.start().is_ok());
    pid = s.pid();
    dir = s.dir();
    EXPECT_TRUE(process_exists(pid));
  }
  EXPECT_FALSE(process_exists(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST_F(RedisServer, Stop_IsCleanAndIdempotent) {
  Server s;
  ASSERT_TRUE(s.start().is_ok());
  const pid_t pid = s.pid();

  EXPECT_TRUE(s.stop().is_ok());
  EXPECT_FALSE(s.running());
  EXPECT_FALSE(process_exists(pid));
  EXPECT_EQ(s.pid(), -1);
  EXPECT_TRUE(s.stop().is_ok());
}

TEST_F(RedisServer, BadOption_StartFailsWithLogTail) {
  Server s({"--no-such-option", "1"});

  const Status st = s.start();

  EXPECT_EQ(st.code(), Errc::unavailable);
  EXPECT_NE(st.message().find("Bad directive"), std::string::npos) << st.message();
  EXPECT_FALSE(s.running());
}

TEST_F(RedisServer, RestartBeforeStart_IsFailedPrecondition) {
  Server s;
  EXPECT_EQ(s.restart().code(), Errc::failed_precondition);
}

TEST_F(RedisServer, StartTwice_IsFailedPrecondition) {
  EXPECT_EQ(server().start().code(), Errc::failed_precondition);
}

}  // namespace
