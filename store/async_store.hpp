#pragma once
// AsyncStore: the partition owner's requests (episode commits, loads, inbox
// reads, recovery and timer scans) sent from any thread without waiting for
// the reply. The caller's thread formats the commands and writes them to the
// socket at once (a non-blocking send); a reader thread of the store's own
// reads the replies in order and hands each request's to its callback.
//
// Commits that gather while replies are due go as one durable_commit_many
// call (up to 32), each under its own guard and answered alone: the
// function call's fixed cost, paid once for all of them.
//
// Why not a thread that takes requests and sends them: on this 2-core VM
// waking a sleeping thread costs 50-100 us, and an episode used to wake one
// just to reach the socket. Requests of many actors still share the
// connection back to back, so Redis reads them together (group commit).
//
// Contract of every request call (commit ... request):
//  - Thread-safe; never waits for Redis (it takes the store's lock and sends
//    what the socket takes at once).
//  - `done` is called exactly once: with the reply; or with unavailable,
//    "redis connection lost: <why>", when the connection is lost while the
//    request is in flight (a commit's outcome is then unclear: its owner
//    reloads); or with unavailable, "redis at <addr> is unreachable: <why>"
//    ("the store is closing" once destruction began), inline before the call
//    returns, when the connection is down at the call. A request whose reply
//    takes longer than the store timeout (noticed within ~100 ms) counts as
//    a lost connection: every request in flight gets unavailable, not
//    deadline_exceeded. Redis error replies map as error_reply_status does.
//  - `done` runs on the reader thread, or inline on the caller's thread
//    when the connection is down or the request has no commands. It must be quick, must not throw, and must not call
//    back into the AsyncStore (drain/connected would wait their full timeout;
//    destroying the store there is fatal).
//  - Order: requests go out in the order their calls took the lock (held
//    commits keep their place) and, while the connection lasts, their
//    callbacks run in that order. Around a lost connection an inline failure
//    may run before the failures of older requests in flight, and a request
//    with no commands is answered before older ones.
// A lost connection is re-established by the reader thread with back-off
// (10 ms doubling to 1 s), the functions reloaded.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"

struct redisReader;

namespace durable::store {

class AsyncStore {
 public:
  /// Connects (and loads the functions) like Store::connect, then starts the
  /// reader thread. Blocks for the handshake (up to options.timeout per
  /// step). Errors: as Store::connect (unavailable, deadline_exceeded,
  /// invalid_argument for a rejected password); internal (no eventfd).
  static Result<std::unique_ptr<AsyncStore>> open(StoreOptions options);
  /// Waits for the replies of the requests in flight (up to the store
  /// timeout), fails any left with unavailable, and stops the reader: every
  /// callback has run when it returns. REQUIRES: no call runs alongside it,
  /// and not on the reader thread (a callback).
  ~AsyncStore();
  AsyncStore(const AsyncStore&) = delete;
  AsyncStore& operator=(const AsyncStore&) = delete;

  /// A fenced commit (Store::episode_commit / entity_commit). `done` gets the
  /// new version, or lease_lost (fenced: the partition has a newer owner),
  /// failed_precondition (the version moved on), unavailable (unknown outcome).
  /// Held and merged with others while replies are due (see above).
  void commit(const EpisodeWrite& write, std::function<void(Result<uint64_t>)> done);
  /// As Store::load (row, history and inbox), in one round trip.
  void load(std::string_view id, std::function<void(Result<LoadedInstance>)> done);
  void commit(const EntityWrite& write, std::function<void(Result<uint64_t>)> done);
  void load_entity(std::string_view id, std::function<void(Result<LoadedEntity>)> done);
  /// As Store::read_inbox; the error, if any, is in InboxRead::entries.
  void read_inbox(InboxQuery query, std::function<void(InboxRead)> done);
  /// The partition's active instances, and its timers due by `until`.
  void active(uint32_t partition, std::function<void(Result<std::vector<std::string>>)> done);
  void due_timers(uint32_t partition, TimePoint until, std::function<void(Result<std::vector<DueTimer>>)> done);

  using Replies = std::vector<Result<ReplyPtr>>;
  /// Any commands (one request: a Store's *_command); `done` gets exactly
  /// one reply or error per command, in order. What the calls above are built
  /// on. No commands: `done` gets no replies at once, on the caller's thread
  /// (before the replies of requests still in flight).
  void request(std::vector<std::vector<std::string>> commands, std::function<void(Replies)> done);

  /// Blocks until no request has a callback still to run or running
  /// (requests made meanwhile count too), or `timeout` passed. Returns
  /// whether none is left. Thread-safe; not from a callback.
  bool drain(std::chrono::milliseconds timeout);
  /// Commits that went to Redis several to a function call so far.
  /// Thread-safe, no wait.
  uint64_t merged_commits() const { return merged_commits_.load(); }
  /// Blocks up to `timeout` for the connection to be up (the reader thread
  /// re-establishes it after a loss). Returns whether it is; false once
  /// destruction began. Thread-safe; not from a callback.
  bool connected(std::chrono::milliseconds timeout);

 private:
  struct Request {
    size_t expected;  // replies
    Replies replies;
    std::function<void(Replies)> done;
    std::chrono::steady_clock::time_point sent;
  };

  struct PendingCommit {
    std::vector<std::string> argv;
    std::function<void(Result<uint64_t>)> done;
  };

  explicit AsyncStore(Store store);
  // A commit: sent at once when nothing is due, else held until the replies
  // due come back and then sent with the others held, several to a call.
  void send_commit(std::vector<std::string> argv, std::function<void(Result<uint64_t>)> done);
  // Turns the held commits into calls in out_. REQUIRES: mu_ held.
  void merge_pending_locked();
  // Writes what it can of out_ without blocking. REQUIRES: mu_ held.
  void flush_locked();
  void reader_loop();
  // Reads what the socket has and completes the requests it answers.
  void read_replies();
  // Drops the connection: every request in flight gets unavailable.
  void fail(const std::string& why, bool log = true);
  // Runs the callbacks of answered requests.
  void finish(std::vector<Request>& requests);
  void reconnect();
  void wake_reader();

  Store store_;  // the handshake, the commands and parsers; no I/O after open
  const std::chrono::milliseconds timeout_;
  redisReader* parser_ = nullptr;  // reader thread only
  int wake_fd_ = -1;               // eventfd: out_ has bytes, or stopping

  std::mutex mu_;
  std::condition_variable drained_;  // also: the connection is back, or stopping
  int fd_ = -1;  // -1 while the connection is down
  std::string out_;
  std::deque<Request> in_flight_;
  std::vector<PendingCommit> pending_commits_;  // in arrival order, before out_'s next bytes
  size_t unfinished_ = 0;  // requests whose callback has not returned
  std::string down_reason_;
  bool stopping_ = false;
  std::atomic<uint64_t> merged_commits_{0};
  std::thread reader_;
};

}  // namespace durable::store
