// The store's queries: instance rows and histories, listing by the
// created-time index, purging.
#include <algorithm>

#include "store/reply.hpp"
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

std::vector<std::string> Store::get_command(std::string_view id) const {
  return {"HGETALL", keys_.instance(partition_of(id), id)};
}

Result<std::optional<InstanceRow>> Store::parse_get(std::string_view id, const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  if (list->empty()) return std::optional<InstanceRow>();
  auto row = parse_row(id, **reply);
  if (!row) return row.status();
  return std::optional<InstanceRow>(std::move(*row));
}

Result<std::optional<InstanceRow>> Store::get(std::string_view id) {
  const auto argv = get_command(id);
  const std::vector<std::string_view> v(argv.begin(), argv.end());
  return parse_get(id, connection_.command(std::span<const std::string_view>(v)));
}

std::vector<std::string> Store::history_command(std::string_view id) const {
  return {"XRANGE", keys_.history(partition_of(id), id), "-", "+"};
}

Result<std::vector<HistoryEvent>> Store::parse_history_reply(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  std::vector<HistoryEvent> events;
  if (Status s = parse_history(**reply, events); !s) return s;
  return events;
}

Result<std::vector<HistoryEvent>> Store::history(std::string_view id) {
  const auto argv = history_command(id);
  const std::vector<std::string_view> v(argv.begin(), argv.end());
  return parse_history_reply(connection_.command(std::span<const std::string_view>(v)));
}

Result<InstancePage> Store::list(const InstanceFilter& filter, size_t page_size,
                                 std::string_view continuation) {
  // Candidates from every partition's index, ordered by (created, id).
  const std::string from = filter.created_from ? ms_text(*filter.created_from) : "-inf";
  const std::string to = filter.created_to ? ms_text(*filter.created_to) : "+inf";
  Pipeline pipe(connection_);
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    pipe.add("ZRANGEBYSCORE", keys_.index(p), from, to, "WITHSCORES");
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
    Pipeline rows(connection_);
    for (auto c = it; c != batch_end; ++c) rows.add("HGETALL", keys_.instance(partition_of(c->second), c->second));
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

Status Store::purge(std::string_view id) {
  const uint32_t p = partition_of(id);
  const std::string sid(id);
  Commit c = Commit::finished(keys_.instance(p, id));
  c.write("DEL", keys_.instance(p, id), {});
  c.write("DEL", keys_.history(p, id), {});
  c.write("DEL", keys_.inbox(p, id), {});
  c.write("ZREM", keys_.index(p), {sid});
  c.write("SREM", keys_.active(p), {sid});
  auto done = execute(c);
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

Result<size_t> Store::purge(const InstanceFilter& filter) {
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

}  // namespace durable::store
