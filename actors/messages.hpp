#pragma once
// The typed messages between actors. Most stay in one process and are
// declared unsafe-for-remote with CAF_ALLOW_UNSAFE_MESSAGE_TYPE; the ones
// that cross nodes (section "Between nodes") have an `inspect` and are
// announced by add_message_types, identically on every node.

#include <caf/all.hpp>

#include <memory>
#include <string>
#include <vector>

#include "entities/batch.hpp"
#include "entities/executor.hpp"
#include "orchestration/executor.hpp"
#include "orchestration/registry.hpp"
#include "orchestration/replay_engine.hpp"
#include "store/types.hpp"

namespace durable::actors {

/// An instance has new inbox entries (to the partition actor: with its id).
using wake_atom = caf::atom_constant<caf::atom("wake")>;
/// A partition actor's own reminder to look for due timers of unloaded instances.
using poll_timers_atom = caf::atom_constant<caf::atom("polltimers")>;
/// An instance's or the node actor's own reminder to fail activities past their timeout.
using check_timeouts_atom = caf::atom_constant<caf::atom("timeouts")>;
/// An entity's own reminder that a scheduled signal is due.
using signal_due_atom = caf::atom_constant<caf::atom("signaldue")>;
/// Stop: a partition actor stops its instances, then itself.
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// Instance or entity -> partition: nothing to do, may be evicted.
using idle_atom = caf::atom_constant<caf::atom("idle")>;
/// An instance's or entity's own reminder to see whether it stayed idle.
using idle_check_atom = caf::atom_constant<caf::atom("idlecheck")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;
/// An instance's or entity's own reminder that the work it handed to an
/// executor (with this ticket) may be overdue.
using overdue_atom = caf::atom_constant<caf::atom("overdue")>;
// To the node actor: activities to send to a peer's Durable Task SDK workers.
using foreign_atom = caf::atom_constant<caf::atom("foreign")>;
// The node actor's own reminder to try again the work that waits for a node
// that runs its code (parked episodes, activities).
using retry_parked_atom = caf::atom_constant<caf::atom("parked")>;

/// An activity's outcome, from a worker to the orchestration that scheduled it.
struct ActivityResult {
  std::string instance_id;
  std::string execution_id;
  int32_t task_id = -1;
  orchestration::ActivityOutcome outcome;
};

/// A durable timer is due (a delayed message an instance sends itself).
struct TimerDue {
  std::string execution_id;
  int32_t timer_id = -1;
  orchestration::TimePoint fire_at{};
};

/// An executor's answer (an EpisodeResult, an entities::BatchResult) that
/// came after its run() returned.
template <class T>
struct LateAnswer {
  uint64_t ticket = 0;  // which hand-out it answers
  std::shared_ptr<T> result;
};

/// Replies from the store (AsyncStore callbacks). Results are shared: CAF copies messages
/// only when they have several receivers, but the types must be copyable.
struct Loaded {
  std::shared_ptr<Result<store::LoadedInstance>> result;
};
struct EntityLoaded {
  std::shared_ptr<Result<store::LoadedEntity>> result;
};
struct InboxReply {
  std::shared_ptr<store::InboxRead> read;
};
struct Committed {
  uint64_t attempt = 0;  // which commit of the instance this answers
  std::shared_ptr<Result<uint64_t>> result;
};
/// Ids a partition actor should wake (recovery walk, due timers).
struct WakeIds {
  std::vector<std::string> ids;
};
/// To a partition actor: a start a front door in this process wrote, as a
/// load would read it (Commands::parse_start); the instance begins from it.
struct Started {
  std::shared_ptr<Result<store::LoadedInstance>> loaded;
};
/// To a partition actor: the notice of a start on the wake stream.
struct StartNotice {
  std::string id;
};

/// Activities an instance scheduled, to the node actor, which runs them here
/// or on a peer; each result comes back to `reply_to` as an ActivityResult.
struct Dispatch {
  caf::actor reply_to;
  std::string instance_id;
  std::string execution_id;
  struct Job {
    int32_t task_id = -1;
    std::string name;
    orchestration::Payload input;
  };
  std::vector<Job> jobs;
};

// ------------------------------------------------------------ between nodes
// Every node actor is published on the node's cluster port. Peers send it:
//   (wake_atom, std::vector<std::string> ids)  instances it owns to wake
//   RemoteWork                                 activities to run
//   RemoteEpisode                              an orchestration episode to run
//   RemoteBatch                                an entity batch to run
// and it answers RemoteWork with one RemoteOutcome per activity, and a
// RemoteEpisode with a RemoteEpisodeAnswer, a RemoteBatch with a
// RemoteBatchAnswer, sent to the origin's node actor,
// which hands the result to the instance.

/// One activity run for a peer; `seq` is the origin's key for it.
struct RemoteActivity {
  uint64_t seq = 0;
  std::string instance_id;
  std::string name;
  int32_t task_id = -1;
  std::string input;
};

struct RemoteWork {
  caf::actor origin;  // the sending node's node actor
  std::vector<RemoteActivity> activities;
};

/// The outcome of RemoteActivity `seq`, and how many activities the worker
/// node has queued or running (for the origin's balancing).
struct RemoteOutcome {
  uint64_t seq = 0;
  bool failed = false;
  std::string output;  // the payload, or the failure's message
  std::string error_type;
  std::string stack_trace;
  uint64_t backlog = 0;
};

/// One orchestration episode run for a peer (actors/peer_executor.hpp): the
/// instance's history and the episode's messages as encode_events bytes.
struct RemoteEpisode {
  uint64_t seq = 0;
  caf::actor origin;  // the asking node's node actor
  std::string instance_id;
  std::string orchestrator;
  std::string execution_id;
  std::string past;
  std::string batch;
  int64_t now_ms = 0;
  std::string version;  // the instance's orchestration version
};

/// The answer to RemoteEpisode `seq`: its EpisodeResult, field by field.
struct RemoteEpisodeAnswer {
  uint64_t seq = 0;
  std::string new_history;  // encode_events
  uint64_t first_action = 0;
  uint64_t action_count = 0;
  uint8_t status = 0;
  std::string output;
  std::string custom_status;
  bool failed = false;
  std::string error_type;
  std::string message;
  std::string stack_trace;
  bool continued = false;
  std::string continue_input;
  std::string continue_version;
  std::string carried;  // encode_events
  bool rewound = false;
};

/// To the node actor, from a PeerEpisodeExecutor: run `episode` on node
/// `peer`; its answer goes to `answer` (never, if the peer is not there).
/// `by_code`: on a live peer whose announced code runs the episode's
/// orchestrator at its version (peer ignored); with none live, the request
/// waits in the node actor until one connects (actors/versioned_executor.hpp).
struct PeerEpisodeRequest {
  std::string peer;
  RemoteEpisode episode;
  orchestration::EpisodeExecutor::Answer answer;
  bool by_code = false;
};

/// An entity snapshot as it crosses nodes: the queued and scheduled messages
/// as encode_events bytes of their inbox events (entities::to_event), as
/// the store writes them.
struct RemoteSnapshot {
  bool has_state = false;
  std::string state;
  std::vector<std::string> recent_request_ids;  // oldest first
  bool locked = false;
  std::string lock_section;
  std::string lock_instance;
  std::string lock_execution;
  std::string queued;
  std::string scheduled;
};

/// One entity batch run for a peer (actors/peer_batches.hpp): the
/// entities::BatchWork, its messages as encode_events bytes.
struct RemoteBatch {
  uint64_t seq = 0;
  caf::actor origin;  // the asking node's node actor
  std::string entity;  // "@name@key"
  RemoteSnapshot snapshot;
  std::string messages;
  int64_t now_ms = 0;
};

/// One entities::OperationResult of a RemoteBatchAnswer.
struct RemoteOperation {
  std::string request_id;
  std::string operation;
  std::string result;
  bool failed = false;
  std::string error_type;
  std::string message;
  std::string stack_trace;
};

/// The answer to RemoteBatch `seq`: its entities::BatchResult, field by
/// field (outbound messages as parallel lists: targets, executions, and
/// their events as encode_events bytes).
struct RemoteBatchAnswer {
  uint64_t seq = 0;
  RemoteSnapshot snapshot;
  std::vector<std::string> targets;
  std::vector<std::string> target_executions;
  std::string events;
  std::vector<RemoteOperation> results;
  std::string scheduled;    // entity messages, as RemoteSnapshot's
  std::string unscheduled;
  std::vector<std::string> remembered;
  uint64_t duplicates = 0;
};

/// To the node actor, from a PeerBatchExecutor: run `batch` on a peer with
/// SDK workers; its answer goes to `answer` (never, if there is none).
/// `by_code`: on a peer that registered the entity in C++ instead.
struct PeerBatchRequest {
  RemoteBatch batch;
  entities::BatchExecutor::Answer answer;
  bool by_code = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteSnapshot& x) {
  return f(caf::meta::type_name("durable.RemoteSnapshot"), x.has_state, x.state, x.recent_request_ids, x.locked,
           x.lock_section, x.lock_instance, x.lock_execution, x.queued, x.scheduled);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteBatch& x) {
  return f(caf::meta::type_name("durable.RemoteBatch"), x.seq, x.origin, x.entity, x.snapshot, x.messages, x.now_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteOperation& x) {
  return f(caf::meta::type_name("durable.RemoteOperation"), x.request_id, x.operation, x.result, x.failed,
           x.error_type, x.message, x.stack_trace);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteBatchAnswer& x) {
  return f(caf::meta::type_name("durable.RemoteBatchAnswer"), x.seq, x.snapshot, x.targets, x.target_executions,
           x.events, x.results, x.scheduled, x.unscheduled, x.remembered, x.duplicates);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteEpisode& x) {
  return f(caf::meta::type_name("durable.RemoteEpisode"), x.seq, x.origin, x.instance_id, x.orchestrator,
           x.execution_id, x.past, x.batch, x.now_ms, x.version);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteEpisodeAnswer& x) {
  return f(caf::meta::type_name("durable.RemoteEpisodeAnswer"), x.seq, x.new_history, x.first_action, x.action_count,
           x.status, x.output, x.custom_status, x.failed, x.error_type, x.message, x.stack_trace, x.continued,
           x.continue_input, x.continue_version, x.carried, x.rewound);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteActivity& x) {
  return f(caf::meta::type_name("durable.RemoteActivity"), x.seq, x.instance_id, x.name, x.task_id, x.input);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteWork& x) {
  return f(caf::meta::type_name("durable.RemoteWork"), x.origin, x.activities);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RemoteOutcome& x) {
  return f(caf::meta::type_name("durable.RemoteOutcome"), x.seq, x.failed, x.output, x.error_type, x.stack_trace,
           x.backlog);
}

/// Announces the types that cross nodes. Every node calls it on its config.
inline void add_message_types(caf::actor_system_config& config) {
  config.add_message_type<RemoteActivity>("durable.RemoteActivity");
  config.add_message_type<RemoteWork>("durable.RemoteWork");
  config.add_message_type<RemoteOutcome>("durable.RemoteOutcome");
  config.add_message_type<RemoteEpisode>("durable.RemoteEpisode");
  config.add_message_type<RemoteEpisodeAnswer>("durable.RemoteEpisodeAnswer");
  config.add_message_type<RemoteSnapshot>("durable.RemoteSnapshot");
  config.add_message_type<RemoteBatch>("durable.RemoteBatch");
  config.add_message_type<RemoteOperation>("durable.RemoteOperation");
  config.add_message_type<RemoteBatchAnswer>("durable.RemoteBatchAnswer");
}

}  // namespace durable::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::ActivityResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::TimerDue)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::LateAnswer<durable::orchestration::EpisodeResult>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::LateAnswer<durable::entities::BatchResult>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::Loaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::EntityLoaded)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::InboxReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::Committed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::WakeIds)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::Started)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::StartNotice)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::Dispatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::PeerEpisodeRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(durable::actors::PeerBatchRequest)
