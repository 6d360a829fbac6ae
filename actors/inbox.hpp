#pragma once
// Taking inbox entries, shared by the instance and entity actors.

#include <string>
#include <vector>

#include "store/store.hpp"

namespace durable::actors {

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
