#pragma once
// What PeerEpisodes and PeerBatches both keep in the node actor: the
// executors of what this node runs for peers on its SDK workers (one per
// instance or entity, the least recently used dropped past a cap), and the
// delivery of a peer's answer to what is still waiting for it. Node actor
// thread only.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/log.hpp"

namespace durable::actors {

/// Executors kept per key (an instance or entity id), each made for one
/// function name; at most `cap` of them.
template <class Executor>
class HostedExecutors {
 public:
  explicit HostedExecutors(size_t cap) : cap_(cap) {}

  /// The executor of `key`, made by `make(name)` when there is none or the
  /// one there was made for another name. Past the cap, the one used
  /// longest ago goes (its item, if still out, is withdrawn: its owner hands
  /// the work out again after its timeout). Throws std::runtime_error when
  /// `make` gives none ("no executor for the peer's <what> '<name>'").
  template <class Make>
  Executor& get(const std::string& key, const std::string& name, std::string_view what, Make make) {
    const uint64_t use = ++uses_;
    auto it = hosted_.find(key);
    if (it == hosted_.end() || it->second.name != name) {
      if (it == hosted_.end() && hosted_.size() >= cap_) {
        hosted_.erase(std::min_element(hosted_.begin(), hosted_.end(), [](const auto& a, const auto& b) {
          return a.second.last_use < b.second.last_use;
        }));
      }
      std::unique_ptr<Executor> executor = make(name);
      if (!executor) throw std::runtime_error("no executor for the peer's " + std::string(what) + " '" + name + "'");
      it = hosted_.insert_or_assign(key, Hosted{name, std::move(executor), use}).first;
    }
    it->second.last_use = use;
    return *it->second.executor;
  }

 private:
  struct Hosted {
    std::string name;
    std::unique_ptr<Executor> executor;
    uint64_t last_use = 0;
  };
  const size_t cap_;
  std::unordered_map<std::string, Hosted> hosted_;
  uint64_t uses_ = 0;
};

/// Hands a peer's answer to the request `pending` still holds under its
/// sequence number (nothing when it was forgotten, or its peer went down):
/// `decode(answer)` gives a Result, whose value goes to the request's
/// `answer`; one that cannot be decoded is logged, naming `what`.
template <class Pending, class Wire, class Decode>
void deliver_answer(std::map<uint64_t, Pending>& pending, Wire& answer, Decode decode, std::string_view what) {
  auto it = pending.find(answer.seq);
  if (it == pending.end()) return;
  Pending p = std::move(it->second);
  pending.erase(it);
  auto result = decode(answer);
  if (!result) {
    durable::logger("node")->error("a peer's {} answer cannot be decoded: {}", what, result.status().to_string());
    return;
  }
  p.answer(std::move(*result));
}

}  // namespace durable::actors
