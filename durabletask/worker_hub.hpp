#pragma once
// WorkerHub: the work items of the Durable Task protocol between the node
// and the workers connected to it (GetWorkItems streams). No gRPC here: a
// stream is whatever implements Stream.
//
// The rules it keeps:
//  - an item waits in a queue (first in, first out, per kind) until a
//    worker has room for it: at most Limits of each kind are out to one
//    worker at a time (unanswered), so a fan-out of 1,000 does not start
//    1,000 timeouts at once;
//  - a worker that sent filters gets only the names it listed for a kind
//    it listed anything for; the others get every name;
//  - each hand-out has its own completion token; completing or abandoning
//    it ends the hand-out, and an unknown token (answered already, handed
//    out again, withdrawn) is refused, so nothing is answered twice;
//  - an item out to a worker that disconnects, or that the worker has not
//    answered within Options::worker_timeout, goes back to the front of
//    the queue, for another worker (or the same one, if it is the only one);
//  - at most one orchestrator item per instance, and one entity item per
//    entity: a new one replaces the one queued or out for that instance
//    (whose token then is refused).
//
// Thread-safe. Stream::send is called without the hub's lock held, but may
// race with the stream's disconnect(): a stream must drop what it is sent
// after it disconnected (the hub has put it back in the queue).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>

#include "base/status.hpp"
#include "durabletask/orchestrator_service.pb.h"

namespace durable::durabletask {

class WorkerHub {
 public:
  enum Kind : uint8_t { kOrchestrator = 0, kActivity = 1, kEntity = 2 };
  static constexpr size_t kKinds = 3;

  struct Options {
    /// An item a worker has not answered after this long goes to another.
    std::chrono::milliseconds worker_timeout{std::chrono::minutes(5)};
    /// Items of each kind out to one worker at a time, unless its request
    /// says otherwise (GetWorkItemsRequest's maxConcurrent* fields).
    size_t default_limit = 100;
  };

  /// A connected worker's stream.
  class Stream {
   public:
    virtual ~Stream() = default;
    /// Writes the item (completion token set) to the worker. Must not call
    /// into the hub.
    virtual void send(std::shared_ptr<const ::WorkItem> item) = 0;
  };

  using OrchestratorDone = std::function<void(const ::OrchestratorResponse&)>;
  using ActivityDone = std::function<void(const ::ActivityResponse&)>;
  using EntityDone = std::function<void(const ::EntityBatchResult&)>;

  explicit WorkerHub(Options options);
  /// stop().
  ~WorkerHub();
  WorkerHub(const WorkerHub&) = delete;
  WorkerHub& operator=(const WorkerHub&) = delete;

  /// Ends the timeout thread and drops every item (no answer is called).
  /// Later submits are dropped. Idempotent.
  void stop();

  /// Registers a worker's stream, with the limits and filters of its
  /// request. `stream` must stay valid until disconnect(worker) returns.
  /// Returns the worker's id.
  uint64_t connect(Stream* stream, const ::GetWorkItemsRequest& request);
  /// The worker's stream ended: what it had out goes back to the queue.
  void disconnect(uint64_t worker);

  /// Queues an orchestrator item for `instance_id`, replacing any item of
  /// that instance queued or out. `done` is called at most once, from the
  /// thread that completes it.
  void submit_orchestrator(const std::string& instance_id, const std::string& name, ::OrchestratorRequest request,
                           OrchestratorDone done);
  /// Drops the orchestrator item of `instance_id`, queued or out (its token
  /// is refused from now on).
  void withdraw_orchestrator(const std::string& instance_id);
  void submit_activity(::ActivityRequest request, ActivityDone done);
  /// Queues an entity item (a batch of operations) for the entity
  /// `request.instanceid()` ("@name@key"; workers' filters match the name),
  /// replacing any item of that entity queued or out. `done` is called at
  /// most once, from the thread that completes it.
  void submit_entity(::EntityBatchRequest request, EntityDone done);
  /// Drops the entity item of `instance_id`, queued or out (its token is
  /// refused from now on).
  void withdraw_entity(const std::string& instance_id);

  /// A worker's answers, matched by their completion token (or, for SDKs
  /// that send none, by the instance and task id). Errors: not_found,
  /// naming the token, when the
  /// token is not out (unknown, answered already, timed out and handed out
  /// again, withdrawn); invalid_argument when it is out but for another
  /// kind of item.
  Status complete_orchestrator(const ::OrchestratorResponse& response);
  Status complete_activity(const ::ActivityResponse& response);
  /// An entity answer carries no instance: it must carry its token.
  Status complete_entity(const ::EntityBatchResult& result);
  /// The worker gives the item back: it goes to the front of the queue.
  /// Errors: as complete_*.
  Status abandon(const std::string& token, Kind kind);

  /// Workers connected now.
  size_t workers() const;
  /// Whether a connected worker takes items of `kind` named `name` (its
  /// filters list the name, or it sent none for that kind).
  bool serves(Kind kind, const std::string& name) const;
  /// Items waiting for a worker, and out to one.
  size_t queued() const;
  size_t out() const;

 private:
  struct Item {
    Kind kind = kOrchestrator;
    std::string name;      // for the workers' filters
    std::string instance;  // orchestrator and entity items: the instance
    std::shared_ptr<::WorkItem> work;
    std::variant<OrchestratorDone, ActivityDone, EntityDone> done;
    uint64_t worker = 0;  // 0: queued
    std::string token;    // of the current hand-out
    std::chrono::steady_clock::time_point deadline{};
  };
  struct Worker {
    Stream* stream = nullptr;
    std::array<size_t, kKinds> limit{};
    std::array<size_t, kKinds> out{};
    // Per kind: the names it takes; empty: every name.
    std::array<std::set<std::string>, kKinds> names;
  };
  using Send = std::pair<Stream*, std::shared_ptr<const ::WorkItem>>;
  // What to write to the streams, and a hold that keeps each stream from
  // being disconnected (and destroyed) until it is written.
  struct Sends {
    std::vector<Send> items;
    std::shared_lock<std::shared_mutex> hold;
  };

  void submit(std::shared_ptr<Item> item);
  void withdraw(const std::string& instance_id, Kind kind);
  // Whether items of this kind are one per instance (by_instance_).
  static bool per_instance(Kind kind) { return kind != kActivity; }
  // Takes the item out of the hub (queue, worker, token, instance).
  void remove(const std::shared_ptr<Item>& item);
  // Ends the item's hand-out and queues it again, first in line.
  void requeue(const std::shared_ptr<Item>& item);
  // Hands queued items to workers with room; returns what to send.
  // REQUIRES: mu_ held.
  Sends assign();
  bool takes(const Worker& w, const Item& item) const;
  // The token of what is out for an instance, or for one of its
  // activities (for answers that carry none); empty when nothing is out.
  std::string token_of_instance(const std::string& instance_id) const;
  std::string token_of_task(const std::string& instance_id, int32_t task_id) const;
  std::shared_ptr<Item> take_token(const std::string& token, Kind kind, Status& error);
  void watch();
  static void deliver(Sends sends);

  const Options options_;
  mutable std::mutex mu_;
  // Taken shared (under mu_) by whoever writes to streams, exclusively (not
  // under mu_) by disconnect() before it returns.
  std::shared_mutex deliver_mu_;
  std::condition_variable wake_;
  bool stopped_ = false;
  uint64_t next_worker_ = 1;
  uint64_t next_token_ = 1;
  const std::string token_prefix_;  // this hub's, so a token from a previous process is refused
  std::unordered_map<uint64_t, Worker> workers_;
  std::array<std::deque<std::shared_ptr<Item>>, kKinds> queues_;
  std::unordered_map<std::string, std::shared_ptr<Item>> by_token_;
  // Orchestrator and entity items (entity ids start with '@', which
  // orchestration ids may not: they never collide).
  std::unordered_map<std::string, std::shared_ptr<Item>> by_instance_;
  size_t out_ = 0;
  std::thread watchdog_;
};

}  // namespace durable::durabletask
