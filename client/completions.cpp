#include "client/completions.hpp"

#include <sys/socket.h>

#include <algorithm>

#include "base/log.hpp"
#include "store/client_store.hpp"
#include "store/store.hpp"

namespace durable::client {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long the reader keeps its place after the last subscriber left, so
// that waits one after another need no round trip to find it again.
constexpr auto kQuiet = 10s;
constexpr auto kFirstRetry = 10ms;
constexpr auto kMaxRetry = 1s;

}  // namespace

// ------------------------------------------------------------------ Subscription

bool Subscription::wait_until(Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return woken_; })) return false;
  woken_ = false;
  return true;
}

void Subscription::wake(const store::InstanceRow* row) {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
    if (row) row_ = *row;
  }
  cv_.notify_one();
  if (notify_) notify_();
}

std::optional<store::InstanceRow> Subscription::take_row() {
  std::lock_guard lock(mu_);
  return std::exchange(row_, std::nullopt);
}

void Completions::finished(const store::InstanceRow& row) {
  std::lock_guard lock(mu_);
  auto [first, last] = subscribers_.equal_range(row.id);
  for (auto it = first; it != last; ++it) it->second->wake(&row);
}

// ------------------------------------------------------------------ Completions

Completions::Completions(store::StoreOptions options) : options_(std::move(options)) {
  reader_ = std::thread([this] { reader_loop(); });
}

Completions::~Completions() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // cuts a blocked XREAD short
    wake_all_locked();
  }
  changed_.notify_all();
  reader_.join();
}

Result<Completions::SubscriptionPtr> Completions::subscribe(const std::string& id, std::function<void()> notify) {
  auto subscription = std::make_shared<Subscription>();
  subscription->notify_ = std::move(notify);
  std::unique_lock lock(mu_);
  subscribers_.emplace(id, subscription);
  last_subscriber_ = Clock::now();
  changed_.notify_all();
  // A second failed attempt in a row means Redis is down: the first may
  // only have found a connection that broke while the reader was quiet.
  const uint64_t attempts = attempts_;
  changed_.wait_for(lock, options_.timeout, [&] { return positioned_ || stopping_ || attempts_ >= attempts + 2; });
  if (positioned_) return subscription;
  const std::string why = stopping_ ? "the client is closing" : failure_.empty() ? "no answer" : failure_;
  lock.unlock();
  unsubscribe(id, subscription);
  return Status(Errc::unavailable,
                "cannot wait for instance '" + id + "': redis at " + options_.address.to_string() + ": " + why);
}

void Completions::unsubscribe(const std::string& id, const Completions::SubscriptionPtr& subscription) {
  std::lock_guard lock(mu_);
  auto [first, last] = subscribers_.equal_range(id);
  for (auto it = first; it != last; ++it) {
    if (it->second == subscription) {
      subscribers_.erase(it);
      break;
    }
  }
  last_subscriber_ = Clock::now();
}

void Completions::wake_all_locked() {
  for (auto& [id, subscription] : subscribers_) subscription->wake();
}

// ------------------------------------------------------------------ the reader

void Completions::reader_loop() {
  std::optional<store::Store> store;
  std::vector<store::WakeCursor> cursors;
  auto delay = std::chrono::milliseconds(kFirstRetry);
  // Blocks well inside the socket timeout.
  const auto block = std::min<std::chrono::milliseconds>(1000ms, options_.timeout / 2);
  bool logged_failure = false;
  bool lost_place = false;  // a read failed: notices may have gone by unseen
  for (;;) {
    bool positioned;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (stopping_) return;
        if (!subscribers_.empty()) break;
        if (positioned_ && Clock::now() < last_subscriber_ + kQuiet) break;
        positioned_ = false;  // quiet: the next subscriber finds the place anew
        changed_.wait(lock);
      }
      positioned = positioned_;
    }
    std::string failure;
    if (!positioned) {
      // Find the place: connect if need be, then every stream's last id.
      if (!store) {
        auto connected = store::Store::connect(options_);
        if (connected) {
          store.emplace(std::move(*connected));
        } else {
          failure = connected.status().message();
        }
      } else if (store->broken()) {
        if (Status s = store->reconnect(); !s) failure = s.message();
      }
      if (failure.empty()) {
        auto positions = store::ClientStore(*store).done_positions();
        if (positions) {
          cursors.clear();
          for (uint32_t p = 0; p < positions->size(); ++p) cursors.push_back({p, std::move((*positions)[p])});
          std::lock_guard lock(mu_);
          positioned_ = true;
          fd_ = store->connection().fd();
          ++attempts_;
          failure_.clear();
          // Notices may have gone by while the place was lost: look again.
          // (Subscribers that came while the reader was quiet have not
          // looked yet: no wake for them.)
          if (lost_place) wake_all_locked();
          lost_place = false;
          changed_.notify_all();
          delay = kFirstRetry;
          if (logged_failure) durable::logger("client")->info("completion notices: following them again");
          logged_failure = false;
          continue;
        }
        failure = positions.status().message();
      }
    } else {
      auto notices = store::ClientStore(*store).read_done(cursors, block);
      if (notices) {
        std::lock_guard lock(mu_);
        for (const store::WakeNotice& n : *notices) {
          auto [first, last] = subscribers_.equal_range(n.instance_id);
          for (auto it = first; it != last; ++it) it->second->wake();
        }
        continue;
      }
      failure = notices.status().message();
    }
    // Lost: the subscribers learn of it, the reader retries with back-off.
    lost_place = true;
    std::unique_lock lock(mu_);
    if (stopping_) return;
    positioned_ = false;
    fd_ = -1;
    failure_ = failure;
    ++attempts_;
    changed_.notify_all();
    if (!logged_failure) durable::logger("client")->warn("completion notices: {} (retrying)", failure);
    logged_failure = true;
    changed_.wait_for(lock, delay, [&] { return stopping_; });
    delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetry);
  }
}

}  // namespace durable::client
