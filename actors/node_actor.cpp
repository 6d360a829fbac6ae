#include "actors/node_actor.hpp"

#include <cctype>
#include <set>
#include <unordered_map>

#include "actors/peer_batches.hpp"
#include "actors/peer_executor.hpp"
#include "base/log.hpp"

namespace durable::actors {
namespace {

using orchestration::ActivityOutcome;
using orchestration::FailureDetails;
using orchestration::Payload;
using SteadyTime = std::chrono::steady_clock::time_point;

struct Peer {
  std::string id;
  caf::actor actor;
  int64_t workers = 1;
  int64_t backlog = 0;    // as it last reported
  int64_t in_flight = 0;  // ours, not answered yet
  uint64_t protocol_workers = 0;  // Durable Task SDK workers connected to it
  orchestration::NodeCode code;   // what it runs in C++

  // Activities waiting for a worker there: at least ours, at most what it
  // said, which may be stale.
  int64_t waiting() const { return std::max(backlog, in_flight) - workers; }
};

/// An activity sent to a peer: enough to run it again here.
struct InFlight {
  caf::actor_addr peer;
  caf::actor reply_to;
  std::string instance_id;
  std::string execution_id;
  Dispatch::Job job;
  SteadyTime sent;
  bool foreign = false;  // for the peer's SDK workers: if lost, placed again as such
};

// Submits jobs to this node's pool; each result goes to `reply_to`.
void run_here(Runtime& rt, const caf::actor& reply_to, const std::string& instance, const std::string& execution,
              std::vector<Dispatch::Job> jobs) {
  if (jobs.empty()) return;
  std::vector<ActivityJob> work;
  work.reserve(jobs.size());
  for (Dispatch::Job& j : jobs) {
    work.push_back({{instance, std::move(j.name), j.task_id},
                    std::move(j.input),
                    [reply_to, instance, execution, task = j.task_id](ActivityOutcome outcome) {
                      caf::anon_send(reply_to, ActivityResult{instance, execution, task, std::move(outcome)});
                    }});
  }
  rt.pool.submit(std::move(work));
}

// Hands jobs to the foreign executor (the SDK workers connected here); each
// result goes to `reply_to`.
void run_on_workers(Runtime& rt, const caf::actor& reply_to, const std::string& instance, const std::string& execution,
                    std::vector<Dispatch::Job> jobs) {
  if (jobs.empty()) return;
  std::vector<orchestration::ActivityWork> work;
  work.reserve(jobs.size());
  for (Dispatch::Job& j : jobs) {
    work.push_back({instance, execution, std::move(j.name), j.task_id, std::move(j.input),
                    [reply_to, instance, execution, task = j.task_id](ActivityOutcome outcome) {
                      caf::anon_send(reply_to, ActivityResult{instance, execution, task, std::move(outcome)});
                    }});
  }
  rt.options.foreign_activities->run(std::move(work));
}

// Takes the jobs whose activity is not registered in C++ here out of `d`.
// With nothing to choose from they go at once: without SDK workers or
// peers, to the pool (which fails them: not registered); with SDK workers
// here that take the name and no peer, to those. Otherwise to the node
// actor, which knows what the peers run (NodeState::place_unregistered).
void take_unregistered(Runtime& rt, Dispatch& d) {
  Dispatch away{d.reply_to, d.instance_id, d.execution_id, {}};
  std::erase_if(d.jobs, [&](Dispatch::Job& j) {
    if (rt.registry.find_activity(j.name)) return false;
    away.jobs.push_back(std::move(j));
    return true;
  });
  if (away.jobs.empty()) return;
  const auto& foreign = rt.options.foreign_activities;
  if (rt.counters.peers == 0 && !foreign) {
    return run_here(rt, away.reply_to, away.instance_id, away.execution_id, std::move(away.jobs));
  }
  const auto ready = [&](const Dispatch::Job& j) { return foreign->ready_for(j.name); };
  if (rt.counters.peers == 0 && std::all_of(away.jobs.begin(), away.jobs.end(), ready)) {
    return run_on_workers(rt, away.reply_to, away.instance_id, away.execution_id, std::move(away.jobs));
  }
  caf::anon_send(rt.node_actor, foreign_atom::value, std::move(away));
}

// Activities that wait for a node that registered their name.
struct Parked {
  Dispatch d;
  SteadyTime since;
};

struct NodeState {
  static inline const char* name = "durable.node";

  caf::stateful_actor<NodeState>* self = nullptr;
  Runtime* rt = nullptr;
  std::vector<Peer> peers;
  std::unordered_map<uint64_t, InFlight> in_flight;
  uint64_t next_seq = 1;
  std::optional<PeerEpisodes> episodes;  // set with rt
  std::optional<PeerBatches> batches;    // set with rt
  bool ticking = false;
  std::vector<Parked> parked;              // activities no live node runs yet
  std::set<std::string> warned_activities;  // names logged as waiting (lower case)
  bool retrying = false;                   // a retry_parked_atom is on its way

  caf::actor me() const { return caf::actor_cast<caf::actor>(self); }

  Peer* peer(const caf::actor_addr& addr) {
    for (Peer& p : peers) {
      if (p.actor.address() == addr) return &p;
    }
    return nullptr;
  }

  // Idle workers here first (no serialising, no network). Past that, an
  // activity goes to the peer with the fewest activities waiting when that
  // saves more than a round trip: the difference in queue length times how
  // long the activity takes here. (One not seen yet goes on any difference,
  // so that no-op activities stay home and slow ones spread.)
  void place(Dispatch& d) {
    const int64_t workers = std::max<int64_t>(1, static_cast<int64_t>(rt->pool.workers()));
    int64_t local = static_cast<int64_t>(rt->pool.backlog()) - workers;
    std::vector<Dispatch::Job> here;
    std::vector<RemoteWork> remote(peers.size());
    std::string mean_name;
    std::optional<std::chrono::microseconds> mean;
    for (Dispatch::Job& job : d.jobs) {
      Peer* best = nullptr;
      if (local >= 0) {
        for (Peer& p : peers) {
          if (!p.code.runs_activity(job.name)) continue;
          if (!best || p.waiting() < best->waiting()) best = &p;
        }
        if (best && job.name != mean_name) {
          mean_name = job.name;
          mean = rt->pool.mean_duration(job.name);
        }
        if (best && !worth_sending(local - best->waiting(), mean, workers)) best = nullptr;
      }
      if (!best) {
        ++local;
        here.push_back(std::move(job));
        continue;
      }
      const uint64_t seq = next_seq++;
      ++best->in_flight;
      remote[static_cast<size_t>(best - peers.data())].activities.push_back(
          {seq, d.instance_id, job.name, job.task_id, job.input});
      in_flight.emplace(seq, InFlight{best->actor.address(), d.reply_to, d.instance_id, d.execution_id,
                                      std::move(job), std::chrono::steady_clock::now()});
    }
    for (size_t i = 0; i < remote.size(); ++i) {
      if (remote[i].activities.empty()) continue;
      rt->counters.activities_sent += remote[i].activities.size();
      remote[i].origin = me();
      self->send(peers[i].actor, std::move(remote[i]));
    }
    run_here(*rt, d.reply_to, d.instance_id, d.execution_id, std::move(here));
    schedule_tick();
  }

  // Activities not registered in C++ here, each: to the live peer that
  // registered it with the fewest of ours in flight; else to the SDK
  // workers here when they take it, or to a peer with SDK workers; else,
  // with neither SDK workers served here nor any peer, to the pool (which
  // fails it: not registered); else it waits here for a node that runs it
  // (retried as peers come and on a tick; dropped after the activity
  // timeout, when the instance has failed the task itself). `since`: when
  // the jobs began to wait.
  void place_unregistered(Dispatch& d, SteadyTime since = std::chrono::steady_clock::now()) {
    const auto& foreign = rt->options.foreign_activities;
    std::vector<RemoteWork> remote(peers.size());
    std::vector<Dispatch::Job> workers_here, fail_here, wait;
    Peer* sdk_peer = nullptr;  // with SDK workers and the fewest of ours in flight
    for (Peer& p : peers) {
      if (p.protocol_workers > 0 && (!sdk_peer || p.in_flight < sdk_peer->in_flight)) sdk_peer = &p;
    }
    for (Dispatch::Job& job : d.jobs) {
      Peer* best = nullptr;
      for (Peer& p : peers) {
        if (p.code.runs_activity(job.name) && (!best || p.in_flight < best->in_flight)) best = &p;
      }
      bool for_sdk = false;
      if (!best && !(foreign && foreign->ready_for(job.name)) && sdk_peer) {
        best = sdk_peer;
        for_sdk = true;
      }
      if (!best) {
        if (foreign && foreign->ready_for(job.name)) {
          workers_here.push_back(std::move(job));
        } else if (!foreign && peers.empty()) {
          fail_here.push_back(std::move(job));
        } else {
          wait.push_back(std::move(job));
        }
        continue;
      }
      if (!for_sdk) warned_activities.erase(lower(job.name));
      const uint64_t seq = next_seq++;
      ++best->in_flight;
      remote[static_cast<size_t>(best - peers.data())].activities.push_back(
          {seq, d.instance_id, job.name, job.task_id, job.input});
      in_flight.emplace(seq, InFlight{best->actor.address(), d.reply_to, d.instance_id, d.execution_id,
                                      std::move(job), std::chrono::steady_clock::now(), for_sdk});
    }
    for (size_t i = 0; i < remote.size(); ++i) {
      if (remote[i].activities.empty()) continue;
      rt->counters.activities_sent += remote[i].activities.size();
      remote[i].origin = me();
      self->send(peers[i].actor, std::move(remote[i]));
    }
    run_on_workers(*rt, d.reply_to, d.instance_id, d.execution_id, std::move(workers_here));
    run_here(*rt, d.reply_to, d.instance_id, d.execution_id, std::move(fail_here));
    if (!wait.empty()) {
      for (const Dispatch::Job& job : wait) {
        if (!warned_activities.insert(lower(job.name)).second) continue;
        durable::logger("node")->warn("[{}] activity '{}' waits for a node that registers it", d.instance_id,
                                      job.name);
      }
      parked.push_back({Dispatch{d.reply_to, d.instance_id, d.execution_id, std::move(wait)}, since});
    }
    count_parked();
    schedule_tick();
  }

  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  void count_parked() {
    uint64_t n = 0;
    for (const Parked& p : parked) n += p.d.jobs.size();
    rt->counters.activities_waiting = n;
    if ((!parked.empty() || episodes->parked() > 0 || batches->parked() > 0) && !retrying) {
      retrying = true;
      self->delayed_send(self, kRetryTick, retry_parked_atom::value);
    }
  }

  // What waits for a node that runs its code, tried again: a peer joined,
  // SDK workers connected here, or the tick.
  void retry_parked() {
    const auto now = std::chrono::steady_clock::now();
    std::vector<Parked> waiting;
    waiting.swap(parked);
    size_t dropped = 0;
    for (Parked& p : waiting) {
      if (now - p.since >= rt->options.activity_timeout) {
        dropped += p.d.jobs.size();  // the instance has failed these tasks by now
        continue;
      }
      place_unregistered(p.d, p.since);
    }
    if (dropped > 0) {
      durable::logger("node")->warn("{} activities waited {} ms for a node that registers them; dropped", dropped,
                                    rt->options.activity_timeout.count());
    }
    episodes->retry_parked(self, [this](const RemoteEpisode& e) { return peer_for_episode(e); });
    batches->retry_parked(self, [this](const std::string& entity) { return peer_for_entity(entity); });
    count_parked();
  }

  // A live peer whose code runs the episode, the same for an instance while
  // the peers stay the same; null when none does.
  caf::actor peer_for_episode(const RemoteEpisode& e) const {
    std::vector<const Peer*> capable;
    for (const Peer& p : peers) {
      if (p.code.runs_orchestrator(e.orchestrator, e.version)) capable.push_back(&p);
    }
    if (capable.empty()) return {};
    return capable[std::hash<std::string>{}(e.instance_id) % capable.size()]->actor;
  }

  // A live peer that registered the entity of `entity` ("@name@key") in C++.
  caf::actor peer_for_entity(const std::string& entity) const {
    auto id = orchestration::EntityId::parse(entity);
    if (!id) return {};
    std::vector<const Peer*> capable;
    for (const Peer& p : peers) {
      if (p.code.runs_entity(id->name())) capable.push_back(&p);
    }
    if (capable.empty()) return {};
    return capable[std::hash<std::string>{}(entity) % capable.size()]->actor;
  }

  void run_for_peer(RemoteWork& w) {
    rt->counters.activities_for_peers += w.activities.size();
    // What sends activity `seq`'s outcome back to the node that asked.
    auto answer = [origin = w.origin, pool = &rt->pool](uint64_t seq) {
      return [origin, seq, pool](ActivityOutcome outcome) {
        RemoteOutcome out;
        out.seq = seq;
        if (auto* output = std::get_if<Payload>(&outcome)) {
          out.output = std::move(*output);
        } else {
          auto& failure = std::get<FailureDetails>(outcome);
          out.failed = true;
          out.output = std::move(failure.message);
          out.error_type = std::move(failure.error_type);
          out.stack_trace = std::move(failure.stack_trace);
        }
        out.backlog = pool->backlog();
        caf::anon_send(origin, std::move(out));
      };
    };
    std::vector<ActivityJob> work;
    std::vector<orchestration::ActivityWork> foreign;  // for the SDK workers connected here
    work.reserve(w.activities.size());
    for (RemoteActivity& a : w.activities) {
      if (rt->options.foreign_activities && !rt->registry.find_activity(a.name)) {
        foreign.push_back({std::move(a.instance_id), {}, std::move(a.name), a.task_id, std::move(a.input), answer(a.seq)});
        continue;
      }
      work.push_back({{std::move(a.instance_id), std::move(a.name), a.task_id}, std::move(a.input), answer(a.seq)});
    }
    if (!work.empty()) rt->pool.submit(std::move(work));
    if (!foreign.empty()) rt->options.foreign_activities->run(std::move(foreign));
  }

  void on_outcome(RemoteOutcome& o) {
    auto it = in_flight.find(o.seq);
    if (it == in_flight.end()) return;  // ran again here already, or timed out
    InFlight f = std::move(it->second);
    in_flight.erase(it);
    if (Peer* p = peer(f.peer)) {
      --p->in_flight;
      p->backlog = static_cast<int64_t>(o.backlog);
    }
    ActivityOutcome outcome = o.failed ? ActivityOutcome(FailureDetails{std::move(o.error_type),
                                                                        std::move(o.output),
                                                                        std::move(o.stack_trace)})
                                       : ActivityOutcome(std::move(o.output));
    self->send(f.reply_to, ActivityResult{std::move(f.instance_id), std::move(f.execution_id), f.job.task_id,
                                          std::move(outcome)});
  }

  void peer_up(PeerUp& up) {
    for (Peer& p : peers) {
      if (p.id != up.node_id) continue;
      if (p.actor != up.actor) {
        // Reconnected (the peer restarted, or its link was re-established):
        // what the old link carried is treated as lost.
        const caf::actor_addr old = p.actor.address();
        peer_down(old);  // erases `p`
        break;
      }
      p.workers = std::max<int64_t>(1, static_cast<int64_t>(up.workers));
      p.protocol_workers = up.protocol_workers;
      count_protocol_peers();
      // With work of ours there, its answers carry a fresher backlog than
      // the member list, which may be a lease round old.
      if (p.in_flight == 0) p.backlog = static_cast<int64_t>(up.load);
      if (!(p.code == up.code)) {
        p.code = std::move(up.code);
        rt->cluster_code.learn(p.code);
      }
      return retry_parked();
    }
    self->monitor(up.actor);
    peers.push_back({up.node_id, up.actor, std::max<int64_t>(1, static_cast<int64_t>(up.workers)),
                     static_cast<int64_t>(up.load), 0, up.protocol_workers, std::move(up.code)});
    rt->cluster_code.learn(peers.back().code);
    rt->counters.peers = peers.size();
    count_protocol_peers();
    const orchestration::VersionPolicy& v = peers.back().code.policy;
    durable::logger("node")->info("peer {} connected (version '{}', {})", up.node_id, v.version,
                                  orchestration::to_string(v.match));
    retry_parked();
  }

  void count_protocol_peers() {
    rt->counters.protocol_peers =
        static_cast<uint64_t>(std::count_if(peers.begin(), peers.end(), [](const Peer& p) { return p.protocol_workers > 0; }));
  }

  // The node actor of peer `id`; null when it is not connected. An empty
  // id: a peer with SDK workers, the same for an instance while the peers
  // stay the same (its history stays cached there).
  caf::actor peer_actor(const std::string& id, const std::string& instance_id) const {
    if (id.empty()) {
      std::vector<const Peer*> with_workers;
      for (const Peer& p : peers) {
        if (p.protocol_workers > 0) with_workers.push_back(&p);
      }
      if (with_workers.empty()) return {};
      return with_workers[std::hash<std::string>{}(instance_id) % with_workers.size()]->actor;
    }
    for (const Peer& p : peers) {
      if (p.id == id) return p.actor;
    }
    return {};
  }

  void peer_down(const caf::actor_addr& addr) {
    auto p = std::find_if(peers.begin(), peers.end(), [&](const Peer& x) { return x.actor.address() == addr; });
    if (p == peers.end()) return;
    std::vector<PeerEpisodeRequest> episodes_again = episodes->peer_down(addr);
    batches->peer_down(addr);
    std::map<std::tuple<bool, caf::actor_addr, std::string>, Dispatch> again;
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (it->second.peer != addr) {
        ++it;
        continue;
      }
      InFlight& f = it->second;
      Dispatch& d = again[{f.foreign, f.reply_to.address(), f.execution_id}];
      d.reply_to = f.reply_to;
      d.instance_id = f.instance_id;
      d.execution_id = f.execution_id;
      d.jobs.push_back(std::move(f.job));
      it = in_flight.erase(it);
    }
    const std::string gone = p->id;
    peers.erase(p);
    rt->counters.peers = peers.size();
    count_protocol_peers();
    size_t rerun = 0;
    for (auto& [key, d] : again) {
      rerun += d.jobs.size();
      // Those registered here run here; the others go to another node that
      // runs them, or wait for one.
      Dispatch elsewhere{d.reply_to, d.instance_id, d.execution_id, {}};
      std::erase_if(d.jobs, [&](Dispatch::Job& j) {
        if (rt->registry.find_activity(j.name)) return false;
        elsewhere.jobs.push_back(std::move(j));
        return true;
      });
      run_here(*rt, d.reply_to, d.instance_id, d.execution_id, std::move(d.jobs));
      if (!elsewhere.jobs.empty()) place_unregistered(elsewhere);
    }
    rt->counters.activities_rerun += rerun;
    durable::logger("node")->info("peer {} is gone; running its {} activities in flight again", gone, rerun);
    // Its episodes go to another node that runs their code, or wait for one.
    for (PeerEpisodeRequest& r : episodes_again) episodes->send(self, peer_for_episode(r.episode), r);
  }

  // An activity a peer never answered is the instance's to time out (it
  // fails the task after the activity timeout); past that, forget it.
  void on_tick() {
    ticking = false;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      if (now - it->second.sent < rt->options.activity_timeout) {
        ++it;
        continue;
      }
      if (Peer* p = peer(it->second.peer)) --p->in_flight;
      it = in_flight.erase(it);
    }
    schedule_tick();
  }

  void schedule_tick() {
    if (ticking || in_flight.empty()) return;
    ticking = true;
    self->delayed_send(self, std::max<std::chrono::milliseconds>(rt->options.activity_timeout / 4, kMinTick),
                       check_timeouts_atom::value);
  }

  static bool worth_sending(int64_t fewer_waiting, std::optional<std::chrono::microseconds> mean, int64_t workers) {
    if (fewer_waiting <= 0) return false;
    return !mean || fewer_waiting * mean->count() / workers > kRoundTrip.count();
  }

  static constexpr std::chrono::milliseconds kMinTick{10};
  // How often work waiting for a node that runs its code is tried again
  // (besides whenever a peer reports in).
  static constexpr std::chrono::milliseconds kRetryTick{250};
  // What sending an activity away costs on top of running it: a CAF round
  // trip on loopback is 0.3-0.4 ms idle (shared/notes/libraries.md), more
  // on a busy machine.
  static constexpr std::chrono::microseconds kRoundTrip{1000};
};

caf::behavior node_behavior(caf::stateful_actor<NodeState>* self, Runtime* rt) {
  self->state.self = self;
  self->state.rt = rt;
  self->state.episodes.emplace(*rt);
  self->state.batches.emplace(*rt);
  self->set_down_handler([self](caf::down_msg& down) { self->state.peer_down(down.source); });
  // Instances take the pool's fast path while no peer is counted.
  self->attach_functor([rt] {
    rt->counters.peers = 0;
    rt->counters.version_waiting = 0;
    rt->counters.activities_waiting = 0;
  });
  return {
      [self](Dispatch& d) { self->state.place(d); },
      [self](RemoteWork& w) { self->state.run_for_peer(w); },
      [self](RemoteOutcome& o) { self->state.on_outcome(o); },
      [self](foreign_atom, Dispatch& d) { self->state.place_unregistered(d); },
      [self](PeerEpisodeRequest& r) {
        auto& st = self->state;
        const caf::actor to = r.by_code ? st.peer_for_episode(r.episode) : st.peer_actor(r.peer, r.episode.instance_id);
        st.episodes->send(self, to, r);
        st.count_parked();
      },
      [self](RemoteEpisode& e) { self->state.episodes->run_for_peer(self, e); },
      [self](RemoteEpisodeAnswer& a) { self->state.episodes->on_answer(a); },
      [self](PeerBatchRequest& r) {
        auto& st = self->state;
        const caf::actor to = r.by_code ? st.peer_for_entity(r.batch.entity) : st.peer_actor({}, r.batch.entity);
        st.batches->send(self, to, r);
        st.count_parked();
      },
      [self](RemoteBatch& b) { self->state.batches->run_for_peer(b); },
      [self](RemoteBatchAnswer& a) { self->state.batches->on_answer(a); },
      [self](wake_atom, const std::vector<std::string>& ids) {
        self->state.rt->counters.peer_wakes += ids.size();
        for (const std::string& id : ids) self->state.rt->router.wake_local(id);
      },
      [self](PeerUp& up) { self->state.peer_up(up); },
      [self](PeerGone& gone) {
        for (const Peer& p : self->state.peers) {
          if (p.id != gone.node_id) continue;
          self->demonitor(p.actor);
          self->state.peer_down(p.actor.address());
          break;
        }
      },
      [self](check_timeouts_atom) { self->state.on_tick(); },
      [self](retry_parked_atom) {
        self->state.retrying = false;
        self->state.retry_parked();
      },
  };
}

}  // namespace

void hand_over_activities(Runtime& rt, Dispatch d) {
  take_unregistered(rt, d);
  if (d.jobs.empty()) return;
  // Without peers, or with enough idle workers here, there is nothing to
  // choose: straight to the pool, sparing the hop through the node actor.
  const auto idle = static_cast<int64_t>(rt.pool.workers()) - static_cast<int64_t>(rt.pool.backlog());
  if (rt.counters.peers == 0 || idle >= static_cast<int64_t>(d.jobs.size())) {
    run_here(rt, d.reply_to, d.instance_id, d.execution_id, std::move(d.jobs));
  } else {
    caf::anon_send(rt.node_actor, std::move(d));
  }
}

caf::actor spawn_node_actor(caf::actor_system& system, Runtime& runtime) {
  return system.spawn(node_behavior, &runtime);
}

}  // namespace durable::actors
