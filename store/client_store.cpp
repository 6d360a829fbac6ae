#include "store/client_store.hpp"

#include <algorithm>

#include "store/reply.hpp"
#include "store/rows.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;
using orchestration::is_terminal;

bool matches(const InstanceFilter& f, const InstanceRow& row) {
  if (!row.id.starts_with(f.id_prefix)) return false;
  if (f.created_from && row.created < *f.created_from) return false;
  if (f.created_to && row.created > *f.created_to) return false;
  return f.statuses.empty() ||
         std::find(f.statuses.begin(), f.statuses.end(), row.status) != f.statuses.end();
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

Result<InstancePage> ClientStore::list(const InstanceFilter& filter, size_t page_size,
                                 std::string_view continuation) {
  // Candidates from every partition's index, ordered by (created, id).
  const std::string from = filter.created_from ? ms_text(*filter.created_from) : "-inf";
  const std::string to = filter.created_to ? ms_text(*filter.created_to) : "+inf";
  Pipeline pipe(store_.connection());
  for (uint32_t p = 0; p < store_.partitions(); ++p) {
    pipe.add("ZRANGEBYSCORE", store_.keys().index(p), from, to, "WITHSCORES");
  }
  std::vector<std::pair<int64_t, std::string>> candidates;
  for (auto& reply : pipe.execute()) {
    if (!reply) return reply.status();
    auto list = as_array(**reply);
    if (!list) return list.status();
    for (size_t i = 0; i + 1 < list->size(); i += 2) {
      std::string id(str((*list)[i]));
      if (!id.starts_with(filter.id_prefix)) continue;
      auto score = parse_int("score", str((*list)[i + 1]));
      if (score) candidates.emplace_back(*score, std::move(id));
    }
  }
  std::sort(candidates.begin(), candidates.end());
  auto it = candidates.begin();
  if (!continuation.empty()) {
    const auto colon = continuation.find(':');
    auto ms = parse_int("continuation", continuation.substr(0, colon));
    if (colon == std::string_view::npos || !ms) {
      return Status::invalid_argument("malformed continuation token '" + std::string(continuation) + "'");
    }
    const std::pair<int64_t, std::string> after(*ms, std::string(continuation.substr(colon + 1)));
    it = std::upper_bound(candidates.begin(), candidates.end(), after);
  }
  InstancePage page;
  constexpr size_t kRowBatch = 256;
  while (it != candidates.end() && page.instances.size() < page_size) {
    const auto batch_end = it + std::min<size_t>(kRowBatch, candidates.end() - it);
    Pipeline rows(store_.connection());
    for (auto c = it; c != batch_end; ++c) rows.add("HGETALL", store_.keys().instance(store_.partition_of(c->second), c->second));
    auto replies = rows.execute();
    for (size_t i = 0; i < replies.size(); ++i, ++it) {
      if (page.instances.size() == page_size) break;
      if (!replies[i]) return replies[i].status();
      auto fields = as_array(*replies[i].value());
      if (!fields || fields->empty()) continue;  // purged meanwhile
      auto row = parse_row(it->second, *replies[i].value());
      if (!row) return row.status();
      if (matches(filter, *row)) page.instances.push_back(std::move(*row));
    }
  }
  if (it != candidates.end() && !page.instances.empty()) {
    const InstanceRow& last = page.instances.back();
    page.continuation = ms_text(last.created) + ":" + last.id;
  }
  return page;
}

Status ClientStore::purge(std::string_view id) {
  const uint32_t p = store_.partition_of(id);
  const std::string sid(id);
  Commit c = Commit::finished(store_.keys().instance(p, id));
  c.write("DEL", store_.keys().instance(p, id), {});
  c.write("DEL", store_.keys().history(p, id), {});
  c.write("DEL", store_.keys().inbox(p, id), {});
  c.write("ZREM", store_.keys().index(p), {sid});
  c.write("SREM", store_.keys().active(p), {sid});
  auto done = store_.execute(std::move(c));
  if (done) return Status::ok();
  switch (done.status().code()) {
    case Errc::not_found:
      return Status::not_found("no instance with id '" + sid + "'");
    case Errc::failed_precondition:
      return Status::failed_precondition("instance '" + sid + "' has not finished; terminate it first");
    default:
      return done.status();
  }
}

Result<size_t> ClientStore::purge(const InstanceFilter& filter) {
  InstanceFilter finished = filter;
  if (finished.statuses.empty()) {
    finished.statuses = {OrchestrationStatus::completed, OrchestrationStatus::failed,
                         OrchestrationStatus::terminated};
  }
  std::erase_if(finished.statuses, [](OrchestrationStatus s) { return !is_terminal(s); });
  if (finished.statuses.empty()) return size_t{0};
  size_t purged = 0;
  std::string continuation;
  do {
    auto page = list(finished, 500, continuation);
    if (!page) return page.status();
    for (const InstanceRow& row : page->instances) {
      Status s = purge(row.id);
      if (s) ++purged;
      else if (s.code() != Errc::not_found && s.code() != Errc::failed_precondition) return s;
    }
    continuation = page->continuation;
  } while (!continuation.empty());
  return purged;
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
