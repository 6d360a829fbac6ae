#pragma once
// Helpers of the instance and entity actors (actors/actor_core.hpp): taking
// inbox entries, the retry timing. Internal to actors/.

#include <caf/all.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "orchestration/history.hpp"
#include "store/rows.hpp"

namespace durable::actors {

using retry_atom = caf::atom_constant<caf::atom("retry")>;

// Most inbox entries one read takes; the rest come with the next read.
constexpr size_t kInboxBatch = 10'000;
// Back-off before reloading after a failed commit or load.
constexpr std::chrono::milliseconds kRetryDelay{200};

inline orchestration::TimePoint wall_now() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

/// Takes a read's entries and its undecodable entries merged in stream order,
/// each once: only those after `position`, which moves forward to each one
/// taken. (A read that was in flight across a reload can return entries the
/// load already took.) Each taken stream id is appended to `taken`; then
/// `good(InboxEntry&&)` or `bad(DeadLetter&&)` is called.
template <class Good, class Bad>
void take_inbox(std::string& position, std::vector<std::string>& taken, std::vector<store::InboxEntry> entries,
                std::vector<store::DeadLetter> undecodable, Good good, Bad bad) {
  auto g = entries.begin();
  auto b = undecodable.begin();
  while (g != entries.end() || b != undecodable.end()) {
    const bool take_bad = g == entries.end() || (b != undecodable.end() && store::stream_id_less(b->stream_id, g->stream_id));
    const std::string& sid = take_bad ? b->stream_id : g->stream_id;
    if (store::stream_id_less(position, sid)) {
      position = sid;
      taken.push_back(sid);
      if (take_bad) {
        bad(std::move(*b));
      } else {
        good(std::move(*g));
      }
    }
    if (take_bad) {
      ++b;
    } else {
      ++g;
    }
  }
}

}  // namespace durable::actors
