// An entity batch and its result as they cross nodes
// (actors/peer_batches.hpp): every field comes back as it went, and bytes
// that do not decode are refused.
#include "actors/peer_batches.hpp"

#include <gtest/gtest.h>

namespace durable::actors {
namespace {

using namespace entities;
using orchestration::EntityId;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};

EntityMessage signal(std::string id, std::string op, std::optional<TimePoint> at = std::nullopt) {
  return {MessageKind::signal, std::move(id), std::move(op), "1", "", "", {}, at};
}

EntitySnapshot full_snapshot() {
  EntitySnapshot s;
  s.state = "42";
  s.recent_request_ids.remember("r1");
  s.recent_request_ids.remember("r2");
  s.lock = LockHolder{"section", "orch", "exec"};
  s.queued = {{MessageKind::call, "c1", "get", "", "orch2", "exec2", {}, std::nullopt},
              {MessageKind::lock, "sec2", "", "", "orch3", "exec3", {"@a@1", "@b@2"}, std::nullopt}};
  s.scheduled = {signal("s1", "add", kT0 + std::chrono::seconds(5))};
  return s;
}

TEST(PeerBatchWork, AWorkComesBackAsItWent) {
  BatchWork w{EntityId("jscounter", "k!1"), full_snapshot(), {signal("m1", "add"), signal("m2", "add")}, kT0};
  RemoteBatch wire = to_remote(w);
  EXPECT_EQ(wire.entity, "@jscounter@k!1");
  auto back = from_remote(wire);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->entity, w.entity);
  EXPECT_EQ(back->snapshot, w.snapshot);
  EXPECT_EQ(back->messages, w.messages);
  EXPECT_EQ(back->now, kT0);
}

TEST(PeerBatchWork, AnEmptySnapshotStaysEmpty) {
  BatchWork w{EntityId("c", "k"), {}, {}, kT0};
  RemoteBatch wire = to_remote(w);
  auto back = from_remote(wire);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_FALSE(back->snapshot.state);
  EXPECT_FALSE(back->snapshot.lock);
  EXPECT_TRUE(back->snapshot.empty());
  EXPECT_TRUE(back->messages.empty());
}

TEST(PeerBatchAnswer, AResultComesBackAsItWent) {
  BatchResult r;
  r.snapshot = full_snapshot();
  r.messages = {{"orch", "exec", to_event(signal("out1", "reply"))}, {"@b@2", "", to_event(signal("out2", "add"))}};
  r.results = {{"m1", "add", "43", std::nullopt},
               {"m2", "add", "", orchestration::FailureDetails{"Boom", "it broke", "stack"}}};
  r.scheduled = {signal("s2", "add", kT0 + std::chrono::seconds(9))};
  r.unscheduled = {signal("s0", "add", kT0)};
  r.remembered = {"m1", "m2"};
  r.duplicates = 3;
  RemoteBatchAnswer wire = to_remote(11, r);
  EXPECT_EQ(wire.seq, 11u);
  auto back = from_remote(wire);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->snapshot, r.snapshot);
  ASSERT_EQ(back->messages.size(), 2u);
  EXPECT_EQ(back->messages[0].target, "orch");
  EXPECT_EQ(back->messages[0].target_execution, "exec");
  EXPECT_EQ(from_event(back->messages[0].event), signal("out1", "reply"));
  EXPECT_EQ(back->messages[1].target, "@b@2");
  EXPECT_EQ(from_event(back->messages[1].event), signal("out2", "add"));
  ASSERT_EQ(back->results.size(), 2u);
  EXPECT_EQ(back->results[0].request_id, "m1");
  EXPECT_EQ(back->results[0].operation, "add");
  EXPECT_EQ(back->results[0].result, "43");
  EXPECT_FALSE(back->results[0].failure);
  EXPECT_EQ(back->results[1].failure, r.results[1].failure);
  EXPECT_EQ(back->scheduled, r.scheduled);
  EXPECT_EQ(back->unscheduled, r.unscheduled);
  EXPECT_EQ(back->remembered, r.remembered);
  EXPECT_EQ(back->duplicates, 3u);
}

TEST(PeerBatchAnswer, BytesThatDoNotDecodeOrMessagesWithoutTargetsAreRefused) {
  RemoteBatchAnswer garbage = to_remote(1, BatchResult{});
  garbage.events = "not msgpack";
  EXPECT_EQ(from_remote(garbage).status().code(), Errc::corruption);

  BatchResult r;
  r.messages = {{"orch", "", to_event(signal("x", "y"))}};
  RemoteBatchAnswer wire = to_remote(1, r);
  wire.targets.clear();
  EXPECT_EQ(from_remote(wire).status().code(), Errc::corruption);

  RemoteBatch batch = to_remote(BatchWork{EntityId("c", "k"), {}, {}, kT0});
  batch.snapshot.queued = "not msgpack";
  EXPECT_EQ(from_remote(batch).status().code(), Errc::corruption);
  batch = to_remote(BatchWork{EntityId("c", "k"), {}, {}, kT0});
  batch.entity = "no entity";
  EXPECT_EQ(from_remote(batch).status().code(), Errc::corruption);
}

}  // namespace
}  // namespace durable::actors
