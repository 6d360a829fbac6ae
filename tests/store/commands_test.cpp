// The store's commands and reply parsers without Redis: replies are built
// from RESP bytes with hiredis' own reader, as a connection would read them.
#include "store/commands.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "orchestration/codec.hpp"
#include "store/redis_connection.hpp"
#include "store/rows.hpp"

namespace durable::store {
namespace {

using orchestration::EventType;
using orchestration::events::event_raised;
using orchestration::events::execution_started;
using orchestration::events::orchestrator_started;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};

// -- RESP ---------------------------------------------------------------------
std::string bulk(std::string_view s) { return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n"; }
std::string array(const std::vector<std::string>& items) {
  std::string out = "*" + std::to_string(items.size()) + "\r\n";
  for (const std::string& i : items) out += i;
  return out;
}
std::string strings(const std::vector<std::string>& items) {
  std::vector<std::string> b;
  for (const std::string& i : items) b.push_back(bulk(i));
  return array(b);
}
const std::string kNil = "$-1\r\n";
// A stream entry: [id, [field, value, ...]].
std::string entry(std::string_view id, const std::vector<std::string>& fields) {
  return array({bulk(id), strings(fields)});
}
std::string one_event(const HistoryEvent& e) {
  const HistoryEvent one[] = {e};
  return orchestration::encode_events(one);
}

// What a connection reads from `resp`.
Result<ReplyPtr> reply(const std::string& resp) {
  redisReader* reader = redisReaderCreate();
  redisReaderFeed(reader, resp.data(), resp.size());
  void* out = nullptr;
  const int rc = redisReaderGetReply(reader, &out);
  redisReaderFree(reader);
  if (rc != REDIS_OK || !out) return Status::internal("bad RESP in the test");
  return ReplyPtr(static_cast<redisReply*>(out));
}

InstanceRow row_of(std::string id, OrchestrationStatus status, std::string inbox_position = "0-0") {
  InstanceRow row;
  row.id = std::move(id);
  row.name = "Hello";
  row.input = "in";
  row.execution_id = "x1";
  row.status = status;
  row.created = kT0;
  row.updated = kT0 + std::chrono::milliseconds(5);
  row.inbox_position = std::move(inbox_position);
  return row;
}
std::string hgetall(const InstanceRow& row, std::string version = "3") {
  std::vector<std::string> fields = row_fields(row);
  fields.insert(fields.end(), {"v", std::move(version)});
  return strings(fields);
}

bool contains(const std::vector<std::string>& argv, std::string_view s) {
  return std::find(argv.begin(), argv.end(), s) != argv.end();
}

class CommandsTest : public ::testing::Test {
 protected:
  Commands commands_{"t", 4};
};

// -- rows ---------------------------------------------------------------------

TEST_F(CommandsTest, ARowReadsBackAsItWasWritten) {
  InstanceRow row = row_of("a", OrchestrationStatus::failed, "5-1");
  row.output = "out";
  row.custom_status = "cs";
  row.failure = FailureDetails{"Boom", "it broke", "stack"};
  auto r = reply(hgetall(row));
  auto parsed = parse_row("a", **r);
  ASSERT_TRUE(parsed) << parsed.status().to_string();
  EXPECT_EQ(parsed->name, "Hello");
  EXPECT_EQ(parsed->status, OrchestrationStatus::failed);
  EXPECT_EQ(parsed->output, "out");
  EXPECT_EQ(parsed->custom_status, "cs");
  EXPECT_EQ(parsed->inbox_position, "5-1");
  EXPECT_EQ(parsed->created, kT0);
  EXPECT_EQ(parsed->updated, row.updated);
  EXPECT_EQ(parsed->version, 3u);
  ASSERT_TRUE(parsed->failure);
  EXPECT_EQ(parsed->failure->stack_trace, "stack");
}

TEST_F(CommandsTest, AnUnknownStatusIsCorruptionNamingTheInstance) {
  auto r = reply(strings({"s", "99", "ct", "1", "ut", "1"}));
  auto parsed = parse_row("a", **r);
  EXPECT_EQ(parsed.status().code(), Errc::corruption);
  EXPECT_NE(parsed.status().message().find("instance a: unknown status 99"), std::string::npos)
      << parsed.status().message();
}

// -- loads --------------------------------------------------------------------

TEST_F(CommandsTest, ALoadReadsRowHistoryAndOnlyTheUnconsumedInbox) {
  const auto argv = commands_.load_commands("a");
  ASSERT_EQ(argv.size(), 3u);
  EXPECT_EQ(argv[0], (Argv{"HGETALL", commands_.keys().instance(commands_.partition_of("a"), "a")}));

  std::vector<Result<ReplyPtr>> replies;
  replies.push_back(reply(hgetall(row_of("a", OrchestrationStatus::running, "5-1"))));
  const HistoryEvent episode[] = {orchestrator_started(kT0)};
  replies.push_back(reply(array({entry("1-0", {"e", orchestration::encode_events(episode)})})));
  replies.push_back(reply(array({
      entry("5-1", {"e", one_event(event_raised(kT0, "Old", ""))}),        // consumed, not yet trimmed
      entry("6-0", {"e", one_event(event_raised(kT0, "New", "")), "x", "x1"}),
      entry("7-0", {"e", "not msgpack"}),
  })));
  auto loaded = Commands::parse_load("a", replies);
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  ASSERT_TRUE(loaded->row);
  EXPECT_EQ(loaded->row->status, OrchestrationStatus::running);
  ASSERT_EQ(loaded->history.size(), 1u);
  EXPECT_EQ(loaded->history[0].type, EventType::orchestrator_started);
  ASSERT_EQ(loaded->inbox.size(), 1u);
  EXPECT_EQ(loaded->inbox[0].stream_id, "6-0");
  EXPECT_EQ(loaded->inbox[0].event.name, "New");
  EXPECT_EQ(loaded->inbox[0].execution_id, "x1");
  ASSERT_EQ(loaded->undecodable.size(), 1u);
  EXPECT_EQ(loaded->undecodable[0].stream_id, "7-0");
  EXPECT_EQ(loaded->undecodable[0].bytes, "not msgpack");
  EXPECT_FALSE(loaded->start);
}

TEST_F(CommandsTest, APendingRowWithNoHistoryHoldsItsStart) {
  std::vector<Result<ReplyPtr>> replies;
  replies.push_back(reply(hgetall(row_of("a", OrchestrationStatus::pending))));
  replies.push_back(reply(array({})));
  replies.push_back(reply(array({})));
  auto loaded = Commands::parse_load("a", replies);
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  ASSERT_TRUE(loaded->start);
  EXPECT_EQ(loaded->start->type, EventType::execution_started);
  EXPECT_EQ(loaded->start->execution_id, "x1");
  EXPECT_EQ(loaded->start->input, "in");
}

TEST_F(CommandsTest, CorruptHistoryFailsTheLoadNamingTheInstance) {
  std::vector<Result<ReplyPtr>> replies;
  replies.push_back(reply(array({})));
  replies.push_back(reply(array({entry("1-0", {"e", "garbage"})})));
  replies.push_back(reply(array({})));
  auto loaded = Commands::parse_load("a", replies);
  EXPECT_EQ(loaded.status().code(), Errc::corruption);
  EXPECT_NE(loaded.status().message().find("instance a"), std::string::npos) << loaded.status().message();
}

TEST_F(CommandsTest, AFailedReadFailsTheLoadWithItsStatus) {
  std::vector<Result<ReplyPtr>> replies;
  replies.push_back(reply(array({})));
  replies.push_back(Status(Errc::unavailable, "connection reset"));
  replies.push_back(reply(array({})));
  EXPECT_EQ(Commands::parse_load("a", replies).status().code(), Errc::unavailable);
}

TEST_F(CommandsTest, AnInboxReadAfterAPositionStartsPastIt) {
  EXPECT_EQ(commands_.inbox_command({"a", "5-1", 10})[2], "(5-1");
  EXPECT_EQ(commands_.inbox_command({"a", "0-0", 10})[2], "-");
}

// -- scans and notices ----------------------------------------------------------

TEST_F(CommandsTest, DueTimersSkipMembersThatAreNotTimers) {
  auto timers = Commands::parse_due_timers(reply(strings({"a\nx1\n7", "1700000000000", "junk", "5", "b\nx2\n2", "12"})));
  ASSERT_TRUE(timers) << timers.status().to_string();
  ASSERT_EQ(timers->size(), 2u);
  EXPECT_EQ((*timers)[0].instance_id, "a");
  EXPECT_EQ((*timers)[0].timer_id, 7);
  EXPECT_EQ((*timers)[0].fire_at, kT0);
  EXPECT_EQ((*timers)[1].instance_id, "b");
}

TEST_F(CommandsTest, NoticesNameEachIdAndAdvanceTheCursors) {
  std::vector<WakeCursor> cursors = {{1, "0-0"}, {2, "3-0"}};
  const auto argv = commands_.notices_command(NoticeStream::wake, cursors, std::chrono::milliseconds(0));
  EXPECT_EQ(argv[4], "1");  // BLOCK at least 1 ms: 0 would block for ever
  EXPECT_TRUE(contains(argv, commands_.keys().wake(2)));
  const std::string resp = array({array({
      bulk(commands_.keys().wake(2)),
      array({entry("4-0", {"i", "a\nb"}), entry("5-0", {"i", "c", "by", "node1"})}),
  })});
  auto notices = commands_.parse_notices(NoticeStream::wake, cursors, reply(resp));
  ASSERT_TRUE(notices) << notices.status().to_string();
  ASSERT_EQ(notices->size(), 3u);
  EXPECT_EQ((*notices)[0].instance_id, "a");
  EXPECT_EQ((*notices)[1].instance_id, "b");
  EXPECT_EQ((*notices)[2].instance_id, "c");
  EXPECT_EQ((*notices)[2].starter, "node1");
  EXPECT_EQ((*notices)[2].partition, 2u);
  EXPECT_EQ(cursors[0].last_id, "0-0");
  EXPECT_EQ(cursors[1].last_id, "5-0");
  // A nil reply: the time passed.
  auto none = commands_.parse_notices(NoticeStream::wake, cursors, reply(kNil));
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(CommandsTest, TheLastNoticeOfAnEmptyStreamIsZero) {
  EXPECT_EQ(*Commands::parse_last_notice(reply(array({}))), "0-0");
  EXPECT_EQ(*Commands::parse_last_notice(reply(array({entry("9-2", {"i", "a"})}))), "9-2");
}

// -- the client's requests --------------------------------------------------------

TEST_F(CommandsTest, SendErrorsNameTheInstance) {
  Status missing = Commands::parse_send("a", error_reply_status("DURABLE_NOTFOUND"));
  EXPECT_EQ(missing.code(), Errc::not_found);
  EXPECT_EQ(missing.message(), "no instance with id 'a'");
  Status finished = Commands::parse_send("a", error_reply_status("DURABLE_FINISHED"));
  EXPECT_EQ(finished.code(), Errc::failed_precondition);
  EXPECT_EQ(finished.message(), "instance 'a' has already finished");
}

TEST_F(CommandsTest, AStartReadsAsTheLoadOfItsRow) {
  const HistoryEvent started = execution_started(kT0, "Hello", "a", "in", "x1");
  auto loaded = Commands::parse_start(started, kT0, reply(":4\r\n"));
  ASSERT_TRUE(loaded) << loaded.status().to_string();
  EXPECT_EQ(loaded->row->version, 4u);
  EXPECT_EQ(loaded->row->status, OrchestrationStatus::pending);
  EXPECT_EQ(loaded->start->execution_id, "x1");
  auto exists = Commands::parse_start(started, kT0, error_reply_status("DURABLE_EXISTS"));
  EXPECT_EQ(exists.status().code(), Errc::already_exists);
  EXPECT_EQ(exists.status().message(), "an instance with id 'a' already exists and has not finished");
}

TEST_F(CommandsTest, MessagesAreOneTransactionWithOneWakePerPartition) {
  const std::vector<OutboundMessage> messages = {
      {"a!1", event_raised(kT0, "E", ""), {}},
      {"a!1", event_raised(kT0, "F", ""), {}},
      {"b!2", event_raised(kT0, "E", ""), "x9"},
  };
  const auto argv = commands_.messages_commands(messages);
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv.front(), Argv{"MULTI"});
  EXPECT_EQ(argv.back(), Argv{"EXEC"});
  size_t wakes = 0;
  for (const Argv& c : argv) {
    if (c.size() > 1 && (c[1] == commands_.keys().wake(1) || c[1] == commands_.keys().wake(2))) ++wakes;
  }
  EXPECT_EQ(wakes, 2u);
  EXPECT_TRUE(contains(argv[3], "x9"));
  EXPECT_TRUE(commands_.messages_commands({}).empty());
  // The transaction's reply: an error inside EXEC fails it, naming the error.
  std::vector<Result<ReplyPtr>> replies;
  replies.push_back(reply("+OK\r\n"));
  replies.push_back(reply(array({"-WRONGTYPE Operation against a key\r\n"})));
  Status s = Commands::parse_messages(replies);
  EXPECT_EQ(s.code(), Errc::internal);
  EXPECT_NE(s.message().find("WRONGTYPE"), std::string::npos) << s.message();
}

// -- the owner's commits ------------------------------------------------------------

TEST_F(CommandsTest, AFinishedEpisodeLeavesTheActiveSetAndAnnouncesItself) {
  EpisodeWrite w;
  w.node = "n1";
  w.epoch = 2;
  w.expected_version = 1;
  w.row = row_of("a!3", OrchestrationStatus::completed);
  w.inactive = true;
  w.announce_done = true;
  w.messages.push_back({"b!1", event_raised(kT0, "E", ""), {}});
  const Argv argv = commands_.episode_commit(w).argv();
  EXPECT_EQ(argv[0], "FCALL");
  EXPECT_TRUE(contains(argv, commands_.keys().done(3)));
  EXPECT_TRUE(contains(argv, commands_.keys().active(3)));
  EXPECT_TRUE(contains(argv, commands_.keys().inbox(1, "b!1")));  // the message
  EXPECT_TRUE(contains(argv, commands_.keys().wake(1)));          // and its wake notice
  EXPECT_FALSE(contains(argv, commands_.keys().history(3, "a!3")));  // not a new execution

  EpisodeWrite running = w;
  running.row.status = OrchestrationStatus::running;
  running.inactive = running.announce_done = false;
  running.messages.clear();
  running.new_execution = true;
  const Argv first = commands_.episode_commit(running).argv();
  EXPECT_FALSE(contains(first, commands_.keys().done(3)));
  EXPECT_TRUE(contains(first, commands_.keys().history(3, "a!3")));  // its history begun anew
  EXPECT_FALSE(contains(first, commands_.keys().index(3)));  // a key only builds before the listing index wrote
}

}  // namespace
}  // namespace durable::store
