// Tests of orchestration/codec: round trips, the golden bytes of
// docs/format.md, and every way a stored batch can be damaged.

#include "orchestration/codec.hpp"

#include <gtest/gtest.h>
#include <msgpack.hpp>

#include <cctype>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace durable::orchestration {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

TimePoint ms(int64_t v) { return TimePoint(std::chrono::milliseconds(v)); }

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  }
  return out;
}

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(DURABLE_SOURCE_DIR) + "/" + relative);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// An event of `type` with every field that type uses (docs/format.md, "Event
/// types") set to a distinct, non-default value, and every other field left at
/// its default. Written out independently of the codec's own table, so a field
/// the codec forgets fails the round trip.
HistoryEvent full_event(EventType type) {
  HistoryEvent e;
  e.type = type;
  e.event_id = 100 + static_cast<int32_t>(type);
  e.timestamp = ms(1700000000000 + static_cast<int64_t>(type));
  const Payload input = "\x92\x01\xa1x";       // [1, "x"]
  const Payload result = "\x81\xa2ok\xc3";     // {"ok": true}
  const FailureDetails failure{"std::runtime_error", "boom", "at step 3"};
  using enum EventType;
  switch (type) {
    case execution_started:
      e.name = "Greet";
      e.instance_id = "order-1";
      e.execution_id = "exec-1";
      e.input = input;
      e.parent = ParentInstance{"Parent", "parent-1", "parent-exec-1", 5};
      break;
    case execution_completed:
      e.status = OrchestrationStatus::failed;
      e.result = result;
      e.failure = failure;
      break;
    case execution_terminated:
    case execution_suspended:
    case execution_resumed: e.input = "\xa6reason"; break;
    case orchestrator_started:
    case orchestrator_completed: break;
    case task_scheduled:
    case event_raised:
      e.name = "SayHello";
      e.input = input;
      break;
    case task_completed:
    case sub_orchestration_instance_completed:
      e.task_scheduled_id = 41;
      e.result = result;
      break;
    case task_failed:
    case sub_orchestration_instance_failed:
      e.task_scheduled_id = 41;
      e.failure = failure;
      break;
    case timer_created: e.fire_at = ms(1700000060000); break;
    case timer_fired:
      e.task_scheduled_id = 41;
      e.fire_at = ms(1700000060000);
      break;
    case event_sent:
      e.instance_id = "other-1";
      e.name = "Approval";
      e.input = input;
      break;
    case sub_orchestration_instance_created:
      e.name = "Child";
      e.instance_id = "child-1";
      e.input = input;
      break;
    case continue_as_new: e.result = input; break;
    case entity_operation_called:
    case entity_operation_signaled:
      e.instance_id = "@counter@a";
      e.name = "add";
      e.input = input;
      e.request_id = "req-1";
      if (type == entity_operation_signaled) e.fire_at = ms(1700000060000);
      break;
    case entity_operation_completed:
      e.request_id = "req-1";
      e.result = result;
      break;
    case entity_operation_failed:
      e.request_id = "req-1";
      e.failure = failure;
      break;
    case entity_lock_requested:
      e.request_id = "cs-1";
      e.lock_set = {"@a@1", "@b@2"};
      break;
    case entity_lock_granted: e.request_id = "cs-1"; break;
    case execution_rewound:
      e.input = "\xa6reason";
      e.instance_id = "parent-1";
      e.execution_id = "parent-exec-1";
      break;
    case entity_unlock_sent:
      e.instance_id = "@a@1";
      e.request_id = "cs-1";
      break;
  }
  return e;
}

std::vector<HistoryEvent> one_of_each_type() {
  std::vector<HistoryEvent> all;
  for (uint8_t t = 1; t <= kMaxEventType; ++t) all.push_back(full_event(static_cast<EventType>(t)));
  return all;
}

/// The worked example of docs/format.md: the first episode of an instance that
/// schedules one activity.
std::vector<HistoryEvent> worked_example() {
  const TimePoint at = ms(1700000000000);
  HistoryEvent started;
  started.type = EventType::orchestrator_started;
  started.timestamp = at;
  HistoryEvent scheduled;
  scheduled.type = EventType::task_scheduled;
  scheduled.event_id = 0;
  scheduled.timestamp = at;
  scheduled.name = "SayHello";
  scheduled.input = "\xa5Tokyo";
  HistoryEvent completed;
  completed.type = EventType::orchestrator_completed;
  completed.timestamp = at;
  return {started, events::execution_started(at, "Greet", "order-1", "\xa5Tokyo", "e1"), scheduled,
          completed};
}

/// The bytes of worked_example(), as printed in docs/format.md. If this test
/// fails the format changed: old stored batches would no longer decode the
/// same. Change it only with a new format version and a golden file for the
/// old one.
constexpr std::string_view kWorkedExampleHex =
    "9201949306ffcf0000018bcfe568009801ffcf0000018bcfe56800a54772656574a76f72"
    "6465722d31a26531c406a5546f6b796fc0950800cf0000018bcfe56800a853617948656c"
    "6c6fc406a5546f6b796f9307ffcf0000018bcfe56800";

/// Packs a batch [version, [<events written by fill>]] by hand, to build
/// inputs the encoder would never produce.
template <class Fill>
std::string raw_batch(uint32_t event_count, Fill fill, uint64_t version = kFormatVersion) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_array(2);
  pk.pack_uint64(version);
  pk.pack_array(event_count);
  fill(pk);
  return {buf.data(), buf.size()};
}

/// Fixture with the verbs the tests use.
class Codec : public ::testing::Test {
 protected:
  /// Decodes `bytes` and expects corruption whose message contains `phrase`.
  static void ExpectCorruption(std::string_view bytes, std::string_view phrase) {
    auto r = decode_events(bytes);
    ASSERT_FALSE(r.is_ok()) << "decoded " << r->size() << " events from " << to_hex(bytes);
    EXPECT_EQ(r.status().code(), Errc::corruption);
    EXPECT_NE(r.status().message().find(phrase), std::string::npos)
        << "message: " << r.status().message() << "\nexpected to contain: " << phrase;
  }
  /// Decodes `bytes`: either OK or corruption, anything else (or a crash) fails.
  static void ExpectOkOrCorruption(std::string_view bytes) {
    auto r = decode_events(bytes);
    if (!r.is_ok()) {
      ASSERT_EQ(r.status().code(), Errc::corruption) << r.status().message();
    }
  }
  static std::vector<HistoryEvent> RoundTrip(const std::vector<HistoryEvent>& events) {
    auto r = decode_events(encode_events(events));
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? *r : std::vector<HistoryEvent>{};
  }
};

// ---- round trips -------------------------------------------------------------

TEST_F(Codec, EveryEventType_RoundTripsWithAllFields) {
  for (const HistoryEvent& e : one_of_each_type()) {
    SCOPED_TRACE(event_type_name(e.type));
    auto r = decode_event(encode_event(e));
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(*r, e);
  }
  EXPECT_EQ(RoundTrip(one_of_each_type()), one_of_each_type());
}

TEST_F(Codec, OptionalAndEmptyFields_RoundTrip) {
  auto started = events::execution_started(ms(1), "", "", "", "", std::nullopt);
  HistoryEvent completed = full_event(EventType::execution_completed);
  completed.status = OrchestrationStatus::completed;
  completed.failure.reset();
  completed.result.clear();
  HistoryEvent lock = full_event(EventType::entity_lock_requested);
  lock.lock_set.clear();
  HistoryEvent nil_payload;  // a payload of the msgpack value nil is not "no value"
  nil_payload.type = EventType::event_raised;
  nil_payload.input = "\xc0";
  const std::vector<HistoryEvent> events{started, completed, lock, nil_payload};
  EXPECT_EQ(RoundTrip(events), events);
}

TEST_F(Codec, ScheduledStartAndVersion_RoundTrip_AndAreWrittenOnlyWhenSet) {
  const HistoryEvent plain = full_event(EventType::execution_started);
  HistoryEvent both = plain;
  both.fire_at = ms(1700000090000);
  both.version = "1.2.3";
  HistoryEvent only_version = plain;
  only_version.version = "2";
  HistoryEvent only_time = plain;
  only_time.fire_at = ms(1700000090000);
  const std::vector<HistoryEvent> events{plain, both, only_version, only_time};
  EXPECT_EQ(RoundTrip(events), events);
  EXPECT_LT(encode_event(plain).size(), encode_event(only_time).size());
  EXPECT_LT(encode_event(only_time).size(), encode_event(both).size());
}

TEST_F(Codec, BoundaryValues_RoundTrip) {
  std::vector<HistoryEvent> events;
  for (int32_t id : {std::numeric_limits<int32_t>::min(), -1, 0, 127, 128,
                     std::numeric_limits<int32_t>::max()}) {
    HistoryEvent e = full_event(EventType::task_completed);
    e.event_id = id;
    e.task_scheduled_id = id;
    events.push_back(e);
  }
  for (int64_t t : {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
                    std::numeric_limits<int64_t>::max()}) {
    HistoryEvent e = full_event(EventType::timer_fired);
    e.timestamp = ms(t);
    e.fire_at = ms(t);
    events.push_back(e);
  }
  // Around the size classes of str (fixstr 31, str8 255, str16 65535) and bin.
  for (std::size_t n : {31u, 32u, 255u, 256u, 65535u, 65536u}) {
    HistoryEvent e = full_event(EventType::task_scheduled);
    e.name.assign(n, 'n');
    e.input.assign(n, '\x01');
    events.push_back(e);
  }
  for (uint8_t s = 0; s <= kMaxOrchestrationStatus; ++s) {
    HistoryEvent e = full_event(EventType::execution_completed);
    e.status = static_cast<OrchestrationStatus>(s);
    events.push_back(e);
  }
  EXPECT_EQ(RoundTrip(events), events);
}

TEST_F(Codec, FieldsTheTypeDoesNotUse_AreNotEncoded) {
  HistoryEvent everything = full_event(EventType::execution_started);
  everything.type = EventType::task_scheduled;
  everything.result = "\x01";
  everything.task_scheduled_id = 9;
  everything.fire_at = ms(5);
  everything.failure = FailureDetails{"a", "b", "c"};
  everything.status = OrchestrationStatus::failed;
  everything.request_id = "r";
  everything.lock_set = {"x"};
  HistoryEvent expected;
  expected.type = EventType::task_scheduled;
  expected.event_id = everything.event_id;
  expected.timestamp = everything.timestamp;
  expected.name = everything.name;
  expected.input = everything.input;
  EXPECT_EQ(encode_event(everything), encode_event(expected));
  auto r = decode_event(encode_event(everything));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(*r, expected);
}

TEST_F(Codec, EmptyBatch_RoundTrips) {
  EXPECT_EQ(to_hex(encode_events({})), "920190");  // [1, []]
  EXPECT_TRUE(RoundTrip({}).empty());
}

// ---- golden bytes: a failure here means the stored format changed ------------

TEST_F(Codec, WorkedExample_MatchesGoldenBytes) {
  EXPECT_EQ(to_hex(encode_events(worked_example())), kWorkedExampleHex);
  auto r = decode_events(from_hex(kWorkedExampleHex));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(*r, worked_example());
}

TEST_F(Codec, WorkedExampleInDocs_MatchesGoldenBytes) {
  const std::string doc = read_source_file("docs/format.md");
  const std::string begin = "<!-- golden:batch_v1 begin -->", end = "<!-- golden:batch_v1 end -->";
  const auto b = doc.find(begin), e = doc.find(end);
  ASSERT_NE(b, std::string::npos) << "docs/format.md lost its golden block";
  ASSERT_NE(e, std::string::npos);
  std::string hex;
  std::istringstream block(doc.substr(b + begin.size(), e - b - begin.size()));
  for (std::string line; std::getline(block, line);) {
    if (line.starts_with("```")) continue;
    for (char c : line) {
      if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
    }
  }
  EXPECT_EQ(hex, kWorkedExampleHex);
}

// tests/orchestration/golden/events_v1.txt holds one line "<TypeName> <hex>"
// per event type, as written by format version 1. Old files stay forever: each
// must still decode to the same events after any change.
TEST_F(Codec, EveryEventType_MatchesGoldenFileV1) {
  std::istringstream file(read_source_file("tests/orchestration/golden/events_v1.txt"));
  std::map<std::string, std::string> golden;
  for (std::string line; std::getline(file, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    golden[line.substr(0, space)] = line.substr(space + 1);
  }
  EXPECT_EQ(golden.size(), std::size_t{kMaxEventType}) << "one line per event type";
  for (const HistoryEvent& e : one_of_each_type()) {
    const std::string name(event_type_name(e.type));
    SCOPED_TRACE(name);
    EXPECT_EQ(to_hex(encode_event(e)), golden[name]) << "new line: " << name << " "
                                                     << to_hex(encode_event(e));
    auto r = decode_event(from_hex(golden[name]));
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    if (r.is_ok()) {
      EXPECT_EQ(*r, e);
    }
  }
}

// ---- damaged input: every error path returns corruption, never crashes -------

TEST_F(Codec, TruncatedBatch_ReturnsCorruptionAtEveryLength) {
  const std::string batch = encode_events(one_of_each_type());
  ExpectCorruption("", "batch: empty input");
  for (std::size_t n = 1; n < batch.size(); ++n) {
    SCOPED_TRACE("length " + std::to_string(n));
    auto r = decode_events(std::string_view(batch).substr(0, n));
    ASSERT_FALSE(r.is_ok());
    ASSERT_EQ(r.status().code(), Errc::corruption);
    // Cut inside a value, or before the elements an array header declared
    // (the size guard fires first when they cannot fit in the input).
    const std::string& m = r.status().message();
    EXPECT_TRUE(m.find("batch: truncated") == 0 || m.find("batch: a declared size exceeds") == 0)
        << m;
  }
}

TEST_F(Codec, TruncatedEvent_ReturnsCorruptionAtEveryLength) {
  for (const HistoryEvent& e : one_of_each_type()) {
    const std::string bytes = encode_event(e);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto r = decode_event(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(r.is_ok()) << event_type_name(e.type) << " length " << n;
      EXPECT_EQ(r.status().code(), Errc::corruption);
    }
  }
}

TEST_F(Codec, TrailingBytes_ReturnCorruption) {
  ExpectCorruption(encode_events(worked_example()) + '\x00', "1 trailing bytes");
  ExpectCorruption(encode_events(worked_example()) + encode_events({}), "3 trailing bytes");
  auto r = decode_event(encode_event(full_event(EventType::task_scheduled)) + "\xc0");
  EXPECT_EQ(r.status().code(), Errc::corruption);
}

TEST_F(Codec, RandomBytes_DecodeOrReturnCorruption) {
  std::mt19937 rng(20240601);  // fixed seed: failures reproduce
  std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    // Half the inputs start like a batch, so the walk gets past the header.
    if (i % 2 == 0) bytes = "\x92\x01\x91";
    for (int n = length(rng); n > 0; --n) bytes += static_cast<char>(byte(rng));
    ExpectOkOrCorruption(bytes);
    if (HasFatalFailure()) return;
  }
}

TEST_F(Codec, SingleByteMutations_DecodeOrReturnCorruption) {
  // Every value at every position of the small example; a few telling values
  // (size markers, nil, type bytes) at every position of the large batch.
  const std::string small = encode_events(worked_example());
  for (std::size_t pos = 0; pos < small.size(); ++pos) {
    for (int v = 0; v < 256; ++v) {
      std::string mutated = small;
      mutated[pos] = static_cast<char>(v);
      ExpectOkOrCorruption(mutated);
      if (HasFatalFailure()) return;
    }
  }
  const std::string large = encode_events(one_of_each_type());
  for (std::size_t pos = 0; pos < large.size(); ++pos) {
    for (unsigned char v : {0x00, 0x01, 0x7f, 0x90, 0x9f, 0xc0, 0xc1, 0xc4, 0xc6, 0xcf, 0xd9,
                            0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff}) {
      std::string mutated = large;
      mutated[pos] = static_cast<char>(v);
      ExpectOkOrCorruption(mutated);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_F(Codec, HugeDeclaredSizes_ReturnCorruptionWithoutAllocating) {
  ExpectCorruption("\xdd\xff\xff\xff\xff", "exceeds the input");              // array32
  ExpectCorruption("\x92\x01\xdd\x7f\xff\xff\xff\x90", "exceeds the input");  // 2^31 events
  ExpectCorruption("\xdf\xff\xff\xff\xff", "exceeds the input");              // map32
  // A str or bin body is read only once all its bytes are there: no allocation.
  ExpectCorruption("\xdb\xff\xff\xff\xff", "truncated");  // str32
  ExpectCorruption("\xc6\xff\xff\xff\xff", "truncated");  // bin32
}

TEST_F(Codec, DeepNesting_ReturnsCorruption) {
  ExpectCorruption(std::string(100000, '\x91') + '\x01', "nested deeper than 32 levels");
}

TEST_F(Codec, UnknownEventType_ReturnsCorruptionNamingType) {
  std::string batch = encode_events(worked_example());
  const std::string event = encode_event(worked_example()[2]);
  const auto at = batch.find(event);
  ASSERT_NE(at, std::string::npos);
  batch[at + 1] = 99;  // the type, a positive fixint right after the array header
  ExpectCorruption(batch, "event 2: unknown event type 99");
  batch[at + 1] = 0;
  ExpectCorruption(batch, "event 2: unknown event type 0");
  batch[at + 1] = static_cast<char>(0xff);  // -1
  ExpectCorruption(batch, "event 2: unknown event type -1");
}

TEST_F(Codec, FutureFormatVersion_ReturnsCorruption) {
  std::string batch = encode_events(worked_example());
  batch[1] = kFormatVersion + 1;
  ExpectCorruption(batch, "format version 2 is newer than this reader's (1)");
  batch[1] = 0;
  ExpectCorruption(batch, "unknown format version 0");
  ExpectCorruption(raw_batch(0, [](Packer&) {}, uint64_t{1} << 40), "is newer than");
}

TEST_F(Codec, WrongFieldType_ReturnsCorruptionNamingField) {
  // [type, event_id, timestamp_ms] of a TaskScheduled (8), then `rest`.
  auto task_scheduled = [](uint32_t fields) {
    return [fields](Packer& pk) {
      pk.pack_array(fields);
      pk.pack(8);
      pk.pack(0);
      pk.pack(1);
    };
  };
  struct Row {
    std::string name;
    std::string bytes;
    std::string phrase;
  };
  const std::vector<Row> rows = {
      {"name is an int", raw_batch(1, [&](Packer& pk) { task_scheduled(5)(pk); pk.pack(42); pk.pack_nil(); }),
       "event 0 (TaskScheduled): expected str for name, got int"},
      {"input is a str", raw_batch(1, [&](Packer& pk) { task_scheduled(5)(pk); pk.pack("f"); pk.pack("x"); }),
       "event 0 (TaskScheduled): expected bin or nil for input, got str"},
      {"too few fields", raw_batch(1, [&](Packer& pk) { task_scheduled(4)(pk); pk.pack("f"); }),
       "event 0 (TaskScheduled): expected at least 5 fields, got 4"},
      {"event_id too large", raw_batch(1, [](Packer& pk) {
         pk.pack_array(3); pk.pack(6); pk.pack(int64_t{1} << 31); pk.pack(0); }),
       "event 0 (OrchestratorStarted): int 2147483648 out of range for event_id"},
      {"timestamp is a float", raw_batch(1, [](Packer& pk) {
         pk.pack_array(3); pk.pack(6); pk.pack(0); pk.pack(1.5); }),
       "expected int for timestamp_ms, got float"},
      {"type is a str", raw_batch(1, [](Packer& pk) {
         pk.pack_array(3); pk.pack("TaskScheduled"); pk.pack(0); pk.pack(0); }),
       "event 0: expected int for type, got str"},
      {"event is a map", raw_batch(1, [](Packer& pk) { pk.pack_map(0); }),
       "event 0: expected array, got map"},
      {"status out of range", raw_batch(1, [](Packer& pk) {
         pk.pack_array(6); pk.pack(2); pk.pack(-1); pk.pack(0);
         pk.pack(kMaxOrchestrationStatus + 1); pk.pack_nil(); pk.pack_nil(); }),
       "event 0 (ExecutionCompleted): int 7 out of range for status"},
      {"failure.message is nil", raw_batch(1, [](Packer& pk) {
         pk.pack_array(5); pk.pack(10); pk.pack(-1); pk.pack(0); pk.pack(3);
         pk.pack_array(3); pk.pack("E"); pk.pack_nil(); pk.pack(""); }),
       "event 0 (TaskFailed): expected str for failure.message, got nil"},
      {"failure too short", raw_batch(1, [](Packer& pk) {
         pk.pack_array(5); pk.pack(10); pk.pack(-1); pk.pack(0); pk.pack(3);
         pk.pack_array(2); pk.pack("E"); pk.pack("m"); }),
       "expected at least 3 elements for failure, got 2"},
      {"parent id is a str", raw_batch(1, [](Packer& pk) {
         pk.pack_array(8); pk.pack(1); pk.pack(-1); pk.pack(0);
         pk.pack("n"); pk.pack("i"); pk.pack("x"); pk.pack_nil();
         pk.pack_array(4); pk.pack("p"); pk.pack("pi"); pk.pack("px"); pk.pack("5"); }),
       "event 0 (ExecutionStarted): expected int for parent.task_scheduled_id, got str"},
      {"lock_set item is an int", raw_batch(1, [](Packer& pk) {
         pk.pack_array(5); pk.pack(23); pk.pack(0); pk.pack(0); pk.pack("cs");
         pk.pack_array(2); pk.pack("@a@1"); pk.pack(7); }),
       "event 0 (EntityLockRequested): expected str for lock_set[1], got int"},
      {"second event bad", raw_batch(2, [](Packer& pk) {
         pk.pack_array(3); pk.pack(6); pk.pack(-1); pk.pack(0);
         pk.pack_array(4); pk.pack(11); pk.pack(0); pk.pack(0); pk.pack(true); }),
       "event 1 (TimerCreated): expected int for fire_at, got bool"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    ExpectCorruption(row.bytes, row.phrase);
  }
}

TEST_F(Codec, MalformedBatch_ReturnsCorruption) {
  ExpectCorruption("\x01", "batch: expected array, got int");
  ExpectCorruption("\x91\x01", "batch: expected at least 2 elements");
  ExpectCorruption("\x92\xa1\x31\x90", "batch: expected int for format_version, got str");
  ExpectCorruption("\x92\x01\xc0", "batch: expected array for events, got nil");
  ExpectCorruption("\xc1", "malformed msgpack");  // 0xc1 is never used
  auto r = decode_event("\x92\x01\x90");          // a batch is not an event
  EXPECT_EQ(r.status().code(), Errc::corruption);
}

// ---- growth ------------------------------------------------------------------

TEST_F(Codec, ExtraTrailingFields_AreIgnored) {
  // What a newer writer might produce: an extra field on an event, on a
  // failure and on a parent, and an extra element on the batch.
  const std::string batch = [] {
    msgpack::sbuffer buf;
    Packer pk(buf);
    pk.pack_array(3);
    pk.pack(1);
    pk.pack_array(2);
    pk.pack_array(5 + 1);  // TaskFailed + 1
    pk.pack(10); pk.pack(-1); pk.pack(7); pk.pack(3);
    pk.pack_array(3 + 1);
    pk.pack("E"); pk.pack("m"); pk.pack("s"); pk.pack("extra");
    pk.pack_map(1); pk.pack("future"); pk.pack_array(0);
    pk.pack_array(10 + 2);  // ExecutionStarted (with its optional fire_at and version) + 2
    pk.pack(1); pk.pack(-1); pk.pack(7);
    pk.pack("n"); pk.pack("i"); pk.pack("x"); pk.pack_nil();
    pk.pack_array(4 + 1);
    pk.pack("p"); pk.pack("pi"); pk.pack("px"); pk.pack(5); pk.pack(1.5);
    pk.pack(0); pk.pack("v1");
    pk.pack(true); pk.pack_nil();
    pk.pack("batch-level extra");
    return std::string(buf.data(), buf.size());
  }();
  auto r = decode_events(batch);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  const std::vector<HistoryEvent> expected = {
      events::task_failed(ms(7), 3, FailureDetails{"E", "m", "s"}),
      [] {
        auto e = events::execution_started(ms(7), "n", "i", "", "x", ParentInstance{"p", "pi", "px", 5});
        e.version = "v1";
        return e;
      }()};
  EXPECT_EQ(*r, expected);
}

}  // namespace
}  // namespace durable::orchestration
