// The skeleton the instance and entity actors share, on a probe actor: the
// one eviction rule (finished, idle, crowded; never while busy or with
// something in flight).
#include "actors/actor_core.hpp"

#include <gtest/gtest.h>

namespace durable::actors {
namespace {

using namespace std::chrono_literals;
using try_evict_atom = caf::atom_constant<caf::atom("tryevict")>;
using finish_atom = caf::atom_constant<caf::atom("finish")>;
using busy_atom = caf::atom_constant<caf::atom("busy")>;
using ran_atom = caf::atom_constant<caf::atom("ran")>;

struct Probe : ActorCore {
  static inline const char* name = "durable.test.probe";
  bool is_finished = false;
  bool is_busy = false;
  bool finished() const override { return is_finished; }
  bool busy() const override { return is_busy; }
};

caf::behavior probe(caf::stateful_actor<Probe>* self, Runtime* rt, caf::actor owner) {
  self->state.place(self, rt, "probe", 0, 1, std::move(owner), "test");
  self->state.phase = ActorCore::Phase::ready;
  return {
      [self](try_evict_atom) { self->state.maybe_evict(false); },
      [self](finish_atom) { self->state.is_finished = true; },
      [self](busy_atom, bool busy) { self->state.is_busy = busy; },
      [self](ran_atom) { ++self->state.runs; },
      [self](idle_check_atom, uint64_t runs_then) { self->state.on_idle_check(runs_then); },
  };
}

class ActorCoreTest : public ::testing::Test {
 protected:
  ActorCoreTest() : system_(config_), owner_(system_) {}

  caf::actor spawn_probe() { return system_.spawn(probe, &runtime_, caf::actor{owner_}); }
  // Whether the partition (owner_) is asked to evict the probe within `wait`.
  bool asked_to_evict(std::chrono::milliseconds wait) {
    bool asked = false;
    owner_->receive([&](idle_atom, const std::string& id) { asked = id == "probe"; },
                    caf::after(wait) >> [] {});
    return asked;
  }

  orchestration::Registry registry_;
  entities::EntityRegistry entities_;
  ActivityPool pool_{registry_, 1};
  Router router_{1};
  RuntimeOptions options_ = [] {
    RuntimeOptions o;
    o.idle_eviction = 100ms;
    o.max_live_instances = 10;
    return o;
  }();
  Runtime runtime_{registry_, entities_, options_, 1, {}, pool_, router_, {}, {}, {}};
  caf::actor_system_config config_;
  caf::actor_system system_;
  caf::scoped_actor owner_;
};

TEST_F(ActorCoreTest, AFinishedActorAsksToLeaveAtOnce_UnlessBusy) {
  auto a = spawn_probe();
  owner_->send(a, finish_atom::value);
  owner_->send(a, busy_atom::value, true);
  owner_->send(a, try_evict_atom::value);
  EXPECT_FALSE(asked_to_evict(50ms));  // busy: it stays, however finished
  owner_->send(a, busy_atom::value, false);
  owner_->send(a, try_evict_atom::value);
  EXPECT_TRUE(asked_to_evict(5s));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(ActorCoreTest, AnIdleActorLeavesAfterTheIdleTime) {
  auto a = spawn_probe();
  owner_->send(a, try_evict_atom::value);
  EXPECT_TRUE(asked_to_evict(5s));  // the idle check 100 ms later found nothing run
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(ActorCoreTest, AnActorThatRanSinceTheCheckWasArmedStaysForAnotherRound) {
  auto a = spawn_probe();
  owner_->send(a, try_evict_atom::value);  // arms the check at runs = 0
  owner_->send(a, ran_atom::value);
  owner_->send(a, busy_atom::value, true);  // and then stays busy
  EXPECT_FALSE(asked_to_evict(400ms));      // several idle periods: never while busy
  owner_->send(a, busy_atom::value, false);
  owner_->send(a, try_evict_atom::value);
  EXPECT_TRUE(asked_to_evict(5s));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

TEST_F(ActorCoreTest, CrowdedMemoryEvictsAtOnce_InstancesAndEntitiesTogether) {
  runtime_.counters.live_instances = 6;
  runtime_.counters.live_entities = 5;  // 11 live, the limit is 10
  runtime_.options.idle_eviction = 1h;  // so only crowding can evict it
  auto a = spawn_probe();
  owner_->send(a, try_evict_atom::value);
  EXPECT_TRUE(asked_to_evict(5s));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace durable::actors
