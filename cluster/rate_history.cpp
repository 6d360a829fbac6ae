#include "cluster/rate_history.hpp"

#include <algorithm>

namespace durable::cluster {
namespace {

// How much a counter grew from `before` to `after`; a lower `after` means
// the counter restarted from zero, so all of it is new.
uint64_t increase(uint64_t before, uint64_t after) { return after >= before ? after - before : after; }

}  // namespace

RateHistory::RateHistory(std::chrono::milliseconds interval, size_t points)
    : interval_(interval), points_(std::clamp<size_t>(points, 1, kMaxPoints)) {}

bool RateHistory::due(std::chrono::steady_clock::time_point now) const {
  return samples_.empty() || now - samples_.back().at >= interval_;
}

void RateHistory::add(const RateSample& sample) {
  if (!samples_.empty() && sample.at <= samples_.back().at) return;
  samples_.push_back(sample);
  while (samples_.size() > points_ + 1) samples_.pop_front();
}

store::NodeRates RateHistory::rates() const {
  store::NodeRates out;
  out.interval = interval_;
  if (!samples_.empty()) out.until = samples_.back().wall;
  for (size_t i = 1; i < samples_.size(); ++i) {
    const RateSample& a = samples_[i - 1];
    const RateSample& b = samples_[i];
    const double seconds = std::chrono::duration<double>(b.at - a.at).count();
    out.episodes.push_back(static_cast<double>(increase(a.episodes, b.episodes)) / seconds);
    out.activities.push_back(static_cast<double>(increase(a.activities, b.activities)) / seconds);
    out.entity_operations.push_back(static_cast<double>(increase(a.entity_operations, b.entity_operations)) / seconds);
    // The count and the sum restart together (one Counters): take both
    // anew when either went down.
    const bool restarted = b.commits < a.commits || b.commit_us < a.commit_us;
    const uint64_t commits = restarted ? b.commits : b.commits - a.commits;
    const uint64_t us = restarted ? b.commit_us : b.commit_us - a.commit_us;
    out.commit_latency_ms.push_back(commits == 0 ? std::nullopt
                                                 : std::optional<double>(static_cast<double>(us) / 1000.0 /
                                                                         static_cast<double>(commits)));
  }
  return out;
}

}  // namespace durable::cluster
