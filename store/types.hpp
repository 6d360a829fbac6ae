#pragma once
// The records the store reads and writes (instance rows, inbox entries,
// episode and entity writes, leases, wake notices, listings, members) and
// its options, as plain structs: no Redis client in here, so the C++
// client's header and the front doors see none. store/store.hpp is what
// reads and writes them.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "entities/batch.hpp"
#include "orchestration/history.hpp"
#include "orchestration/versioning.hpp"
#include "store/redis_address.hpp"

namespace durable::store {

using orchestration::FailureDetails;
using orchestration::HistoryEvent;
using orchestration::OrchestrationStatus;
using orchestration::Payload;
using orchestration::TimePoint;

/// Most inbox entries a load reads: a backlog of millions must not become
/// one reply (or one commit). The owner reads the rest afterwards.
inline constexpr size_t kLoadInboxCount = 10'000;

struct StoreOptions {
  RedisAddress address;
  std::string hub = "default";
  uint32_t partitions = 32;
  /// Connect and socket timeout; must exceed any XREAD BLOCK on this store.
  std::chrono::milliseconds timeout{5000};
};

/// The instance row (dt:{hub:p}:i:<id>).
struct InstanceRow {
  std::string id;
  std::string name;
  OrchestrationStatus status = OrchestrationStatus::pending;
  Payload input;
  Payload output;
  Payload custom_status;
  std::optional<FailureDetails> failure;
  TimePoint created{};
  TimePoint updated{};
  std::string execution_id;
  /// The orchestration version its starter gave (empty: none).
  std::string orchestration_version;
  /// When a client's start is due (epoch: at once). Pending until then.
  TimePoint scheduled_start{};
  /// Stream id of the last inbox entry consumed by a committed episode.
  std::string inbox_position;
  /// Episode counter: the compare-and-set version of fenced commits.
  uint64_t version = 0;
};

/// One inbox entry: a message for an instance.
struct InboxEntry {
  std::string stream_id;
  HistoryEvent event;
  /// The execution the message is for (a child's completion, a timer); empty
  /// when it is for whatever execution runs (a raised event, a start).
  std::string execution_id;
};

/// Something that could not be processed, kept for operators.
struct DeadLetter {
  std::string instance_id;
  std::string stream_id;  // where it was (an inbox entry), if anywhere
  std::string reason;
  std::string bytes;
  /// "<partition>-<stream id>" once stored (store/dead_letters.hpp); empty
  /// before.
  std::string id;
  /// When it was set aside (from its stream id); epoch before it is stored.
  TimePoint at{};
};

struct DeadLetterPage {
  std::vector<DeadLetter> letters;
  /// Pass to the next listing; empty when there is no more.
  std::string continuation;
};

struct LoadedInstance {
  std::optional<InstanceRow> row;
  std::vector<HistoryEvent> history;  // of the current execution
  /// A client's start that no episode has begun: the row holds it (status
  /// Pending, no history), so it is not in the inbox. It comes before the
  /// inbox's messages.
  std::optional<HistoryEvent> start;
  std::vector<InboxEntry> inbox;      // after row->inbox_position, in order
  std::vector<DeadLetter> undecodable;
};

/// A message to another instance, written in a commit.
struct OutboundMessage {
  std::string target_id;
  HistoryEvent event;
  std::string target_execution_id;  // empty: any execution
};

/// The timer id under which a scheduled start waits in the timer set.
inline constexpr int32_t kStartTimerId = -2;

struct TimerEntry {
  int32_t timer_id = -1;
  TimePoint fire_at{};
  /// The execution that created it (timers of an earlier execution are
  /// removed when it continues as new).
  std::string execution_id;
};

/// What one episode writes: built by the instance actor, turned into one
/// fenced Commit by Store::episode_commit.
struct EpisodeWrite {
  std::string node;
  uint64_t epoch = 0;
  uint64_t expected_version = 0;
  /// The row after the episode (its version field is ignored); row.id names
  /// the instance.
  InstanceRow row;
  /// False when the episode only drops messages for an instance that does
  /// not exist: no row is created.
  bool write_row = true;
  /// Which progress fields of the row changed; unchanged ones are not
  /// written (the update time and the version always are; a new execution
  /// writes every field).
  struct Changed {
    bool status = true;
    bool custom_status = true;
    bool inbox_position = true;
    /// The output and failure changed though the execution did not end
    /// (a rewind clears them).
    bool outcome = false;
  } changed;
  /// The instance has no unfinished work: leave the partition's active set.
  bool inactive = false;
  /// The instance has just finished: announce it on the completion stream.
  bool announce_done = false;
  /// True when this episode starts an execution no client start prepared
  /// (continue-as-new, a sub-orchestration): the previous execution's
  /// history is deleted first, the whole row written, and the id (re)indexed
  /// by created time.
  bool new_execution = false;
  /// encode_events of the episode's new history; empty: nothing to append.
  std::string history_entry;
  /// Inbox stream ids this episode consumed (deleted from the inbox).
  std::vector<std::string> consumed;
  std::vector<OutboundMessage> messages;
  std::vector<TimerEntry> timers_created;
  std::vector<TimerEntry> timers_fired;
  std::vector<DeadLetter> dead_letters;
};

/// One inbox read of a batch.
struct InboxQuery {
  std::string id;
  std::string after;  // stream id; "0-0" for the start
  size_t count = 0;
};
struct InboxRead {
  Result<std::vector<InboxEntry>> entries;
  std::vector<DeadLetter> undecodable;
};

struct LeaseGrant {
  /// 0: another node holds the lease.
  uint64_t epoch = 0;
  std::string owner;
  std::chrono::milliseconds remaining{0};
};

struct WakeCursor {
  uint32_t partition = 0;
  std::string last_id = "0-0";
};

struct WakeNotice {
  uint32_t partition = 0;
  std::string instance_id;
  /// For the notice of a start whose writer hands it to the owner in its
  /// own process (ClientOptions::hand_off): that node's id. Empty otherwise.
  std::string starter;
};

struct DueTimer {
  std::string instance_id;
  int32_t timer_id = -1;
  TimePoint fire_at{};
};

/// Which instances list() and purge() select. Unset fields select all.
struct InstanceFilter {
  std::vector<OrchestrationStatus> statuses;
  std::optional<TimePoint> created_from;  // inclusive
  std::optional<TimePoint> created_to;    // inclusive
  std::string id_prefix;
  /// Created order, newest first (default: oldest first). A listing by id
  /// prefix is in id order either way.
  bool newest_first = false;
};

struct InstancePage {
  std::vector<InstanceRow> instances;
  /// Pass to the next list() call; empty when there is no more.
  std::string continuation;
};

/// An entity's record (dt:{hub:p}:e:@name@key): its snapshot and where its
/// inbox was consumed up to.
struct EntityRecord {
  entities::EntitySnapshot snapshot;
  /// Batch counter: the compare-and-set version of fenced commits.
  uint64_t version = 0;
  std::string inbox_position;
  TimePoint updated{};
};

struct LoadedEntity {
  /// Absent: the entity was never used (or its storage was cleaned up).
  std::optional<EntityRecord> record;
  std::vector<InboxEntry> inbox;  // after record->inbox_position, in order
  std::vector<DeadLetter> undecodable;
};

/// What one entity batch writes: built by the entity actor, turned into one
/// fenced Commit by Store::entity_commit.
struct EntityWrite {
  std::string node;
  uint64_t epoch = 0;
  uint64_t expected_version = 0;
  std::string id;  // "@name@key"
  EntityRecord record;  // its version is ignored
  std::vector<std::string> consumed;
  std::vector<OutboundMessage> messages;
  /// Signals that started or stopped waiting for their time (a due timer each).
  std::vector<entities::EntityMessage> scheduled;
  std::vector<entities::EntityMessage> unscheduled;
  /// Request ids the batch added to the snapshot's recent ids.
  std::vector<std::string> remembered;
  std::vector<DeadLetter> dead_letters;
};

struct EntityListing {
  std::string id;  // "@name@key"
  EntityRecord record;
};

struct EntityPage {
  std::vector<EntityListing> entities;
  /// Pass to the next list_entities() call; empty when there is no more.
  std::string continuation;
};

struct EntityCleanup {
  size_t removed = 0;         // empty entities whose storage was deleted
  size_t locks_released = 0;  // locks whose orchestration had finished or gone
};

/// A node's recent throughput, one value per sampling interval, oldest
/// first (cluster/rate_history.hpp makes it; the heartbeat carries it, so
/// any node can show every node's). The four series have one length: the
/// intervals sampled so far, up to the node's cap (none yet: empty).
struct NodeRates {
  /// The nominal sampling period; 0: the node publishes no rates (a node
  /// from before them). Each interval lasts at least this long (to the
  /// heartbeat's granularity); the rates use its measured length.
  std::chrono::milliseconds interval{0};
  /// When the newest interval ended, by the node's clock.
  TimePoint until{};
  std::vector<double> episodes;           // per second, of the node's instances
  std::vector<double> activities;         // per second, scheduled by its instances
  std::vector<double> entity_operations;  // per second, applied by its entities
  /// The mean commit round trip (actor to Redis and back) in the interval;
  /// nullopt: no commit in it.
  std::vector<std::optional<double>> commit_latency_ms;
};

/// A member of the cluster: what it advertises, and (from Store::nodes)
/// how it is doing.
struct NodeInfo {
  std::string id;
  std::string cluster_address;  // host:port of its CAF middleman
  std::string http_address;     // host:port of its HTTP API; empty: none
  std::string grpc_address;     // host:port of its Durable Task protocol server; empty: none
  /// A random id each node process makes at start: two processes with one
  /// node id tell each other apart by it.
  std::string incarnation;
  TimePoint started{};
  uint64_t load = 0;     // activities queued or running
  uint64_t workers = 0;  // activity worker threads
  uint64_t protocol_workers = 0;  // Durable Task SDK workers connected to it
  /// What it runs in C++: its version policy and the names it registered.
  orchestration::NodeCode code;
  /// Its recent rates (absent in heartbeats of nodes from before them).
  NodeRates rates;
  // Read back by Store::nodes():
  bool live = false;
  std::chrono::milliseconds since_heartbeat{0};
  std::vector<uint32_t> partitions;  // owned by unexpired leases
};

}  // namespace durable::store
