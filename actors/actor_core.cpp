#include "actors/actor_core.hpp"

#include "base/log.hpp"

namespace durable::actors {

using namespace std::chrono_literals;

void ActorCore::place(caf::event_based_actor* actor, Runtime* runtime, std::string actor_id, uint32_t partition_index,
                      uint64_t lease_epoch, caf::actor partition_actor, const char* logger_name) {
  self = actor;
  rt = runtime;
  id = std::move(actor_id);
  partition = partition_index;
  epoch = lease_epoch;
  owner = std::move(partition_actor);
  log = durable::logger(logger_name);
}

void ActorCore::retry_load(const Status& failure) {
  log->warn("[{}] load failed: {}; retrying", id, failure.to_string());
  self->delayed_send(self, failure.code() == Errc::corruption ? 10s : kRetryDelay, retry_atom::value);
}

void ActorCore::read_inbox() {
  reading = true;
  inbox_dirty = false;
  rt->store_for(partition).read_inbox({id, inbox_position, kInboxBatch}, [to = me()](store::InboxRead r) {
    caf::anon_send(to, InboxReply{std::make_shared<store::InboxRead>(std::move(r))});
  });
}

store::InboxRead* ActorCore::inbox_reply(InboxReply& msg) {
  reading = false;
  if (phase == Phase::loading) return nullptr;  // the load reads the inbox itself
  store::InboxRead& read = *msg.read;
  if (!read.entries) {
    log->warn("[{}] inbox read failed: {}", id, read.entries.status().to_string());
    inbox_dirty = true;
    self->delayed_send(self, kRetryDelay, wake_atom::value);
    return nullptr;
  }
  return &read;
}

std::optional<uint64_t> ActorCore::committed(Committed& msg) {
  if (msg.attempt != attempt || phase != Phase::committing) return std::nullopt;
  const Result<uint64_t>& result = *msg.result;
  if (!result) {
    const Status& s = result.status();
    if (s.code() == Errc::lease_lost) {
      log->info("[{}] partition {} lease lost; stopping", id, partition);
      self->quit();
      return std::nullopt;
    }
    // A stale version, or no clear answer (the commit may or may not have
    // happened): reload to look. Said once a streak; a store that is
    // unavailable (down, or its disk full) the node reports itself, once.
    if (failed_commits++ == 0 && s.code() != Errc::unavailable) {
      log->warn("[{}] commit failed ({}); reloading", id, s.to_string());
    } else {
      log->debug("[{}] commit failed again ({} in a row): {}", id, failed_commits, s.to_string());
    }
    phase = Phase::loading;
    self->delayed_send(self, s.code() == Errc::failed_precondition ? 0ms : kRetryDelay, retry_atom::value);
    return std::nullopt;
  }
  rt->counters.record_commit(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - commit_sent));
  if (failed_commits > 0) {
    log->info("[{}] committed after {} failed attempt(s)", id, failed_commits);
    failed_commits = 0;
  }
  phase = Phase::ready;
  return *result;
}

void ActorCore::maybe_evict(bool idle_timeout) {
  if (evicting || phase != Phase::ready || reading || busy()) return;
  if (finished() || idle_timeout || crowded(rt->counters, rt->options)) {
    evicting = true;
    self->send(owner, idle_atom::value, id);
  } else if (!idle_check_scheduled) {
    idle_check_scheduled = true;
    self->delayed_send(self, rt->options.idle_eviction, idle_check_atom::value, runs);
  }
}

void ActorCore::on_idle_check(uint64_t runs_then) {
  idle_check_scheduled = false;
  maybe_evict(runs_then == runs);  // busy since: look again later
}

}  // namespace durable::actors
