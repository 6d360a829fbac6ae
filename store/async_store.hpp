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
// Callbacks run on the reader thread, or on the caller's thread when the
// connection is down (each reply then carries unavailable); they must be
// quick and must not call back into the AsyncStore. A lost connection fails
// every request in flight with unavailable (a commit's outcome is then
// unclear: its owner reloads) and is re-established with back-off, the
// functions reloaded. A request without a reply for `timeout` counts as a
// lost connection.

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
  /// reader thread. Errors: as Store::connect.
  static Result<std::unique_ptr<AsyncStore>> open(StoreOptions options);
  ~AsyncStore();
  AsyncStore(const AsyncStore&) = delete;
  AsyncStore& operator=(const AsyncStore&) = delete;

  void commit(const EpisodeWrite& write, std::function<void(Result<uint64_t>)> done);
  void load(std::string_view id, std::function<void(Result<LoadedInstance>)> done);
  void commit(const EntityWrite& write, std::function<void(Result<uint64_t>)> done);
  void load_entity(std::string_view id, std::function<void(Result<LoadedEntity>)> done);
  void read_inbox(InboxQuery query, std::function<void(InboxRead)> done);
  void active(uint32_t partition, std::function<void(Result<std::vector<std::string>>)> done);
  void due_timers(uint32_t partition, TimePoint until, std::function<void(Result<std::vector<DueTimer>>)> done);

  using Replies = std::vector<Result<ReplyPtr>>;
  /// Any commands (one request: a Store's *_command), their replies in
  /// order to `done`. What the calls above are built on.
  void request(std::vector<std::vector<std::string>> commands, std::function<void(Replies)> done);

  /// Waits until every request sent so far has had its callback, or
  /// `timeout` passed. Returns whether none is left.
  bool drain(std::chrono::milliseconds timeout);
  /// Commits that went to Redis several to a function call so far.
  uint64_t merged_commits() const { return merged_commits_.load(); }
  /// Waits up to `timeout` for the connection to be up (it is re-established
  /// in the background after a loss). Returns whether it is.
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
