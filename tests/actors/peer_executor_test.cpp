// An episode's result as it crosses nodes (actors/peer_executor.hpp): every
// field comes back as it went, and bytes that do not decode are refused.
#include "actors/peer_executor.hpp"

#include <gtest/gtest.h>

namespace durable::actors {
namespace {

using namespace orchestration;

const TimePoint kT0{std::chrono::milliseconds(1'700'000'000'000)};

TEST(PeerEpisodeAnswer, AResultComesBackAsItWent) {
  EpisodeResult r;
  r.new_history = {events::orchestrator_started(kT0), events::event_raised(kT0, "E", "in"),
                   events::orchestrator_completed(kT0)};
  r.first_action = 1;
  r.action_count = 1;
  r.status = OrchestrationStatus::failed;
  r.output = "out";
  r.custom_status = "cs";
  r.failure = FailureDetails{"Boom", "it broke", "stack"};
  r.continue_as_new = ContinueAsNewRequest{"next", {events::event_raised(kT0, "Carried", "x")}, "3.1"};
  RemoteEpisodeAnswer wire = to_remote(7, r);
  EXPECT_EQ(wire.seq, 7u);
  auto back = from_remote(wire);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_EQ(back->new_history.size(), 3u);
  EXPECT_EQ(back->new_history[1].name, "E");
  EXPECT_EQ(back->actions().size(), 1u);
  EXPECT_EQ(back->status, OrchestrationStatus::failed);
  EXPECT_EQ(back->output, "out");
  EXPECT_EQ(back->custom_status, "cs");
  EXPECT_EQ(back->failure, r.failure);
  ASSERT_TRUE(back->continue_as_new);
  EXPECT_EQ(back->continue_as_new->input, "next");
  ASSERT_EQ(back->continue_as_new->carried_events.size(), 1u);
  EXPECT_EQ(back->continue_as_new->carried_events[0].name, "Carried");
  EXPECT_EQ(back->continue_as_new->version, "3.1");
}

TEST(PeerEpisodeAnswer, AnAgreementToRewindComesBack) {
  EpisodeResult r;
  r.rewound = true;
  RemoteEpisodeAnswer wire = to_remote(2, r);
  auto back = from_remote(wire);
  ASSERT_TRUE(back) << back.status().to_string();
  EXPECT_TRUE(back->rewound);
  RemoteEpisodeAnswer plain = to_remote(3, EpisodeResult{});
  EXPECT_FALSE(from_remote(plain)->rewound);
}

TEST(PeerEpisodeAnswer, BytesThatDoNotDecodeOrActionsPastTheHistoryAreRefused) {
  RemoteEpisodeAnswer garbage;
  garbage.new_history = "not msgpack";
  EXPECT_EQ(from_remote(garbage).status().code(), Errc::corruption);

  EpisodeResult r;
  r.new_history = {events::orchestrator_started(kT0)};
  RemoteEpisodeAnswer wire = to_remote(1, r);
  wire.action_count = 5;
  EXPECT_EQ(from_remote(wire).status().code(), Errc::corruption);
}

}  // namespace
}  // namespace durable::actors
