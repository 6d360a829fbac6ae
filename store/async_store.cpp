#include "store/async_store.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.hpp"

namespace durable::store {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How many times the reader looks for a lone reply that is due before it
// sleeps (a lone request waits for it; with more in flight, replies come
// back to back anyway).
constexpr int kSpins = 50;
// How long the reader sleeps in poll() with nothing to do: the bound on
// noticing a request that has waited past the timeout.
constexpr int kPollMs = 100;
constexpr auto kFirstRetry = 10ms;
// Most commits in one durable_commit_many call (a call is one Lua run: a
// long one would hold up lease renewals), and the largest commit that is
// merged (a big one goes alone).
constexpr size_t kMaxMerged = 32;
constexpr size_t kMaxMergedArgs = 1000;
constexpr auto kMaxRetry = 1s;

// RESP: *<n>\r\n then $<len>\r\n<bytes>\r\n per argument (binary safe).
void append_command(std::string& out, const std::vector<std::string>& argv) {
  out += '*';
  out += std::to_string(argv.size());
  out += "\r\n";
  for (const std::string& a : argv) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
}

Result<ReplyPtr> to_result(redisReply* raw) {
  ReplyPtr reply(raw);
  if (reply->type == REDIS_REPLY_ERROR) return error_reply_status(std::string_view(reply->str, reply->len));
  return reply;
}

}  // namespace

Result<std::unique_ptr<AsyncStore>> AsyncStore::open(StoreOptions options) {
  auto store = Store::connect(std::move(options));
  if (!store) return store.status();
  std::unique_ptr<AsyncStore> self(new AsyncStore(std::move(*store)));
  self->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (self->wake_fd_ < 0) return Status::internal(std::string("eventfd: ") + std::strerror(errno));
  self->parser_ = redisReaderCreate();
  self->fd_ = self->store_.connection().fd();
  self->reader_ = std::thread([s = self.get()] { s->reader_loop(); });
  return self;
}

AsyncStore::AsyncStore(Store store) : store_(std::move(store)), timeout_(store_.options().timeout) {}

AsyncStore::~AsyncStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  drained_.notify_all();  // a reconnect back-off waits on it
  wake_reader();
  if (reader_.joinable()) reader_.join();
  fail("the store is closing", /*log=*/false);
  if (parser_) redisReaderFree(parser_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

// ------------------------------------------------------------------ requests

void AsyncStore::commit(const EpisodeWrite& write, std::function<void(Result<uint64_t>)> done) {
  send_commit(store_.commands().episode_commit(write).argv(), std::move(done));
}

void AsyncStore::load(std::string_view id, std::function<void(Result<LoadedInstance>)> done) {
  request(store_.commands().load_commands(id), [id = std::string(id), done = std::move(done)](Replies replies) {
    done(Commands::parse_load(id, replies));
  });
}

void AsyncStore::commit(const EntityWrite& write, std::function<void(Result<uint64_t>)> done) {
  send_commit(store_.commands().entity_commit(write).argv(), std::move(done));
}

void AsyncStore::load_entity(std::string_view id, std::function<void(Result<LoadedEntity>)> done) {
  request(store_.commands().entity_load_commands(id), [id = std::string(id), done = std::move(done)](Replies replies) {
    done(Commands::parse_entity_load(id, replies));
  });
}

void AsyncStore::read_inbox(InboxQuery query, std::function<void(InboxRead)> done) {
  auto command = store_.commands().inbox_command(query);
  request({std::move(command)}, [query = std::move(query), done = std::move(done)](Replies replies) {
    done(Commands::parse_inbox(query, replies[0]));
  });
}

void AsyncStore::active(uint32_t partition, std::function<void(Result<std::vector<std::string>>)> done) {
  request({store_.commands().active_command(partition)},
       [done = std::move(done)](Replies replies) { done(Commands::parse_active(replies[0])); });
}

void AsyncStore::due_timers(uint32_t partition, TimePoint until,
                            std::function<void(Result<std::vector<DueTimer>>)> done) {
  request({store_.commands().due_timers_command(partition, until)},
       [done = std::move(done)](Replies replies) { done(Commands::parse_due_timers(replies[0])); });
}

bool AsyncStore::drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return drained_.wait_for(lock, timeout, [&] { return unfinished_ == 0; });
}

bool AsyncStore::connected(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return drained_.wait_for(lock, timeout, [&] { return fd_ >= 0 || stopping_; }) && fd_ >= 0 && !stopping_;
}

// ------------------------------------------------------------------ sending

void AsyncStore::send_commit(std::vector<std::string> argv, std::function<void(Result<uint64_t>)> done) {
  {
    std::lock_guard lock(mu_);
    const bool replies_due = !in_flight_.empty() || !out_.empty();
    if (fd_ >= 0 && !stopping_ && replies_due && argv.size() <= kMaxMergedArgs) {
      pending_commits_.push_back({std::move(argv), std::move(done)});
      ++unfinished_;
      return;
    }
  }
  request({std::move(argv)}, [done = std::move(done)](Replies replies) { done(Commit::parse_reply(replies[0])); });
}

void AsyncStore::merge_pending_locked() {
  for (size_t first = 0; first < pending_commits_.size(); first += kMaxMerged) {
    const size_t n = std::min(kMaxMerged, pending_commits_.size() - first);
    auto group = pending_commits_.begin() + static_cast<std::ptrdiff_t>(first);
    if (n == 1) {
      append_command(out_, group->argv);
      in_flight_.push_back({1, {}, [done = std::move(group->done)](Replies r) { done(Commit::parse_reply(r[0])); },
                            Clock::now()});
      continue;
    }
    std::vector<std::vector<std::string>> argvs;
    std::vector<std::function<void(Result<uint64_t>)>> dones;
    for (size_t i = 0; i < n; ++i, ++group) {
      argvs.push_back(std::move(group->argv));
      dones.push_back(std::move(group->done));
    }
    append_command(out_, Commit::merge(std::move(argvs)));
    in_flight_.push_back({1, {},
                          [dones = std::move(dones)](Replies r) {
                            auto results = Commit::parse_many_reply(r[0], dones.size());
                            for (size_t i = 0; i < dones.size(); ++i) dones[i](std::move(results[i]));
                          },
                          Clock::now()});
    unfinished_ -= n - 1;  // n commits, one request
    merged_commits_ += n;
  }
  pending_commits_.clear();
}

void AsyncStore::request(std::vector<std::vector<std::string>> commands, std::function<void(Replies)> done) {
  if (commands.empty()) return done({});  // nothing to send: no reply would ever come
  std::unique_lock lock(mu_);
  merge_pending_locked();  // held commits keep their place before this
  if (fd_ < 0 || stopping_) {
    const Status down = Status(Errc::unavailable, "redis at " + store_.connection().address().to_string() +
                                            " is unreachable: " + (stopping_ ? "the store is closing" : down_reason_));
    lock.unlock();
    Replies replies;
    for (size_t i = 0; i < commands.size(); ++i) replies.emplace_back(down);
    done(std::move(replies));
    return;
  }
  // With replies due, the reader writes what gathers until they come, in
  // one go (group commit); an idle connection sends at once (latency).
  const bool replies_due = !in_flight_.empty();
  const bool was_empty = out_.empty();
  for (const auto& argv : commands) append_command(out_, argv);
  in_flight_.push_back({commands.size(), {}, std::move(done), Clock::now()});
  ++unfinished_;
  if (replies_due || !was_empty) return;
  flush_locked();
  // Bytes left (the socket is full): the reader writes them when it can.
  if (!out_.empty()) wake_reader();
}

void AsyncStore::flush_locked() {
  merge_pending_locked();
  size_t written = 0;
  while (written < out_.size() && fd_ >= 0) {
    const ssize_t n = ::send(fd_, out_.data() + written, out_.size() - written, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      // EAGAIN: the rest waits for POLLOUT; an error shows up as the
      // reader's POLLERR/EOF, which fails the connection there.
      break;
    }
  }
  out_.erase(0, written);
}

void AsyncStore::wake_reader() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

// ------------------------------------------------------------------ the reader thread

void AsyncStore::reader_loop() {
  for (;;) {
    int fd;
    bool want_write;
    bool lone_reply_due;
    {
      std::lock_guard lock(mu_);
      if (stopping_ && (in_flight_.empty() || fd_ < 0)) return;
      fd = fd_;
      want_write = !out_.empty();
      lone_reply_due = in_flight_.size() == 1;
      if (fd >= 0 && !in_flight_.empty() && Clock::now() - in_flight_.front().sent > timeout_) {
        fd = -2;  // timed out: handled below, outside the lock
      }
    }
    if (fd == -2) {
      fail("no reply within " + std::to_string(timeout_.count()) + " ms");
      continue;
    }
    if (fd < 0) {
      reconnect();
      continue;
    }
    pollfd fds[2] = {{fd, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0}, {wake_fd_, POLLIN, 0}};
    int ready = 0;
    for (int i = 0; lone_reply_due && i < kSpins && ready == 0; ++i) {
      ready = ::poll(fds, 2, 0);
      if (ready == 0) std::this_thread::yield();
    }
    if (ready == 0 && ::poll(fds, 2, kPollMs) < 0 && errno != EINTR) {
      fail(std::string("poll: ") + std::strerror(errno));
      continue;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t count;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
    }
    if (fds[0].revents & POLLOUT) {
      std::lock_guard lock(mu_);
      flush_locked();
    }
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) read_replies();
  }
}

void AsyncStore::read_replies() {
  char buf[64 * 1024];
  const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) return fail("the server closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return fail(std::string("recv: ") + std::strerror(errno));
  }
  std::string broken;
  std::vector<Request> complete;
  if (redisReaderFeed(parser_, buf, static_cast<size_t>(n)) != REDIS_OK) broken = parser_->errstr;
  while (broken.empty()) {
    void* raw = nullptr;
    if (redisReaderGetReply(parser_, &raw) != REDIS_OK) {
      broken = parser_->errstr;
      break;
    }
    if (!raw) break;
    std::lock_guard lock(mu_);
    if (in_flight_.empty()) {  // cannot happen: Redis answers what it was sent
      freeReplyObject(raw);
      continue;
    }
    Request& front = in_flight_.front();
    front.replies.push_back(to_result(static_cast<redisReply*>(raw)));
    if (front.replies.size() == front.expected) {
      complete.push_back(std::move(front));
      in_flight_.pop_front();
    }
  }
  if (broken.empty()) {
    std::lock_guard lock(mu_);
    flush_locked();  // what gathered while these replies were due
  }
  finish(complete);
  if (!broken.empty()) fail("bad reply: " + broken);
}

void AsyncStore::finish(std::vector<Request>& requests) {
  for (Request& r : requests) r.done(std::move(r.replies));
  std::lock_guard lock(mu_);
  unfinished_ -= requests.size();
  if (unfinished_ == 0) drained_.notify_all();
}

void AsyncStore::fail(const std::string& why, bool log) {
  std::vector<Request> lost;
  std::vector<PendingCommit> held;  // never sent
  {
    std::lock_guard lock(mu_);
    if (fd_ >= 0 && log) durable::logger("store")->warn("redis connection lost: {}", why);
    fd_ = -1;
    down_reason_ = why;
    out_.clear();
    lost.assign(std::make_move_iterator(in_flight_.begin()), std::make_move_iterator(in_flight_.end()));
    in_flight_.clear();
    held.swap(pending_commits_);
  }
  if (parser_) {
    redisReaderFree(parser_);
    parser_ = redisReaderCreate();
  }
  const Status status(Errc::unavailable, "redis connection lost: " + why);
  for (Request& r : lost) {
    while (r.replies.size() < r.expected) r.replies.emplace_back(status);
  }
  finish(lost);
  for (PendingCommit& c : held) c.done(status);
  if (!held.empty()) {
    std::lock_guard lock(mu_);
    unfinished_ -= held.size();
    if (unfinished_ == 0) drained_.notify_all();
  }
}

// Re-establishes the connection with back-off; returns when connected or
// stopping.
void AsyncStore::reconnect() {
  auto log = durable::logger("store");
  auto delay = kFirstRetry;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    // The socket is only ours again once the handshake is done.
    Status s = store_.reconnect();
    if (s) {
      std::lock_guard lock(mu_);
      fd_ = store_.connection().fd();
      log->info("reconnected to redis at {}", store_.connection().address().to_string());
      drained_.notify_all();  // connected() waiters
      return;
    }
    log->debug("reconnect to redis at {} failed: {}", store_.connection().address().to_string(), s.message());
    std::unique_lock lock(mu_);
    drained_.wait_for(lock, delay, [&] { return stopping_; });
    delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetry);
  }
}

}  // namespace durable::store
