#include "actors/peer_executor.hpp"

#include "base/log.hpp"
#include "orchestration/codec.hpp"
#include "orchestration/local_executor.hpp"

namespace durable::actors {

using orchestration::EpisodeResult;
using orchestration::HistoryEvent;
using orchestration::TimePoint;

void PeerEpisodeExecutor::run(const orchestration::EpisodeWork& work, Answer answer) {
  RemoteEpisode e;
  e.instance_id = std::string(work.instance_id);
  e.orchestrator = std::string(work.orchestrator);
  e.execution_id = std::string(work.execution_id);
  e.past = orchestration::encode_events(work.past);
  e.batch = orchestration::encode_events(work.new_events);
  e.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(work.now.time_since_epoch()).count();
  e.version = work.version;
  caf::anon_send(runtime_.node_actor, PeerEpisodeRequest{peer_, std::move(e), std::move(answer), by_code_});
}

void PeerEpisodes::send(caf::event_based_actor* me, const caf::actor& peer_actor, PeerEpisodeRequest& request) {
  // Answers that never came (the instance handed its episode out again
  // long ago) are forgotten.
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(pending_, [&](const auto& p) { return now - p.second.sent > 2 * rt_.options.executor_timeout; });
  if (!peer_actor) {
    if (request.by_code) return park(request);
    durable::logger("node")->debug("[{}] episode for peer {}: not connected", request.episode.instance_id,
                                   request.peer);
    return;
  }
  if (request.by_code && parked_.erase(request.episode.instance_id) > 0) count_parked();  // superseded
  const uint64_t seq = next_seq_++;
  Pending pending{peer_actor.address(), std::move(request.answer), now, std::nullopt};
  if (request.by_code) pending.again = request.episode;  // sent again if that peer goes down
  pending_.emplace(seq, std::move(pending));
  request.episode.seq = seq;
  request.episode.origin = caf::actor_cast<caf::actor>(me);
  me->send(peer_actor, std::move(request.episode));
}

void PeerEpisodes::park(PeerEpisodeRequest& request) {
  const std::string id = request.episode.instance_id;
  const std::string version = request.episode.version;
  const std::string name = request.episode.orchestrator;
  // One per instance: a hand-out again (after the executor timeout)
  // replaces the one parked, and is not logged again.
  const bool fresh = parked_.insert_or_assign(id, Parked{std::move(request), std::chrono::steady_clock::now()}).second;
  count_parked();
  if (!fresh) return;
  const orchestration::VersionPolicy& policy = rt_.options.versioning;
  std::string why;
  if (!policy.accepts(version)) {
    why = "this node runs '" + policy.version + "' (" + std::string(orchestration::to_string(policy.match)) + ")";
  } else if (rt_.registry.has_orchestrator(name)) {
    why = "'" + name + "' is registered here for other versions only";
  } else {
    why = "'" + name + "' is not registered here";
  }
  durable::logger("node")->warn("[{}] waits for a node that runs version '{}' of '{}': {}", id, version, name, why);
}

void PeerEpisodes::retry_parked(caf::event_based_actor* me, const Pick& pick) {
  if (parked_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::pair<caf::actor, PeerEpisodeRequest>> ready;
  for (auto it = parked_.begin(); it != parked_.end();) {
    if (now - it->second.since > 2 * rt_.options.executor_timeout) {
      // Not handed out again: the instance left this node (its partition
      // moved, or it was evicted); its new owner asks for itself.
      durable::logger("node")->debug("[{}] forgetting its parked episode", it->first);
      it = parked_.erase(it);
      continue;
    }
    if (caf::actor peer = pick(it->second.request.episode)) {
      const RemoteEpisode& e = it->second.request.episode;
      durable::logger("node")->info("[{}] a node that runs version '{}' of '{}' is live: its episode goes there",
                                    it->first, e.version, e.orchestrator);
      ready.emplace_back(std::move(peer), std::move(it->second.request));
      it = parked_.erase(it);
      continue;
    }
    ++it;
  }
  count_parked();
  for (auto& [peer, request] : ready) send(me, peer, request);
}

void PeerEpisodes::run_for_peer(caf::event_based_actor* me, RemoteEpisode& e) {
  auto log = durable::logger("node");
  auto past = orchestration::decode_events(e.past);
  auto batch = orchestration::decode_events(e.batch);
  if (!past || !batch) {
    log->error("[{}] a peer's episode cannot be decoded: {}", e.instance_id,
               (past ? batch.status() : past.status()).to_string());
    return;
  }
  const orchestration::VersionPolicy& policy = rt_.options.versioning;
  if (rt_.registry.has_orchestrator(e.orchestrator) &&
      (!policy.accepts(e.version) || !rt_.registry.find_orchestrator(e.orchestrator, e.version))) {
    // Its owner thought otherwise (what this node announced changed?): left
    // unanswered, it is handed out again after the executor timeout.
    if (refused_++ == 0) {
      log->warn("[{}] a peer's episode of version '{}' of '{}' cannot run here ({}); left unanswered", e.instance_id,
                e.version, e.orchestrator,
                policy.accepts(e.version) ? "not registered for that version" : policy.mismatch(e.version));
    } else {
      log->debug("[{}] a peer's episode cannot run here ({} so far)", e.instance_id, refused_);
    }
    return;
  }
  ++rt_.counters.episodes_for_peers;
  const orchestration::EpisodeWork work{e.instance_id, e.orchestrator, e.execution_id, *past, *batch,
                                        TimePoint(std::chrono::milliseconds(e.now_ms)), e.version};
  try {
    if (rt_.registry.has_orchestrator(e.orchestrator) || !rt_.options.foreign_episodes) {
      orchestration::LocalEpisodeExecutor local(rt_.registry, false);
      local.run(work, [&](EpisodeResult result) { me->send(e.origin, to_remote(e.seq, result)); });
      return;
    }
    // For the SDK workers connected here: the answer comes later, from
    // another thread. The executor stays, with the history it converted,
    // for the instance's next episodes.
    hosted_.get(e.instance_id, e.orchestrator, "orchestrator", rt_.options.foreign_episodes)
        .run(work, [origin = e.origin, seq = e.seq](EpisodeResult result) {
          caf::anon_send(origin, to_remote(seq, result));
        });
  } catch (const std::exception& ex) {
    log->error("[{}] a peer's episode crashed here: {}", e.instance_id, ex.what());
  }
}

void PeerEpisodes::on_answer(RemoteEpisodeAnswer& answer) {
  deliver_answer(pending_, answer, [](RemoteEpisodeAnswer& a) { return from_remote(a); }, "episode");
}

std::vector<PeerEpisodeRequest> PeerEpisodes::peer_down(const caf::actor_addr& peer) {
  std::vector<PeerEpisodeRequest> again;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.peer != peer) {
      ++it;
      continue;
    }
    if (it->second.again) again.push_back({{}, std::move(*it->second.again), std::move(it->second.answer), true});
    it = pending_.erase(it);
  }
  return again;
}

RemoteEpisodeAnswer to_remote(uint64_t seq, const EpisodeResult& r) {
  RemoteEpisodeAnswer a;
  a.seq = seq;
  a.new_history = orchestration::encode_events(r.new_history);
  a.first_action = r.first_action;
  a.action_count = r.action_count;
  a.status = static_cast<uint8_t>(r.status);
  a.output = r.output;
  a.custom_status = r.custom_status;
  if (r.failure) {
    a.failed = true;
    a.error_type = r.failure->error_type;
    a.message = r.failure->message;
    a.stack_trace = r.failure->stack_trace;
  }
  if (r.continue_as_new) {
    a.continued = true;
    a.continue_input = r.continue_as_new->input;
    a.continue_version = r.continue_as_new->version;
    a.carried = orchestration::encode_events(r.continue_as_new->carried_events);
  }
  a.rewound = r.rewound;
  return a;
}

Result<EpisodeResult> from_remote(RemoteEpisodeAnswer& a) {
  EpisodeResult r;
  auto history = orchestration::decode_events(a.new_history);
  if (!history) return history.status();
  r.new_history = std::move(*history);
  if (a.first_action + a.action_count > r.new_history.size() ||
      a.status > orchestration::kMaxOrchestrationStatus) {
    return Status::corruption("a peer's episode answer names actions or a status it does not hold");
  }
  r.first_action = a.first_action;
  r.action_count = a.action_count;
  r.status = static_cast<orchestration::OrchestrationStatus>(a.status);
  r.output = std::move(a.output);
  r.custom_status = std::move(a.custom_status);
  if (a.failed) r.failure = orchestration::FailureDetails{std::move(a.error_type), std::move(a.message), std::move(a.stack_trace)};
  if (a.continued) {
    auto carried = orchestration::decode_events(a.carried);
    if (!carried) return carried.status();
    r.continue_as_new = orchestration::ContinueAsNewRequest{std::move(a.continue_input), std::move(*carried),
                                                            std::move(a.continue_version)};
  }
  r.rewound = a.rewound;
  return r;
}

}  // namespace durable::actors
