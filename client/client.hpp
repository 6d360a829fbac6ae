#pragma once
// Client: start, query and control orchestrations from C++. It talks to
// Redis directly, not to a node: a request is durable once this returns OK
// (Redis acknowledged it), and the owning node is woken by the partition's
// wake stream, so a client needs no node to be up.
//
//   auto client = Client::connect({.address = *RedisAddress::parse(url)});
//   auto id = client->start("HelloSequence", to_payload(std::string("Tokyo")));
//   auto done = client->wait(*id, std::chrono::seconds(30));
//
// Thread-safe, and built for many callers at once (an HTTP front door):
//  - starts, messages (raise, terminate, suspend, resume), entity signals and
//    get() share one connection: what callers send while replies are due
//    goes to Redis together (group commit), and each caller is answered when
//    its own reply is in; a lone request goes at once;
//  - every wait() listens through one reader of the completion notices
//    (client/completions.hpp), not a connection each;
//  - the rest (list, purge, entity queries, clean-up, cluster) take turns
//    on a third connection.
//
// Reconnecting: a lost connection is re-established in the background; a
// call made meanwhile waits for it up to ClientOptions::timeout. A read
// (get, list, wait) that fails with unavailable is tried once more; a write
// never is, because a write whose reply was lost may have happened: the
// caller decides (a start repeated with the same id is refused with
// already_exists if the first one took; a signal repeated with the same
// request id is applied once).
//
// Blocking: every call blocks its caller for its round trip(s); while Redis
// is down, up to `timeout` for the connection and then up to `timeout` for
// the reply (twice for a read that is tried again). A reply that does not
// come within `timeout` is unavailable on the shared connection but
// deadline_exceeded on the third (which is not tried again). The destructor
// must not run alongside any call, and every Watch must be gone before it.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "orchestration/entity_id.hpp"
#include "orchestration/history.hpp"
#include "store/types.hpp"


namespace durable::client {

class Completions;
class Subscription;

using orchestration::EntityId;
using orchestration::HistoryEvent;
using orchestration::OrchestrationStatus;
using orchestration::Payload;
using store::InstanceFilter;
using store::InstancePage;
using store::InstanceRow;

struct ClientOptions {
  store::RedisAddress address;
  std::string hub = "default";
  uint32_t partitions = 32;
  /// Largest input, event payload or reason accepted (a bigger one is refused
  /// with invalid_argument naming both sizes).
  size_t max_payload_bytes = 16u << 20;
  /// Connect and socket timeout of each connection.
  std::chrono::milliseconds timeout{5000};
  /// A node silent this long counts as gone; match the nodes' --node-timeout.
  std::chrono::milliseconds node_timeout{6000};
  /// A node in the same process that takes this client's starts: each
  /// start's wake notice names `node`, and `deliver` gets what the start
  /// wrote (as a load would read it), so that the owner, when it is that
  /// node, begins the instance without reading Redis. Without it, the owner
  /// finds the start on its partition's wake stream. `listen`, if set,
  /// registers a function the node calls with each row it finishes (so a
  /// wait here ends without reading Redis) and returns what unregisters it.
  struct HandOff {
    using Listener = std::function<void(const store::InstanceRow&)>;
    std::string node;
    std::function<void(store::LoadedInstance&&)> deliver;
    std::function<std::function<void()>(Listener)> listen;
  };
  std::optional<HandOff> hand_off = std::nullopt;
  /// The version a start gets when StartOptions::version is empty: a
  /// node's front doors set it to the node's --version (empty: none).
  std::string default_version = {};
};

/// What get() returns: the row, and the history when asked for.
struct InstanceState {
  InstanceRow row;
  /// The current execution's history; empty unless asked for (and empty for
  /// an instance no node has run yet).
  std::vector<HistoryEvent> history;
};

/// One signal of Client::signal_entities.
struct EntitySignal {
  EntityId entity;
  std::string operation;
  Payload input;
  /// Made by the caller, so the entity recognises a retry and applies the
  /// signal once; a new GUID when empty (filled in by signal_entities).
  std::string request_id;
  /// Deliver no earlier than this; empty: now.
  std::optional<orchestration::TimePoint> at;
};

/// What get_entity() and list_entities() return.
struct EntityState {
  EntityId id;
  /// Empty when the entity has no state (never set, or deleted).
  std::optional<Payload> state;
  /// The orchestration holding the entity's lock, if any.
  std::optional<std::string> locked_by;
  size_t queued = 0;     // messages waiting for the lock
  size_t scheduled = 0;  // signals waiting for their time
  orchestration::TimePoint updated{};
};

struct EntityStatePage {
  std::vector<EntityState> entities;
  std::string continuation;  // empty: no more
};

class Client {
 public:
  /// Connects and checks the hub's partition count. Errors: unavailable
  /// (Redis unreachable), deadline_exceeded (no answer within the timeout),
  /// failed_precondition (the hub was created with another partition count;
  /// the message names both), invalid_argument (partitions is 0; Redis
  /// rejected the password).
  static Result<std::unique_ptr<Client>> connect(ClientOptions options);

  /// Unregisters from the hand-off, stops the notice reader (waking every
  /// subscriber) and waits for the shared connection's requests in flight.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Starts orchestrator `name` with `input` as instance `instance_id` (a new
  /// GUID when empty). Returns the id. Errors: invalid_argument (the id
  /// breaks a rule, which the message names; payload too large; empty
  /// name), already_exists (that id runs and has not finished; a finished
  /// one is replaced; "an instance with id '<id>' already exists and has not
  /// finished"), unavailable (the start may or may not have happened).
  /// The orchestrator name is checked by the node that runs it: an unknown
  /// name fails the instance with a clear message. With a hand-off, its
  /// `deliver` runs on the caller's thread before this returns.
  Result<std::string> start(const std::string& name, Payload input, std::string instance_id = {});

  /// What a start does when its id is taken, as the Durable Task
  /// protocol's orchestrationIdReusePolicy (durabletask-go's backends) has
  /// it: when the instance's status is one of `statuses`, `action` applies;
  /// any other status is already_exists. Without a policy (the default),
  /// a finished instance is replaced and an unfinished one refused.
  struct IdReusePolicy {
    enum class Action {
      /// already_exists, whatever the status.
      error,
      /// Nothing is written; start() returns the id as if it had started.
      ignore,
      /// Replace it: a finished instance at once; an unfinished one is first
      /// terminated (a recursive terminate: its sub-orchestrations too), and
      /// the new run starts once it has ended, within
      /// ClientOptions::timeout (else deadline_exceeded, the terminate
      /// having been sent). Replacing the row under a running instance
      /// would leave its node running an execution the row no longer
      /// names, so the new run waits for the old one's end instead.
      terminate,
    };
    std::vector<OrchestrationStatus> statuses;
    Action action = Action::error;
  };

  struct StartOptions {
    std::string instance_id;  // empty: a new GUID
    /// Not before this time (epoch, or a time past: at once). The instance
    /// is Pending until then; a terminate ends it at once.
    orchestration::TimePoint start_at{};
    /// The orchestration version, kept with the instance and given to its
    /// code (empty: ClientOptions::default_version).
    std::string version;
    /// When the id is taken (see IdReusePolicy); empty: today's rule. A
    /// policy costs a round trip more (the row is read first).
    std::optional<IdReusePolicy> reuse = std::nullopt;
  };
  /// start() with options. Errors: as start(), and invalid_argument for a
  /// version over 256 characters.
  Result<std::string> start(const std::string& name, Payload input, const StartOptions& options);

  /// The instance's row, and its history when `with_history` (one round
  /// trip). Errors: not_found ("no instance with id '<id>'"), corruption (an
  /// undecodable row or history), unavailable.
  Result<InstanceState> get(const std::string& instance_id, bool with_history = false);
  /// Waits until the instance has finished (Completed, Failed, Terminated)
  /// and returns its row: the row of the execution it first saw, even when
  /// a start (a restart) replaced that row meanwhile (the replaced row is
  /// kept five minutes for this; after that, or when the row was replaced
  /// twice, the current row is what it has). Blocks the caller up to `timeout` (plus the read in
  /// progress). Errors: not_found (at once, no such instance),
  /// deadline_exceeded ("instance '<id>' is still <status> after <ms> ms"),
  /// unavailable.
  Result<InstanceRow> wait(const std::string& instance_id, std::chrono::milliseconds timeout);

  /// A wait that holds no thread, for servers answering many waits from a
  /// few threads: look() at the instance whenever `notify` is called, and
  /// now and then anyway. Destroying the Watch ends it. Use one Watch from
  /// one thread at a time; destroy it before the Client.
  class Watch {
   public:
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    /// The instance's row: the finished one when a node in this process
    /// handed it over, else read from Redis (one round trip); finished or
    /// not. It stays with the execution the first look saw: once a start
    /// has replaced that execution, the replaced (finished) row, read from
    /// where the start kept it (a round trip more). Errors: not_found,
    /// unavailable.
    Result<InstanceRow> look();
    /// Blocks until notified or `deadline`; true when notified. A notice that
    /// came since the last wait counts (at once); several count as one.
    bool wait_until(std::chrono::steady_clock::time_point deadline);

   private:
    friend class Client;
    Watch(Client& client, std::string id, std::shared_ptr<Subscription> subscription);
    Client& client_;
    const std::string id_;
    std::shared_ptr<Subscription> subscription_;
    std::string execution_;  // the execution the first look saw
  };
  /// Starts watching `instance_id`: `notify` (optional) is called each time
  /// the instance may have finished (a completion notice named it, a node in
  /// this process finished it, the notice reader lost its place and found it
  /// again, or the Client is closing). It runs on the notice reader's thread,
  /// a node's actor thread or the closing thread, under a Client lock: it
  /// must be brief and must not call into the Client (destroying a Watch
  /// there deadlocks). A completion after this returns is always notified.
  /// Blocks up to `timeout` (a round trip when no watch ran for 10 s).
  /// Errors: unavailable (Redis unreachable for the timeout).
  Result<std::unique_ptr<Watch>> watch(const std::string& instance_id, std::function<void()> notify = {});

  /// Writes the message to the instance's inbox (one round trip); OK means it
  /// is durable, and the instance acts on it when it next runs. Errors for
  /// these four: not_found ("no instance with id '<id>'"), failed_precondition
  /// ("instance '<id>' has already finished"), invalid_argument (payload too
  /// large, empty event name), unavailable (the message may or may not have
  /// been delivered).
  Status raise_event(const std::string& instance_id, const std::string& event_name, Payload input = {});
  /// With `recursive`, the instance's open sub-orchestrations are
  /// terminated too, and theirs (the node forwards the terminate down the
  /// tree when it ends the instance).
  Status terminate(const std::string& instance_id, Payload reason = {}, bool recursive = false);
  Status suspend(const std::string& instance_id, Payload reason = {});
  Status resume(const std::string& instance_id, Payload reason = {});

  /// Rewinds a Failed instance: writes ExecutionRewound(`reason`) to its
  /// inbox, atomically with the check that it is Failed (one round trip);
  /// the node then runs its failed activities and failed sub-orchestrations
  /// again (rewinding those) and the instance is Running again. Errors:
  /// not_found ("no instance with id '<id>'"), failed_precondition
  /// ("instance '<id>' is <Status>; only a Failed instance can be rewound"),
  /// invalid_argument (reason too large), unavailable (it may have been
  /// written).
  Status rewind(const std::string& instance_id, Payload reason = {});
  /// Starts a finished instance's orchestrator again with its recorded input
  /// and version: under the same id (replacing the finished row; a client
  /// waiting on the old run still gets the old run's outcome), or under a
  /// new GUID when `new_instance_id`. Returns the new run's id. Two round
  /// trips. Errors: not_found, failed_precondition ("instance '<id>' is
  /// <Status>; only a finished instance can be restarted"; also when a
  /// start got in between), unavailable.
  Result<std::string> restart(const std::string& instance_id, bool new_instance_id = false);

  /// Deletes a finished instance's row, history and inbox. With `recursive`,
  /// also the sub-orchestrations its history created, and theirs (the
  /// current execution's history names them; at most 10,000 instances);
  /// nothing is deleted unless every one of them has finished. Errors:
  /// not_found, failed_precondition ("... has not finished; terminate it
  /// first", or naming the unfinished sub-orchestration and its status),
  /// unavailable or deadline_exceeded (not retried: it may have happened).
  Status purge(const std::string& instance_id, bool recursive = false);
  /// purge(instance_id, true) that says how many instances it deleted.
  Result<size_t> purge_tree(const std::string& instance_id);
  /// Purges the finished instances matching `filter` (unfinished ones are
  /// skipped; with `recursive`, a tree with an unfinished member is skipped
  /// whole); returns how many. Runs purge_batch to the end: each batch
  /// takes the connection for its own round trips only.
  Result<size_t> purge(const InstanceFilter& filter, bool recursive = false);
  struct PurgeProgress {
    size_t purged = 0;
    std::string continuation;  // empty: done
  };
  /// One bounded step of a purge by filter (up to `batch` index entries of
  /// one partition; three round trips, more with `recursive`): call again
  /// with the continuation until it is empty. Errors: invalid_argument (a
  /// malformed continuation), unavailable, deadline_exceeded.
  Result<PurgeProgress> purge_batch(const InstanceFilter& filter, const std::string& continuation = {},
                                    size_t batch = 500, bool recursive = false);
  /// One page of the instances matching `filter`, ordered by created time
  /// then id (by id when the filter has an id prefix); pass the page's
  /// continuation to get the next one (ClientStore::list: a page may be
  /// short, even empty, with a continuation).
  /// Errors: invalid_argument (malformed continuation), unavailable.
  Result<InstancePage> list(const InstanceFilter& filter, size_t page_size = 100,
                            const std::string& continuation = {});
  /// How many instances have each status, indexed by OrchestrationStatus
  /// number, among those created in [created_from, created_to] (an absent
  /// end is open); finished instances count until purged
  /// (ClientStore::count_by_status: one round trip, no row read).
  /// Errors: unavailable.
  Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> count_by_status(
      std::optional<store::TimePoint> created_from = std::nullopt,
      std::optional<store::TimePoint> created_to = std::nullopt);

  // --- entities ---------------------------------------------------------------
  /// Signals `operation` on an entity (one-way). Durable once this returns
  /// OK; returns the request id. Pass the same `request_id` to retry a
  /// signal whose outcome is unknown (unavailable): the entity applies it
  /// once. It remembers its last 1,000 request ids, so retry before 1,000
  /// other messages reach the same entity (on a hot entity, that can be a
  /// matter of milliseconds; a later retry may apply twice). Errors:
  /// invalid_argument (the entity id breaks a rule, empty operation, an
  /// operation or request id over 256 bytes, payload too large), unavailable.
  Result<std::string> signal_entity(const EntityId& entity, std::string operation, Payload input = {},
                                    std::string request_id = {},
                                    std::optional<orchestration::TimePoint> at = std::nullopt);
  /// Many signals in one round trip (pipelined), all durable or none.
  /// Fills in missing request ids (also when a later signal is refused: then
  /// nothing is sent). An empty span is OK at once. Errors: as signal_entity.
  Status signal_entities(std::span<EntitySignal> signals);
  /// The entity's committed state. Errors: not_found (never used, or its
  /// storage was cleaned up), invalid_argument (bad id), unavailable.
  Result<EntityState> get_entity(const EntityId& entity);
  /// Entities whose "name@key" starts with `prefix` ("counter" for every
  /// counter, "counter@c1" for keys starting with c1; names compare
  /// case-insensitively), ordered by id. Entities without state are left
  /// out unless `include_empty`. Errors: invalid_argument (page_size 0, a
  /// continuation from another listing), unavailable.
  Result<EntityStatePage> list_entities(const std::string& prefix, size_t page_size = 100,
                                        const std::string& continuation = {}, bool include_empty = false);
  /// Deletes the entity's state (a signal of the built-in "$delete"
  /// operation, in order with the entity's other messages). Returns the
  /// request id. Errors: as signal_entity.
  Result<std::string> delete_entity(const EntityId& entity, std::string request_id = {});
  /// Removes the storage of entities with no state and unlocks entities
  /// whose lock holder has finished; returns what it did. A write: not
  /// retried on unavailable.
  Result<store::EntityCleanup> clean_entity_storage();

  // --- dead letters (store/dead_letters.hpp) ---------------------------------
  /// Messages that could not be processed (undecodable ones, and those of a
  /// quarantined instance): at most `page_size`, partition by partition and
  /// newest first within one; pass the page's continuation for the next.
  /// Errors: invalid_argument (page_size 0, malformed continuation), unavailable.
  Result<store::DeadLetterPage> dead_letters(size_t page_size = 100, const std::string& continuation = {});
  /// One dead letter by its id ("<partition>-<stream id>"). Errors:
  /// invalid_argument (malformed id), not_found, unavailable.
  Result<store::DeadLetter> dead_letter(const std::string& id);
  /// Puts the message back at the end of the inbox it came from (once, even
  /// if retried twice at once). Errors: as dead_letter(), and
  /// failed_precondition for bytes that hold no message ("...; discard it").
  /// A quarantined instance is Failed: rewind it to run it again.
  Status retry_dead_letter(const std::string& id);
  /// Deletes it. Errors: as dead_letter().
  Status discard_dead_letter(const std::string& id);
  /// The hub's instances with unfinished work, by status (ClientStore::active_by_status).
  Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> active_by_status();
  /// One PING on the shared connection, without waiting for a lost one to
  /// come back: a liveness probe. Errors: unavailable.
  Status ping();
  /// Every node the hub knows, live or gone (by options' node_timeout), with
  /// what it advertises and the partitions its unexpired leases own.
  Result<std::vector<store::NodeInfo>> nodes();

 private:
  // The connections and what they share (client.cpp): kept out of this
  // header, which shows no Redis client.
  struct State;
  explicit Client(std::unique_ptr<State> state);
  Result<std::optional<InstanceRow>> get_row(const std::string& instance_id);
  Status check_payload(const Payload& payload, const char* what) const;
  Status send(const std::string& instance_id, HistoryEvent message);
  // Applies `policy` to a start of `instance_id`: true when the start is to
  // be ignored, false when it may go ahead (the id is free, finished, or its
  // instance was terminated and has ended). Errors: already_exists, and
  // those of terminate() and wait().
  Result<bool> reuse(const std::string& instance_id, const IdReusePolicy& policy);
  // start() with `options.version` as it is (no default_version): a
  // restart keeps the version the instance had, none included.
  Result<std::string> start_as_is(const std::string& name, Payload input, const StartOptions& options);

  std::unique_ptr<State> state_;
};

}  // namespace durable::client
