#include "actors/entity_actor.hpp"

#include <algorithm>

#include "actors/actor_core.hpp"
#include "entities/executor.hpp"

#include "base/log.hpp"
#include "orchestration/codec.hpp"

namespace durable::actors {
namespace {

using namespace std::chrono_literals;
using entities::EntityMessage;
using orchestration::TimePoint;

bool is_power_of_ten(uint64_t n) {
  while (n >= 10 && n % 10 == 0) n /= 10;
  return n == 1;
}

struct Entity : ActorCore {
  static inline const char* name = "durable.entity";

  orchestration::EntityId entity;  // parsed from id ("@name@key")
  const entities::EntityFn* fn = nullptr;
  std::optional<TimePoint> armed_for;  // the scheduled-signal timer set

  store::EntityRecord record;  // as last committed (or loaded)

  // The next batch's input.
  std::vector<EntityMessage> pending;

  // The batch out with the executor: what its commit writes besides the result.
  struct OpenBatch {
    store::EntityWrite write;
    size_t arrived = 0;
  };
  std::optional<OpenBatch> open_batch;
  std::unique_ptr<entities::BatchExecutor> executor;  // made at the first batch

  // The batch being committed.
  store::EntityRecord committing;
  std::vector<std::string> wake_after;

  void load() {
    phase = Phase::loading;
    open_batch.reset();  // an answer still to come is dropped
    pending.clear();
    pending_ids.clear();
    pending_dead.clear();
    inbox_dirty = false;
    ++rt->counters.loads;
    rt->store_for(partition).load_entity(id, [to = me()](Result<store::LoadedEntity> r) {
      caf::anon_send(to, EntityLoaded{std::make_shared<Result<store::LoadedEntity>>(std::move(r))});
    });
  }

  void on_loaded(EntityLoaded& msg) {
    if (!*msg.result) return retry_load(msg.result->status());
    store::LoadedEntity& loaded = **msg.result;
    record = loaded.record.value_or(store::EntityRecord{});
    inbox_position = record.inbox_position.empty() ? "0-0" : record.inbox_position;
    if (loaded.inbox.size() + loaded.undecodable.size() >= store::kLoadInboxCount) inbox_dirty = true;  // more waits
    add_inbox(std::move(loaded.inbox), std::move(loaded.undecodable));
    phase = Phase::ready;
    log->debug("[{}] loaded at v{}, {} message(s) waiting", id, record.version, pending.size());
    read_more();
    arm_schedule();
    maybe_run();
  }

  void on_wake() {
    inbox_dirty = true;
    if (phase != Phase::loading) read_more();
  }

  void on_inbox(InboxReply& msg) {
    store::InboxRead* read_ptr = inbox_reply(msg);
    if (!read_ptr) return;
    store::InboxRead& read = *read_ptr;
    const bool full = read.entries->size() + read.undecodable.size() >= kInboxBatch;
    add_inbox(std::move(*read.entries), std::move(read.undecodable));
    if (full) inbox_dirty = true;
    read_more();
    maybe_run();
  }

  // Reads what else waits, unless a batch's worth is already pending: a
  // backlog is taken a batch at a time, never as one huge commit.
  void read_more() {
    if (inbox_dirty && !reading && pending.size() < kInboxBatch) read_inbox();
  }

  void add_inbox(std::vector<store::InboxEntry> entries, std::vector<store::DeadLetter> undecodable) {
    take(std::move(entries), std::move(undecodable), [&](store::InboxEntry&& e) {
      if (auto message = entities::from_event(e.event)) {
        pending.push_back(std::move(*message));
        return;
      }
      const orchestration::HistoryEvent one[] = {e.event};
      const std::string what(event_type_name(e.event.type));
      log->error("[{}] inbox entry {} is a {}, not an entity message; moved to the dead-letter stream", id,
                 e.stream_id, what);
      pending_dead.push_back({id, e.stream_id, "not an entity message: " + what, orchestration::encode_events(one), {}, {}});
    });
  }

  bool has_due() const {
    auto due = entities::next_due(record.snapshot);
    return due && *due <= wall_now();
  }

  // One timer for the earliest scheduled signal (not one per batch).
  void arm_schedule() {
    auto due = entities::next_due(record.snapshot);
    if (!due || (armed_for && *armed_for <= *due && *armed_for > wall_now())) return;
    armed_for = due;
    self->delayed_send(self, std::max<std::chrono::milliseconds>(*due - wall_now(), 0ms), signal_due_atom::value);
  }

  void maybe_run() {
    if (phase != Phase::ready || evicting) return;
    if (pending.empty() && pending_ids.empty() && pending_dead.empty() && !has_due()) {
      maybe_evict(false);
      return;
    }
    ++runs;
    run();
  }

  void run() {
    const TimePoint now = std::max(wall_now(), record.updated);
    store::EntityWrite w;
    w.node = rt->options.node_id;
    w.epoch = epoch;
    w.expected_version = record.version;
    w.id = id;
    w.consumed = std::move(pending_ids);
    w.dead_letters = std::move(pending_dead);
    pending_ids.clear();
    pending_dead.clear();
    w.record.inbox_position = inbox_position;
    w.record.updated = now;
    open_batch = OpenBatch{std::move(w), pending.size()};
    // The snapshot goes to the executor, moved, not copied (its request ids
    // are a thousand strings): a batch given up or a failed commit reloads
    // the record anyway.
    entities::BatchWork work{entity, std::move(record.snapshot), std::move(pending), now};
    pending.clear();
    if (!executor && rt->options.batch_executor) {
      executor = rt->options.batch_executor(entity.name());
      if (!executor) log->error("[{}] the batch executor factory made none; running the batch here", id);
    }
    if (!executor) executor = std::make_unique<entities::LocalBatchExecutor>(fn);
    std::optional<entities::BatchResult> answer = hand_out_to<entities::BatchResult>(
        [&](auto answer_through) { executor->run(std::move(work), std::move(answer_through)); });
    if (answer) commit_batch(std::move(*answer));
  }

  void on_answer(uint64_t handout, entities::BatchResult result) {
    if (!awaited(handout)) return;  // given up, or answered already
    commit_batch(std::move(result));
  }

  // The batch was not answered in time: its messages are still in the inbox
  // and the snapshot in the store; load both and run them again.
  void on_overdue(uint64_t handout) {
    if (!awaited(handout)) return;
    if (rt->counters.batches_overdue++ == 0) {
      log->warn("[{}] batch not answered within {} ms; reloading to run it again (logged once; /metrics counts)", id,
                rt->options.executor_timeout.count());
    }
    load();
  }

  void commit_batch(entities::BatchResult result) {
    store::EntityWrite w = std::move(open_batch->write);
    const size_t arrived = open_batch->arrived;
    open_batch.reset();
    ++rt->counters.entity_batches;
    rt->counters.entity_operations += result.results.size();
    for (const auto& r : result.results) {
      if (!r.failure) continue;
      // A signal has no caller to tell: the log says so, once and then at
      // every power of ten, and /metrics counts them all.
      const uint64_t failed = ++rt->counters.entity_operations_failed;
      if (is_power_of_ten(failed)) {
        log->warn("[{}] operation '{}' failed: {}: {} ({} entity operations failed on this node so far)", id,
                  r.operation, r.failure->error_type, r.failure->message, failed);
      } else {
        log->debug("[{}] {} failed: {}: {}", id, r.operation, r.failure->error_type, r.failure->message);
      }
    }
    wake_after.clear();
    for (entities::Outbound& out : result.messages) {
      wake_after.push_back(out.target);
      w.messages.push_back({std::move(out.target), std::move(out.event), std::move(out.target_execution)});
    }
    w.scheduled = std::move(result.scheduled);
    w.unscheduled = std::move(result.unscheduled);
    w.remembered = std::move(result.remembered);
    w.record.snapshot = std::move(result.snapshot);
    log->debug("[{}] batch: {} message(s), {} ran, {} duplicate(s), {} out, commit v{}", id, arrived,
               result.results.size(), result.duplicates, w.messages.size(), w.expected_version + 1);
    send_commit(w);
    committing = std::move(w.record);  // the commit's command is built: the record is ours again
  }

  void on_committed(Committed& msg) {
    const std::optional<uint64_t> version = committed(msg);
    if (!version) return;
    record = std::move(committing);
    record.version = *version;
    std::sort(wake_after.begin(), wake_after.end());
    wake_after.erase(std::unique(wake_after.begin(), wake_after.end()), wake_after.end());
    for (const std::string& target : wake_after) {
      if (target == id) {
        on_wake();
      } else {
        rt->router.wake(target);
      }
    }
    wake_after.clear();
    arm_schedule();
    read_more();
    maybe_run();
  }

};

caf::behavior entity_behavior(caf::stateful_actor<Entity>* self, Runtime* rt, std::string id, uint32_t partition,
                              uint64_t epoch, caf::actor owner) {
  Entity& st = self->state;
  st.place(self, rt, std::move(id), partition, epoch, std::move(owner), "entity");
  if (auto parsed = orchestration::EntityId::parse(st.id)) {
    st.entity = *parsed;
    st.fn = rt->entities.find(st.entity.name());
  } else {
    st.log->error("[{}] not a valid entity id: {}", st.id, parsed.status().message());
  }
  ++rt->counters.live_entities;
  self->attach_functor([rt] { --rt->counters.live_entities; });
  st.load();
  return {
      [self](wake_atom) {
        if (self->state.evicting) return self->state.rt->router.wake(self->state.id);
        self->state.on_wake();
      },
      [self](EntityLoaded& msg) { self->state.on_loaded(msg); },
      [self](InboxReply& msg) { self->state.on_inbox(msg); },
      [self](Committed& msg) { self->state.on_committed(msg); },
      [self](LateAnswer<entities::BatchResult>& msg) { self->state.on_answer(msg.ticket, std::move(*msg.result)); },
      [self](overdue_atom, uint64_t handout) { self->state.on_overdue(handout); },
      [self](signal_due_atom) {
        if (self->state.evicting) return self->state.rt->router.wake(self->state.id);
        self->state.armed_for.reset();
        if (!self->state.has_due()) self->state.arm_schedule();  // woke a little early
        self->state.maybe_run();
      },
      [self](retry_atom) { self->state.load(); },
      [self](idle_check_atom, uint64_t runs_then) { self->state.on_idle_check(runs_then); },
      [self](evict_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_entity(caf::local_actor* parent, Runtime& runtime, std::string id, uint32_t partition,
                        uint64_t epoch, caf::actor partition_actor) {
  return parent->home_system().spawn(entity_behavior, &runtime, std::move(id), partition, epoch,
                                     std::move(partition_actor));
}

}  // namespace durable::actors
