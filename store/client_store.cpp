#include "store/client_store.hpp"

#include <algorithm>
#include <set>

#include "orchestration/codec.hpp"
#include "store/listing.hpp"
#include "store/reply.hpp"
#include "store/rows.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;
using orchestration::is_terminal;

std::string not_found_text(std::string_view id) { return "no instance with id '" + std::string(id) + "'"; }

// The filter of a purge: only finished statuses (all of them when none is named).
InstanceFilter finished_only(const InstanceFilter& filter) {
  InstanceFilter finished = filter;
  if (finished.statuses.empty()) {
    finished.statuses = {OrchestrationStatus::completed, OrchestrationStatus::failed,
                         OrchestrationStatus::terminated};
  }
  std::erase_if(finished.statuses, [](OrchestrationStatus s) { return !is_terminal(s); });
  return finished;
}

}  // namespace

Status ClientStore::start(const HistoryEvent& started, TimePoint now) {
  auto loaded = Commands::parse_start(started, now, store_.run(store_.commands().start_command(started, now)));
  return loaded ? Status::ok() : loaded.status();
}

std::vector<Result<LoadedInstance>> ClientStore::start_many(std::span<const HistoryEvent> started, TimePoint now,
                                                           std::string_view starter) {
  std::vector<Argv> commands;
  commands.reserve(started.size());
  for (const HistoryEvent& e : started) commands.push_back(store_.commands().start_command(e, now, starter));
  auto replies = store_.run(std::move(commands));
  std::vector<Result<LoadedInstance>> out;
  out.reserve(started.size());
  for (size_t i = 0; i < started.size(); ++i) out.push_back(Commands::parse_start(started[i], now, replies[i]));
  return out;
}

Status ClientStore::send(std::string_view id, const HistoryEvent& message) {
  return Commands::parse_send(id, store_.run(store_.commands().send_command(id, message)));
}

Result<std::optional<InstanceRow>> ClientStore::get(std::string_view id) {
  return Commands::parse_get(id, store_.run(store_.commands().get_command(id)));
}

Result<std::vector<HistoryEvent>> ClientStore::history(std::string_view id) {
  return Commands::parse_history(store_.run(store_.commands().history_command(id)));
}

namespace {

// The commit deleting a finished instance: row, history, inbox, the row a
// restart kept, its active entry and its entry in the created-time index of
// a hub from before the listing index (Keys::index). The listing index's
// entries go with the row (durable_commit).
Commit purge_commit(const Keys& keys, uint32_t p, std::string_view id) {
  const std::string sid(id);
  Commit c = Commit::finished(keys.instance(p, id));
  c.write("DEL", keys.instance(p, id), {});
  c.write("DEL", keys.history(p, id), {});
  c.write("DEL", keys.inbox(p, id), {});
  c.write("DEL", keys.previous(p, id), {});
  c.write("ZREM", keys.index(p), {sid});
  c.write("SREM", keys.active(p), {sid});
  // Retention's index (Keys::finished) keeps its entry: retention drops an
  // entry whose row is gone when it comes to it.
  return c;
}

Status purge_status(std::string_view id, const Status& done) {
  switch (done.code()) {
    case Errc::not_found:
      return Status::not_found(not_found_text(id));
    case Errc::failed_precondition:
      return Status::failed_precondition("instance '" + std::string(id) + "' has not finished; terminate it first");
    default:
      return done;
  }
}

}  // namespace

Status ClientStore::purge(std::string_view id) {
  auto done = store_.execute(purge_commit(store_.keys(), store_.partition_of(id), id));
  return done ? Status::ok() : purge_status(id, done.status());
}

Result<size_t> ClientStore::purge(const InstanceFilter& filter) {
  constexpr size_t kBatch = 500;
  size_t purged = 0;
  std::string continuation;
  do {
    auto batch = purge_batch(filter, continuation, kBatch, false);
    if (!batch) return batch.status();
    purged += batch->purged;
    continuation = std::move(batch->continuation);
  } while (!continuation.empty());
  return purged;
}

std::string ClientStore::PurgeCursor::to_string() const {
  return std::to_string(partition) + ":" + std::to_string(status) + ":" + after;
}

Result<ClientStore::PurgeCursor> ClientStore::PurgeCursor::parse(std::string_view text) {
  PurgeCursor c;
  if (text.empty()) return c;
  const auto bad = [&] { return Status::invalid_argument("malformed purge continuation '" + std::string(text) + "'"); };
  const size_t a = text.find(':');
  const size_t b = a == std::string_view::npos ? a : text.find(':', a + 1);
  if (b == std::string_view::npos) return bad();
  auto p = parse_int("partition", text.substr(0, a));
  auto status = parse_int("status", text.substr(a + 1, b - a - 1));
  if (!p || !status || *p < 0 || *status < 0 || *status > orchestration::kMaxOrchestrationStatus) return bad();
  c.partition = static_cast<uint32_t>(*p);
  c.status = static_cast<int>(*status);
  c.after = std::string(text.substr(b + 1));
  return c;
}

Result<ClientStore::PurgeBatch> ClientStore::purge_batch(const InstanceFilter& filter, std::string_view continuation,
                                                          size_t batch, bool recursive) {
  auto cursor = PurgeCursor::parse(continuation);
  if (!cursor) return cursor.status();
  const InstanceFilter finished = finished_only(filter);
  PurgeBatch out;
  if (finished.statuses.empty()) return out;
  const std::vector<int> statuses = status_numbers(finished.statuses);  // the final statuses to purge, in order
  auto at = std::lower_bound(statuses.begin(), statuses.end(), cursor->status);
  if (at == statuses.end() || *at != cursor->status) cursor->after.clear();  // its member is of another set
  batch = std::max<size_t>(batch, 1);
  const auto [from, to] = created_range(filter.created_from, filter.created_to);
  // The next (partition, status) with entries in range (one round trip each).
  std::vector<std::string> members;
  for (;;) {
    if (at == statuses.end()) {
      *cursor = PurgeCursor{cursor->partition + 1, statuses.front(), {}};
      at = statuses.begin();
    }
    if (cursor->partition >= store_.partitions()) return out;  // every partition done
    cursor->status = *at;
    const bool before_from = from != "-" && cursor->after < from.substr(1);
    const std::string min = cursor->after.empty() || before_from ? from : "(" + cursor->after;
    auto reply = store_.run(Argv{"ZRANGEBYLEX", store_.keys().listing(cursor->partition, *at), min, to, "LIMIT",
                                 "0", std::to_string(batch)});
    if (!reply) return reply.status();
    auto list = as_array(**reply);
    if (!list) return list.status();
    for (redisReply* r : *list) members.emplace_back(str(r));
    if (!members.empty()) break;
    ++at;
    cursor->after.clear();
  }
  const uint32_t p = cursor->partition;
  std::vector<std::string> chosen;  // the ids that match the prefix too
  for (const std::string& m : members) {
    std::string id = m.substr(kListingTimeDigits + 1);
    if (id.starts_with(filter.id_prefix)) chosen.push_back(std::move(id));
  }
  if (recursive) {
    for (const std::string& id : chosen) {
      auto tree = purge_tree(id);
      if (tree) {
        out.purged += *tree;
      } else if (tree.status().code() != Errc::failed_precondition && tree.status().code() != Errc::not_found) {
        return tree.status();  // a member has not finished: the whole tree stays
      }
    }
  } else if (!chosen.empty()) {
    std::vector<Commit> commits;
    commits.reserve(chosen.size());
    for (const std::string& id : chosen) commits.push_back(purge_commit(store_.keys(), p, id));
    auto done = store_.execute(std::move(commits));
    for (auto& d : done) {
      if (d) {
        ++out.purged;
      } else if (d.status().code() != Errc::failed_precondition && d.status().code() != Errc::not_found) {
        return d.status();  // (started again meanwhile, or gone: skipped)
      }
    }
  }
  // The next batch starts after the last member looked at (purged ones are
  // gone, kept ones are passed over), or at the next status.
  PurgeCursor next = *cursor;
  next.after = members.back();
  if (members.size() < batch) {
    ++at;
    next.after.clear();
    if (at == statuses.end()) {
      next = PurgeCursor{p + 1, statuses.front(), {}};
    } else {
      next.status = *at;
    }
  }
  if (next.partition < store_.partitions()) out.continuation = next.to_string();
  return out;
}

Result<size_t> ClientStore::purge_tree(std::string_view root) {
  // Breadth first, one round trip per level (rows and histories together);
  // everything checked before anything is deleted.
  std::vector<std::string> tree;
  std::set<std::string, std::less<>> seen = {std::string(root)};
  std::vector<std::string> level = {std::string(root)};
  while (!level.empty()) {
    std::vector<Argv> reads;
    for (const std::string& id : level) {
      reads.push_back(store_.commands().get_command(id));
      reads.push_back(store_.commands().history_command(id));
    }
    auto replies = store_.run(std::move(reads));
    std::vector<std::string> next;
    for (size_t i = 0; i < level.size(); ++i) {
      const std::string& id = level[i];
      auto row = Commands::parse_get(id, replies[2 * i]);
      if (!row) return row.status();
      if (!*row) {
        if (tree.empty()) return Status::not_found(not_found_text(id));
        continue;  // a child already purged (or never started)
      }
      if (!is_terminal((*row)->status)) {
        const std::string what = tree.empty() ? "instance '" + id + "'"
                                              : "sub-orchestration '" + id + "' of '" + std::string(root) + "'";
        return Status::failed_precondition(what + " is " + std::string(orchestration::status_name((*row)->status)) +
                                           "; terminate it first (a recursive terminate ends the whole tree)");
      }
      tree.push_back(id);
      auto history = Commands::parse_history(replies[2 * i + 1]);
      if (!history) return history.status();
      for (const HistoryEvent& e : *history) {
        if (e.type == orchestration::EventType::sub_orchestration_instance_created && seen.insert(e.instance_id).second) {
          next.push_back(e.instance_id);
        }
      }
    }
    if (tree.size() + next.size() > kMaxTree) {
      return Status::failed_precondition("the tree of instance '" + std::string(root) + "' has more than " +
                                         std::to_string(kMaxTree) + " instances; purge its parts first");
    }
    level = std::move(next);
  }
  // The deepest first, the root last: a purge cut short leaves the root, to
  // be purged again.
  std::vector<Commit> commits;
  for (auto it = tree.rbegin(); it != tree.rend(); ++it) {
    commits.push_back(purge_commit(store_.keys(), store_.partition_of(*it), *it));
  }
  auto done = store_.execute(std::move(commits));
  size_t purged = 0;
  for (size_t k = 0; k < done.size(); ++k) {
    const std::string& id = tree[tree.size() - 1 - k];
    if (done[k]) {
      ++purged;
    } else if (done[k].status().code() != Errc::not_found) {
      return purge_status(id, done[k].status());
    }
  }
  return purged;
}

Status ClientStore::rewind(std::string_view id, const HistoryEvent& message) {
  const uint32_t p = store_.partition_of(id);
  const HistoryEvent one[] = {message};
  Commit c = Commit::failed(store_.keys().instance(p, id));
  // Pending until the owner rewinds it: a client that looks or waits now
  // sees the rewind under way, and a second rewind is refused.
  c.write("HSET", store_.keys().instance(p, id), {"s", std::to_string(static_cast<int>(OrchestrationStatus::pending))});
  c.write("XADD", store_.keys().inbox(p, id), {"*", "e", orchestration::encode_events(one), "x", ""});
  c.write("XADD", store_.keys().wake(p), {"MAXLEN", "~", kWakeMaxLen, "*", "i", id});
  c.write("SADD", store_.keys().active(p), {id});
  auto done = store_.execute(std::move(c));
  if (done) return Status::ok();
  if (done.status().code() == Errc::not_found) return Status::not_found(not_found_text(id));
  if (const int status = Commit::not_failed_status(done.status()); status >= 0) {
    const std::string name = status <= orchestration::kMaxOrchestrationStatus
                                 ? std::string(orchestration::status_name(static_cast<OrchestrationStatus>(status)))
                                 : "in status " + std::to_string(status);
    return Status::failed_precondition("instance '" + std::string(id) + "' is " + name +
                                       "; only a Failed instance can be rewound");
  }
  return done.status();
}

Result<std::optional<InstanceRow>> ClientStore::previous(std::string_view id) {
  return Commands::parse_get(id, store_.run(Argv{"HGETALL", store_.keys().previous(store_.partition_of(id), id)}));
}

Result<std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1>> ClientStore::active_by_status() {
  const Commands& c = store_.commands();
  std::vector<Argv> members;
  for (uint32_t p = 0; p < store_.partitions(); ++p) members.push_back(c.active_command(p));
  std::vector<Argv> statuses;
  for (auto& reply : store_.run(std::move(members))) {
    auto ids = Commands::parse_active(reply);
    if (!ids) return ids.status();
    for (const std::string& id : *ids) statuses.push_back({"HGET", c.keys().instance(c.partition_of(id), id), "s"});
  }
  std::array<uint64_t, orchestration::kMaxOrchestrationStatus + 1> counts{};
  for (auto& reply : store_.run(std::move(statuses))) {
    if (!reply) return reply.status();
    if (is_nil(**reply)) continue;  // messages for an instance that does not exist (yet)
    const auto s = parse_int("status", str(reply->get()));
    if (s && *s >= 0 && *s <= orchestration::kMaxOrchestrationStatus) ++counts[static_cast<size_t>(*s)];
  }
  return counts;
}

Result<std::vector<DeadLetter>> ClientStore::dead_letters(uint32_t partition, size_t count) {
  return Commands::parse_dead_letters(store_.run(store_.commands().dead_letters_command(partition, count)));
}

Result<std::vector<WakeNotice>> ClientStore::read_done(std::span<WakeCursor> cursors,
                                                       std::chrono::milliseconds block) {
  const Commands& c = store_.commands();
  return c.parse_notices(NoticeStream::done, cursors, store_.run(c.notices_command(NoticeStream::done, cursors, block)));
}

Result<std::vector<std::string>> ClientStore::done_positions() {
  std::vector<Argv> commands;
  for (uint32_t p = 0; p < store_.partitions(); ++p) {
    commands.push_back(store_.commands().last_notice_command(NoticeStream::done, p));
  }
  std::vector<std::string> positions;
  for (auto& reply : store_.run(std::move(commands))) {
    auto last = Commands::parse_last_notice(reply);
    if (!last) return last.status();
    positions.push_back(std::move(*last));
  }
  return positions;
}

}  // namespace durable::store
