#pragma once
// ActorCore: the skeleton the instance and entity actors share (their CAF
// state structs derive from it): where the actor lives (partition, lease
// epoch, owning partition actor), its phases, the inbox cursor and its reads,
// the commit round trip and what a failed one does, and the one eviction
// rule. Each kind adds what it runs: an orchestration episode
// (actors/instance.hpp), a batch of entity operations (entity_actor.cpp).
// Internal to actors/. Every member runs on the actor's own thread.

#include <caf/all.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/actor_support.hpp"
#include "actors/answer_gate.hpp"
#include "actors/messages.hpp"
#include "actors/runtime.hpp"

namespace durable::actors {

struct ActorCore {
  // loading: a load is in flight or due after a back-off (nothing runs,
  // inbox replies are ignored);
  // executing: an episode is out with its executor (instances only);
  // committing: a commit is in flight. Messages queue in every phase.
  enum class Phase { loading, ready, executing, committing };

  virtual ~ActorCore() = default;

  /// Fills in where the actor lives; call first, in the behaviour's factory.
  void place(caf::event_based_actor* actor, Runtime* runtime, std::string actor_id, uint32_t partition_index,
             uint64_t lease_epoch, caf::actor partition_actor, const char* logger_name);

  caf::actor me() const { return caf::actor_cast<caf::actor>(self); }

  // -- loading -----------------------------------------------------------------
  /// A load failed: logs it and loads again after a back-off (10 s for
  /// corruption, which a retry does not mend at once).
  void retry_load(const Status& failure);

  // -- the inbox ---------------------------------------------------------------
  /// Reads the inbox after the cursor (at most kInboxBatch entries); the
  /// reply comes as an InboxReply.
  void read_inbox();
  /// Takes an InboxReply: the read, or null when it is to be ignored (a load
  /// is in flight and reads the inbox itself) or failed (logged; the read is
  /// retried after a back-off).
  store::InboxRead* inbox_reply(InboxReply& msg);
  /// The entries after the cursor, each once, in stream order: `good` for
  /// each decodable one; undecodable ones are logged and become dead letters
  /// of the next commit. Their stream ids join pending_ids.
  template <class Good>
  void take(std::vector<store::InboxEntry> entries, std::vector<store::DeadLetter> undecodable, Good good) {
    take_inbox(inbox_position, pending_ids, std::move(entries), std::move(undecodable), good,
               [&](store::DeadLetter&& d) {
                 log->error("[{}] inbox entry {} cannot be decoded ({}); moved to the dead-letter stream", id,
                            d.stream_id, d.reason);
                 pending_dead.push_back(std::move(d));
               });
  }

  // -- commits -----------------------------------------------------------------
  /// Sends a commit (an EpisodeWrite or EntityWrite); its answer comes as a
  /// Committed for this attempt.
  template <class Write>
  void send_commit(const Write& write) {
    phase = Phase::committing;
    commit_sent = std::chrono::steady_clock::now();
    const uint64_t this_attempt = ++attempt;
    rt->store_for(partition).commit(write, [to = me(), this_attempt](Result<uint64_t> r) {
      caf::anon_send(to, Committed{this_attempt, std::make_shared<Result<uint64_t>>(std::move(r))});
    });
  }
  /// Takes a Committed: the new version when it answers the commit in flight
  /// and succeeded (its latency recorded, the phase ready again); otherwise
  /// nothing: a stale answer is ignored, a lost lease stops the actor (the
  /// partition's new owner takes over), any other failure reloads it.
  std::optional<uint64_t> committed(Committed& msg);

  // -- executors -----------------------------------------------------------------
  /// Hands work to an executor: `run(answer)` calls it with the callback it
  /// answers through. Returns the answer given during the call; otherwise
  /// the first answer comes later as a LateAnswer<T> naming this hand-out's
  /// ticket (any other is dropped; the callback holds the actor weakly), and
  /// an overdue_atom with the ticket after executor_timeout. Phase:
  /// executing until the caller moves on.
  template <class T, class Run>
  std::optional<T> hand_out_to(Run run) {
    phase = Phase::executing;
    const uint64_t this_ticket = ++ticket;
    auto gate = std::make_shared<AnswerGate<T>>(
        [to = caf::actor_cast<caf::weak_actor_ptr>(self), this_ticket](T r) {
          if (auto alive = caf::actor_cast<caf::actor>(to.lock())) {
            caf::anon_send(alive, LateAnswer<T>{this_ticket, std::make_shared<T>(std::move(r))});
          }
        });
    run([gate](T r) { gate->deliver(std::move(r)); });
    std::optional<T> answer = gate->close();
    if (!answer) self->delayed_send(self, rt->options.executor_timeout, overdue_atom::value, this_ticket);
    return answer;
  }
  /// Whether a LateAnswer or an overdue reminder names the hand-out the
  /// actor waits for (not one handed out again, nor one a reload dropped).
  bool awaited(uint64_t handout) const { return phase == Phase::executing && handout == ticket; }

  // -- eviction ----------------------------------------------------------------
  /// The one eviction rule. Once nothing is in flight (no load, read,
  /// episode or commit, and not busy()), the actor asks its partition to
  /// evict it when it has finished(), has been idle for idle_eviction, or
  /// memory is crowded (live instances and entities together past
  /// max_live_instances: crowded()); otherwise it looks again after
  /// idle_eviction. With something in flight it does nothing: what lands
  /// it calls this again. A later message loads an evicted actor again.
  void maybe_evict(bool idle_timeout);
  /// The idle check armed by maybe_evict: idle if nothing ran since.
  void on_idle_check(uint64_t runs_then);
  /// Whether the actor's work is over for good (an instance that finished).
  virtual bool finished() const { return false; }
  /// Whether something it waits for would be lost by leaving (an
  /// instance's activities in flight).
  virtual bool busy() const { return false; }

  caf::event_based_actor* self = nullptr;
  Runtime* rt = nullptr;
  std::string id;
  uint32_t partition = 0;
  uint64_t epoch = 0;
  caf::actor owner;
  std::shared_ptr<spdlog::logger> log;

  Phase phase = Phase::loading;
  bool reading = false;      // an inbox read is in flight
  bool inbox_dirty = false;  // a wake came in meanwhile: read again
  bool evicting = false;     // asked to be evicted: messages go back through the router
  bool idle_check_scheduled = false;
  uint64_t runs = 0;         // episodes or batches run (the idle check compares)

  std::string inbox_position = "0-0";     // highest inbox id taken
  std::vector<std::string> pending_ids;   // inbox entries the next commit consumes
  std::vector<store::DeadLetter> pending_dead;

  uint64_t attempt = 0;  // which commit a Committed answers
  uint64_t failed_commits = 0;  // in a row, since the last that went through (logged once)
  uint64_t ticket = 0;   // which hand-out to an executor an answer must name
  std::chrono::steady_clock::time_point commit_sent;
};

}  // namespace durable::actors
