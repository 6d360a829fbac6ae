#include "actors/partition_actor.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "actors/entity_actor.hpp"
#include "actors/instance_actor.hpp"
#include "base/log.hpp"
#include "store/retention.hpp"

namespace durable::actors {

/// A partition actor's own reminder to purge what retention says is due.
using retention_atom = caf::atom_constant<caf::atom("retention")>;
/// Retention's candidates read (step 1), back from the store.
struct RetentionFound {
  std::vector<store::RetentionCandidates> candidates;
  std::string error;  // empty: read
};
/// Retention's purges (step 2), back from the store.
struct RetentionPurged {
  store::RetentionOutcome outcome;
};
/// A retention backfill's scan of the created-time index, back from the store.
struct BackfillScanned {
  std::vector<std::string> ids;
  store::BackfillCursor cursor;
  std::string error;  // empty: read
};
/// A retention backfill's adds, answered: the cursor past them, if they went through.
struct BackfillAdded {
  store::BackfillCursor cursor;
  bool ok = false;
};

}  // namespace durable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::RetentionFound)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::RetentionPurged)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::BackfillScanned)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::BackfillAdded)

namespace durable::actors {
namespace {

struct Partition {
  static inline const char* name = "durable.partition";

  caf::stateful_actor<Partition>* self = nullptr;
  Runtime* rt = nullptr;
  uint32_t partition = 0;
  uint64_t epoch = 0;
  std::unordered_map<std::string, caf::actor> instances;
  std::unordered_map<caf::actor_addr, std::string> ids;
  // Starts this node is handed in-process (Started) race their own notices
  // on the wake stream. Instances begun from a Started whose notice has not
  // come yet; past kMaxHandedOff they are forgotten (a notice then costs
  // one inbox read).
  std::unordered_set<std::string> handed_off;
  static constexpr size_t kMaxHandedOff = 100000;
  // Notices that came first: their Started is due. If it does not come by
  // the deadline (its writer never learnt the start took), a wake-up.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> awaiting;

  caf::actor me() const { return caf::actor_cast<caf::actor>(self); }

  caf::actor& instance(const std::string& id) {
    auto it = instances.find(id);
    if (it != instances.end()) return it->second;
    return add(id, orchestration::is_entity_id(id) ? spawn_entity(self, *rt, id, partition, epoch, me())
                                                   : spawn_instance(self, *rt, id, partition, epoch, me()));
  }

  caf::actor& add(const std::string& id, caf::actor a) {
    self->monitor(a);
    ids[a.address()] = id;
    return instances.emplace(id, std::move(a)).first->second;
  }

  // A start written in this process. A new instance (its first version,
  // nothing cached here) begins from it; otherwise this is a wake-up, as
  // for any other write (a replaced instance loads, since a cached actor
  // holds the previous execution).
  void started(Started& s) {
    const store::LoadedInstance& loaded = **s.loaded;
    const std::string id = loaded.row->id;
    const bool noticed = awaiting.erase(id) > 0;
    if (instances.count(id) || loaded.row->version != 1) return wake(id);
    add(id, spawn_started_instance(self, *rt, id, partition, epoch, me(), std::move(s)));
    if (noticed) return;
    if (handed_off.size() >= kMaxHandedOff) handed_off.clear();
    handed_off.insert(id);
  }

  // The notice of a start this node is handed in-process: nothing new for
  // an instance begun from its Started; a cached actor reads its inbox;
  // otherwise the Started is on its way.
  void start_notice(const std::string& id) {
    if (handed_off.erase(id)) return;
    if (instances.count(id)) return wake(id);
    awaiting.try_emplace(id, std::chrono::steady_clock::now() + rt->options.timer_poll);
  }

  void wake_overdue_starts() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = awaiting.begin(); it != awaiting.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      const std::string id = it->first;
      it = awaiting.erase(it);
      durable::logger("partition")->debug("[{}] its start was not handed over in time; waking it", id);
      wake(id);
    }
  }

  // Wakes `id`'s actor to read its inbox. A new actor's load reads all of
  // it anyway (the write came before the notice that led here): no wake,
  // which would only read the inbox a second time.
  void wake(const std::string& id) {
    if (auto it = instances.find(id); it != instances.end()) {
      self->send(it->second, wake_atom::value);
    } else {
      instance(id);
    }
  }

  void forget(const caf::actor_addr& addr) {
    auto it = ids.find(addr);
    if (it == ids.end()) return;
    auto live = instances.find(it->second);
    if (live != instances.end() && live->second.address() == addr) instances.erase(live);
    ids.erase(it);
  }

  // The ids come back as WakeIds; a failed scan is tried again at the next
  // acquire or tick.
  void recover() {
    rt->store_for(partition).active(partition, [to = me()](Result<std::vector<std::string>> ids) {
      if (ids) caf::anon_send(to, WakeIds{std::move(*ids)});
    });
  }

  void poll_timers() {
    const auto until = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) +
                       2 * rt->options.timer_poll;
    rt->store_for(partition).due_timers(partition, until, [to = me()](Result<std::vector<store::DueTimer>> due) {
      if (!due) return;
      std::vector<std::string> ids;
      for (auto& t : *due) ids.push_back(std::move(t.instance_id));
      caf::anon_send(to, WakeIds{std::move(ids)});
    });
    self->delayed_send(self, rt->options.timer_poll, poll_timers_atom::value);
  }

  // -- retention (store/retention.hpp) ---------------------------------------
  // One tick at a time: read the due entries, then purge at most a batch,
  // one script call (kPurgeChunk ids) in flight at a time, so Redis serves
  // other clients between two calls however many partitions tick at once.
  // The callbacks only post back here (they run on the store's thread).
  bool retention_busy = false;
  std::vector<store::Argv> retention_calls;  // this tick's purge calls not yet sent
  size_t retention_tick_purged = 0;

  // The first tick comes a share of the interval later for each partition,
  // so a node's partitions tick spread out, not all at once.
  void retention_start() {
    const store::RetentionPolicy& policy = rt->options.retention;
    if (!policy.enabled()) return;
    const auto offset = policy.interval * partition / std::max<uint32_t>(1, rt->partitions);
    self->delayed_send(self, policy.interval + offset, retention_atom::value);
  }

  // Instances that finished before the finished indexes existed are added
  // to them first: the partition's created-time index is walked once per
  // acquisition, a batch a tick, before each tick's purge.
  store::BackfillCursor backfill;

  void retention_tick() {
    const store::RetentionPolicy& policy = rt->options.retention;
    self->delayed_send(self, policy.interval, retention_atom::value);
    if (retention_busy) return;
    retention_busy = true;
    if (!backfill.done) return backfill_scan();
    retention_read();
  }

  void backfill_scan() {
    const size_t batch = rt->options.retention.batch;
    rt->store_for(partition).request(
        {store::RetentionBackfill(rt->options.hub).scan_command(partition, backfill, batch)},
        [to = me(), cursor = backfill, batch](store::AsyncStore::Replies r) mutable {
          auto ids = store::RetentionBackfill::parse_scan(r.at(0), cursor, batch);
          if (ids) {
            caf::anon_send(to, BackfillScanned{std::move(*ids), cursor, {}});
          } else {
            caf::anon_send(to, BackfillScanned{{}, cursor, ids.status().to_string()});
          }
        });
  }

  void backfill_scanned(BackfillScanned& scanned) {
    if (!scanned.error.empty()) {
      durable::logger("partition")->debug("partition {}: retention backfill could not scan: {}", partition, scanned.error);
      return retention_read();
    }
    if (scanned.ids.empty()) {
      backfill = scanned.cursor;
      return retention_read();
    }
    rt->store_for(partition).request(
        {store::RetentionBackfill(rt->options.hub).add_command(partition, scanned.ids)},
        [to = me(), cursor = scanned.cursor](store::AsyncStore::Replies r) {
          // Moves on only when the adds went through (else the same batch again).
          caf::anon_send(to, BackfillAdded{cursor, store::RetentionBackfill::parse_add(r.at(0)).is_ok()});
        });
  }

  void backfilled(const BackfillAdded& added) {
    if (added.ok) backfill = added.cursor;
    if (backfill.done) durable::logger("partition")->debug("partition {}: retention backfill done", partition);
    retention_read();
  }

  void retention_read() {
    const store::RetentionPolicy& policy = rt->options.retention;
    const auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
    const store::RetentionCommands commands(rt->options.hub);
    rt->store_for(partition).request(
        commands.candidates_commands(partition, policy, now), [to = me(), policy, now](store::AsyncStore::Replies r) {
          auto found = store::RetentionCommands::parse_candidates(policy, now, r);
          if (found) {
            caf::anon_send(to, RetentionFound{std::move(*found), {}});
          } else {
            caf::anon_send(to, RetentionFound{{}, found.status().to_string()});
          }
        });
  }

  void retention_found(RetentionFound& found) {
    if (!found.error.empty()) {
      retention_busy = false;
      durable::logger("partition")->debug("partition {}: retention could not read its index: {}", partition, found.error);
      return;
    }
    const store::RetentionCommands commands(rt->options.hub);
    retention_calls = commands.purge_commands(partition, rt->options.node_id, epoch, found.candidates,
                                              rt->options.retention.batch);
    std::reverse(retention_calls.begin(), retention_calls.end());  // sent from the back
    retention_tick_purged = 0;
    retention_next();
  }

  void retention_next() {
    if (retention_calls.empty()) {
      retention_busy = false;
      if (retention_tick_purged > 0) {
        durable::logger("partition")->debug("partition {}: retention purged {}", partition, retention_tick_purged);
      }
      return;
    }
    std::vector<store::Argv> call;
    call.push_back(std::move(retention_calls.back()));
    retention_calls.pop_back();
    rt->store_for(partition).request(std::move(call), [to = me()](store::AsyncStore::Replies r) {
      caf::anon_send(to, RetentionPurged{store::RetentionCommands::parse_purges(r)});
    });
  }

  // Purged instances leave memory too: a cached actor would hold an
  // execution that no longer exists.
  void retention_purged(RetentionPurged& done) {
    const store::RetentionOutcome& o = done.outcome;
    rt->counters.retention_purged += o.purged.size();
    retention_tick_purged += o.purged.size();
    for (const std::string& id : o.purged) {
      auto it = instances.find(id);
      if (it == instances.end()) continue;
      self->send(it->second, evict_atom::value);
      instances.erase(it);
    }
    if (!o.error.is_ok()) {
      // lease_lost: this actor is about to stop; the new owner carries on.
      durable::logger("partition")->debug("partition {}: retention stopped mid-tick: {}", partition, o.error.to_string());
      retention_calls.clear();
    }
    retention_next();
  }

  void stop() {
    for (auto& [id, actor] : instances) self->send_exit(actor, caf::exit_reason::user_shutdown);
    instances.clear();
    ids.clear();
    self->quit();
  }
};

caf::behavior partition_behavior(caf::stateful_actor<Partition>* self, Runtime* rt, uint32_t partition,
                                 uint64_t epoch) {
  Partition& st = self->state;
  st.self = self;
  st.rt = rt;
  st.partition = partition;
  st.epoch = epoch;
  self->set_down_handler([self](caf::down_msg& down) { self->state.forget(down.source); });
  durable::logger("partition")->debug("partition {} starting at epoch {}", partition, epoch);
  st.recover();
  st.poll_timers();
  st.retention_start();
  return {
      [self](wake_atom, const std::string& id) { self->state.wake(id); },
      [self](Started& s) { self->state.started(s); },
      [self](StartNotice& n) { self->state.start_notice(n.id); },
      [self](WakeIds& wake) {
        for (const std::string& id : wake.ids) self->state.wake(id);
      },
      [self](idle_atom, const std::string& id) {
        // Erase first: whatever comes for `id` from now on goes to a new
        // actor; the old one forwards what it still receives and quits.
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        auto it = self->state.instances.find(id);
        if (it != self->state.instances.end() && it->second == sender) self->state.instances.erase(it);
        if (sender) self->send(sender, evict_atom::value);
      },
      [self](poll_timers_atom) {
        self->state.wake_overdue_starts();
        self->state.poll_timers();
      },
      [self](retention_atom) { self->state.retention_tick(); },
      [self](RetentionFound& found) { self->state.retention_found(found); },
      [self](RetentionPurged& purged) { self->state.retention_purged(purged); },
      [self](BackfillScanned& scanned) { self->state.backfill_scanned(scanned); },
      [self](BackfillAdded& added) { self->state.backfilled(added); },
      [self](stop_atom) { self->state.stop(); },
  };
}

}  // namespace

caf::actor spawn_partition(caf::actor_system& system, Runtime& runtime, uint32_t partition, uint64_t epoch) {
  return system.spawn(partition_behavior, &runtime, partition, epoch);
}

}  // namespace durable::actors
