// The client's side of durable entities: the fast path for signals,
// queries and clean-up.
#include <algorithm>

#include "store/client_store.hpp"
#include "store/reply.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;
using entities::EntitySnapshot;

// How long a cleaned-up entity's request ids are kept.
constexpr std::chrono::seconds kCleanedRequestIdsTtl{3600};

}  // namespace

Status ClientStore::send_messages(std::span<const OutboundMessage> messages) {
  return Commands::parse_messages(store_.run(store_.commands().messages_commands(messages)));
}

Result<std::optional<EntityRecord>> ClientStore::get_entity(std::string_view id) {
  return Commands::parse_entity(id, store_.run(store_.commands().entity_command(id)));
}

Result<EntityPage> ClientStore::list_entities(std::string_view id_prefix, size_t page_size, std::string_view continuation,
                                        bool include_empty) {
  if (page_size == 0) return Status::invalid_argument("page size must be at least 1");
  // Every partition's index holds its ids in order: take the next ids from
  // each, merge, keep the first page_size that pass the filter.
  const std::string from = continuation.empty() ? "[" + std::string(id_prefix) : "(" + std::string(continuation);
  if (!continuation.empty() && !continuation.starts_with(id_prefix)) {
    return Status::invalid_argument("continuation token does not belong to this listing");
  }
  const std::string to = "[" + std::string(id_prefix) + "\xff";
  EntityPage page;
  std::string after = from;
  for (;;) {
    Pipeline ids(store_.connection());
    const std::string count = std::to_string(page_size + 1);
    for (uint32_t p = 0; p < store_.partitions(); ++p) {
      ids.add("ZRANGEBYLEX", store_.keys().entities(p), after, to, "LIMIT", "0", count);
    }
    std::vector<std::string> candidates;
    for (auto& reply : ids.execute()) {
      if (!reply) return reply.status();
      auto list = as_array(**reply);
      if (!list) return list.status();
      for (redisReply* r : *list) candidates.emplace_back(str(r));
    }
    std::sort(candidates.begin(), candidates.end());
    if (candidates.empty()) return page;
    if (candidates.size() > page_size + 1) candidates.resize(page_size + 1);
    Pipeline records(store_.connection());
    for (const std::string& id : candidates) records.add(store_.commands().entity_command(id));
    auto replies = records.execute();
    for (size_t i = 0; i < candidates.size(); ++i) {
      if (!replies[i]) return replies[i].status();
      if (page.entities.size() == page_size) {
        page.continuation = page.entities.back().id;
        return page;
      }
      after = "(" + candidates[i];
      auto record = Commands::parse_entity(candidates[i], replies[i]);
      if (!record) return record.status();
      if (!*record) continue;  // cleaned up meanwhile
      if (!include_empty && !(*record)->snapshot.state) continue;
      page.entities.push_back({candidates[i], std::move(**record)});
    }
  }
}

Result<EntityCleanup> ClientStore::clean_entities() {
  EntityCleanup done;
  std::string continuation;
  std::vector<OutboundMessage> unlocks;
  for (;;) {
    auto page = list_entities("@", 500, continuation, true);
    if (!page) return page.status();
    for (const EntityListing& e : page->entities) {
      const EntitySnapshot& snap = e.record.snapshot;
      const uint32_t p = store_.partition_of(e.id);
      if (snap.lock) {
        auto holder = get(snap.lock->instance);
        if (!holder) return holder.status();
        const bool gone = !*holder || orchestration::is_terminal((*holder)->status) ||
                          (*holder)->execution_id != snap.lock->execution;
        if (gone) {
          entities::EntityMessage unlock{entities::MessageKind::unlock, snap.lock->section, {}, {},
                                         snap.lock->instance, {}, {}, {}};
          unlocks.push_back({e.id, to_event(unlock), {}});
          ++done.locks_released;
        }
        continue;
      }
      if (!snap.empty()) continue;
      // Only if nothing changed since it was read and no message waits.
      Commit c = Commit::idle(store_.keys().entity(p, e.id), store_.keys().inbox(p, e.id), e.record.version);
      c.write("DEL", store_.keys().entity(p, e.id), {});
      c.write("DEL", store_.keys().inbox(p, e.id), {});
      // The request ids stay a while: a retry of a signal the entity has
      // seen must still be recognised when it comes back.
      c.write("EXPIRE", store_.keys().entity_requests(p, e.id), {std::to_string(kCleanedRequestIdsTtl.count())});
      c.write("ZREM", store_.keys().entities(p), {e.id});
      auto removed = store_.execute(std::move(c));
      if (removed) {
        ++done.removed;
      } else if (removed.status().code() != Errc::failed_precondition) {
        return removed.status();
      }
    }
    if (page->continuation.empty()) break;
    continuation = page->continuation;
  }
  if (Status s = send_messages(unlocks); !s) return s;
  return done;
}

}  // namespace durable::store
