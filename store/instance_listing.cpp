// Listing and counting instances over the listing index (Keys::listing,
// Keys::ids; docs/format.md "Listing index"), and the one-time backfill
// that builds it for a hub written before it existed.
#include <algorithm>
#include <functional>
#include <limits>

#include "store/client_store.hpp"
#include "store/listing.hpp"
#include "store/reply.hpp"
#include "store/rows.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;

constexpr int kStatuses = orchestration::kMaxOrchestrationStatus + 1;
// An id-prefix listing reads at most this many rows per call (besides the
// page itself), so that a prefix that matches many ids none of which pass
// the other filters answers with a short page and a continuation, not a
// scan of the hub.
constexpr size_t kPrefixRowBudget = 1000;
// The continuation of an id-ordered (id prefix) listing starts with this;
// a created-ordered one is "<ms>:<id>", whose first part is a number.
constexpr std::string_view kIdOrder = "i:";
// The meta field that says the listing index is complete.
constexpr std::string_view kBackfilledField = "listing";

// The smallest string after every string that starts with `prefix`, or ""
// when there is none (the prefix is all 0xff bytes).
std::string prefix_end(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

bool matches(const InstanceFilter& f, const InstanceRow& row) {
  if (!row.id.starts_with(f.id_prefix)) return false;
  if (f.created_from && row.created < *f.created_from) return false;
  if (f.created_to && row.created > *f.created_to) return false;
  return f.statuses.empty() || std::find(f.statuses.begin(), f.statuses.end(), row.status) != f.statuses.end();
}

Status bad_token(std::string_view continuation) {
  return Status::invalid_argument("malformed continuation token '" + std::string(continuation) + "'");
}

// The rows of `ids`, read in one round trip; empty for one that is gone
// (purged meanwhile).
Result<std::vector<std::optional<InstanceRow>>> read_rows(Store& store, const std::vector<std::string>& ids) {
  Pipeline pipe(store.connection());
  for (const std::string& id : ids) pipe.add("HGETALL", store.keys().instance(store.partition_of(id), id));
  auto replies = pipe.execute();
  std::vector<std::optional<InstanceRow>> rows(ids.size());
  for (size_t i = 0; i < replies.size() && i < ids.size(); ++i) {
    if (!replies[i]) return replies[i].status();
    auto fields = as_array(*replies[i].value());
    if (!fields) return fields.status();
    if (fields->empty()) continue;
    auto row = parse_row(ids[i], *replies[i].value());
    if (!row) return row.status();
    rows[i] = std::move(*row);
  }
  return rows;
}

// Collects the members of a pipeline of ZRANGEBYLEX replies.
Status members_of(std::vector<Result<ReplyPtr>>& replies, std::vector<std::string>& out) {
  for (auto& reply : replies) {
    if (!reply) return reply.status();
    auto list = as_array(**reply);
    if (!list) return list.status();
    for (redisReply* r : *list) out.emplace_back(str(r));
  }
  return Status::ok();
}

// Created order: the union of the statuses' sets of every partition, each
// asked for the page plus one after the continuation.
Result<InstancePage> list_by_created(Store& store, const InstanceFilter& filter, size_t page_size,
                                     std::string_view continuation) {
  if (filter.created_to && filter.created_to->time_since_epoch().count() < 0) return InstancePage{};
  auto [min, max] = created_range(filter.created_from, filter.created_to);
  if (!continuation.empty()) {
    // The page goes on strictly after the token's member, in the listing's
    // direction.
    const auto colon = continuation.find(':');
    if (colon == std::string_view::npos) return bad_token(continuation);
    auto ms = parse_int("continuation", continuation.substr(0, colon));
    if (!ms) return bad_token(continuation);
    const std::string after = listing_member(*ms, continuation.substr(colon + 1));
    if (!filter.newest_first && (min == "-" || after >= min.substr(1))) min = "(" + after;
    if (filter.newest_first && (max == "+" || after < max.substr(1))) max = "(" + after;
  }
  const std::vector<int> statuses = status_numbers(filter.statuses);
  const std::string limit = std::to_string(page_size + 1);
  Pipeline pipe(store.connection());
  for (uint32_t p = 0; p < store.partitions(); ++p) {
    for (int s : statuses) {
      if (filter.newest_first) {
        pipe.add("ZREVRANGEBYLEX", store.keys().listing(p, s), max, min, "LIMIT", "0", limit);
      } else {
        pipe.add("ZRANGEBYLEX", store.keys().listing(p, s), min, max, "LIMIT", "0", limit);
      }
    }
  }
  auto replies = pipe.execute();
  std::vector<std::string> members;
  if (Status s = members_of(replies, members); !s) return s;
  if (filter.newest_first) {
    std::sort(members.begin(), members.end(), std::greater<>());
  } else {
    std::sort(members.begin(), members.end());
  }
  const bool more = members.size() > page_size;
  members.resize(std::min(members.size(), page_size));
  std::vector<std::string> ids;
  ids.reserve(members.size());
  for (const std::string& m : members) ids.push_back(m.substr(kListingTimeDigits + 1));
  auto rows = read_rows(store, ids);
  if (!rows) return rows.status();
  InstancePage page;
  for (size_t i = 0; i < ids.size(); ++i) {
    // A row that moved since the index was read (another status, a
    // restart) is left out here: it is listed where it is now.
    auto& row = (*rows)[i];
    if (row && matches(filter, *row) && listing_member(to_ms(row->created), row->id) == members[i]) {
      page.instances.push_back(std::move(*row));
    }
  }
  if (more && !members.empty()) {
    const std::string& last = members.back();
    auto ms = parse_int("member", std::string_view(last).substr(0, kListingTimeDigits));
    if (!ms) return Status::corruption("listing index: malformed member '" + last + "'");
    page.continuation = std::to_string(*ms) + ":" + last.substr(kListingTimeDigits + 1);
  }
  return page;
}

// Id order, for an id prefix: every partition's id set from the prefix on,
// the other filters checked on the rows, at most kPrefixRowBudget rows read
// beyond the page.
Result<InstancePage> list_by_id(Store& store, const InstanceFilter& filter, size_t page_size,
                                std::string_view continuation) {
  std::string cursor;  // the last id looked at; empty: none yet
  if (!continuation.empty()) {
    if (!continuation.starts_with(kIdOrder)) return bad_token(continuation);
    cursor = std::string(continuation.substr(kIdOrder.size()));
  }
  const std::string end = prefix_end(filter.id_prefix);
  const std::string max = end.empty() ? "+" : "(" + end;
  InstancePage page;
  size_t read = 0;
  for (size_t grow = 64;; grow *= 2) {
    // Twice what the page still wants, and more each round (64, 128, ...):
    // one round trip when most rows match, a few when most do not, and
    // never past the budget.
    const size_t budget = page_size + kPrefixRowBudget - read;
    const size_t chunk = std::min(std::max(2 * (page_size - page.instances.size()), grow), budget);
    const std::string min = cursor.empty() || cursor < filter.id_prefix ? "[" + filter.id_prefix : "(" + cursor;
    Pipeline pipe(store.connection());
    for (uint32_t p = 0; p < store.partitions(); ++p) {
      pipe.add("ZRANGEBYLEX", store.keys().ids(p), min, max, "LIMIT", "0", std::to_string(chunk + 1));
    }
    auto replies = pipe.execute();
    std::vector<std::string> ids;
    if (Status s = members_of(replies, ids); !s) return s;
    std::sort(ids.begin(), ids.end());
    bool more = ids.size() > chunk;
    ids.resize(std::min(ids.size(), chunk));
    auto rows = read_rows(store, ids);
    if (!rows) return rows.status();
    for (size_t i = 0; i < ids.size(); ++i) {
      if (page.instances.size() == page_size) {
        more = true;  // ids[i] on are not looked at yet
        break;
      }
      cursor = ids[i];
      auto& row = (*rows)[i];
      if (row && matches(filter, *row)) page.instances.push_back(std::move(*row));
    }
    read += ids.size();
    if (!more) return page;
    if (page.instances.size() == page_size || read >= page_size + kPrefixRowBudget) break;
  }
  page.continuation = std::string(kIdOrder) + cursor;
  return page;
}

// KEYS: 1..7 the listing sets of statuses 0..6, 8 the ids set, then one row
// per id. ARGV: the ids. Adds each row that exists to the set of its
// status and to the ids; returns how many entries were new. Atomic per
// chunk, and idempotent (a row already indexed is added again as is).
constexpr std::string_view kBackfillScript = R"lua(
local n = #ARGV
if #KEYS ~= 8 + n then return redis.error_reply('ERR durable listing backfill: malformed call') end
local added = 0
for i = 1, n do
  local row = redis.call('HMGET', KEYS[8 + i], 's', 'ct')
  local s = tonumber(row[1])
  if s and s >= 0 and s <= 6 then
    local ms = tonumber(row[2]) or 0
    if ms < 0 then ms = 0 end
    added = added + redis.call('ZADD', KEYS[s + 1], 0, string.format('%013d', ms) .. ':' .. ARGV[i])
    redis.call('ZADD', KEYS[8], 0, ARGV[i])
  end
end
return added
)lua";

}  // namespace

CreatedRange created_range(std::optional<TimePoint> from, std::optional<TimePoint> to) {
  // A member's time without its ':' and id.
  const auto padded = [](int64_t ms) {
    std::string m = listing_member(ms, "");
    m.pop_back();
    return m;
  };
  return {from ? "[" + padded(to_ms(*from)) : "-", to ? "(" + padded(std::max<int64_t>(to_ms(*to) + 1, 0)) : "+"};
}

std::vector<int> status_numbers(const std::vector<OrchestrationStatus>& statuses) {
  std::vector<int> out;
  if (statuses.empty()) {
    for (int s = 0; s < kStatuses; ++s) out.push_back(s);
  } else {
    for (OrchestrationStatus s : statuses) out.push_back(static_cast<int>(s));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return out;
}

Result<InstancePage> ClientStore::list(const InstanceFilter& filter, size_t page_size, std::string_view continuation) {
  page_size = std::max<size_t>(page_size, 1);
  if (!filter.id_prefix.empty()) return list_by_id(store_, filter, page_size, continuation);
  if (continuation.starts_with(kIdOrder)) {
    return Status::invalid_argument("continuation token '" + std::string(continuation) +
                                    "' is of a listing by id prefix; pass the same instanceIdPrefix");
  }
  return list_by_created(store_, filter, page_size, continuation);
}

Result<StatusCounts> ClientStore::count_by_status(std::optional<TimePoint> created_from,
                                                  std::optional<TimePoint> created_to) {
  const bool ranged = created_from || created_to;
  const auto [min, max] = created_range(created_from, created_to);
  Pipeline pipe(store_.connection());
  for (uint32_t p = 0; p < store_.partitions(); ++p) {
    for (int s = 0; s < kStatuses; ++s) {
      if (ranged) {
        pipe.add("ZLEXCOUNT", store_.keys().listing(p, s), min, max);
      } else {
        pipe.add("ZCARD", store_.keys().listing(p, s));
      }
    }
  }
  StatusCounts counts{};
  size_t i = 0;
  for (auto& reply : pipe.execute()) {
    if (!reply) return reply.status();
    auto n = as_integer(**reply);
    if (!n) return n.status();
    counts[i++ % kStatuses] += static_cast<uint64_t>(*n);
  }
  return counts;
}

Result<size_t> backfill_listing_partition(Store& store, uint32_t partition, size_t chunk) {
  chunk = std::max<size_t>(chunk, 1);
  const Keys& keys = store.keys();
  size_t added = 0;
  std::string cursor = "0";
  do {
    // ZSCAN returns every member present for the whole scan at least once;
    // instances created meanwhile are indexed by their commits.
    auto reply = store.run(Argv{"ZSCAN", keys.index(partition), cursor, "COUNT", std::to_string(chunk)});
    if (!reply) return reply.status();
    auto parts = as_array(**reply, 2);
    if (!parts) return parts.status();
    cursor = std::string(str((*parts)[0]));
    auto list = as_array(*(*parts)[1]);
    if (!list) return list.status();
    std::vector<std::string> ids;
    for (size_t i = 0; i < list->size(); i += 2) ids.emplace_back(str((*list)[i]));
    if (ids.empty()) continue;
    Argv argv = {"EVAL", std::string(kBackfillScript), std::to_string(8 + ids.size())};
    for (int s = 0; s < kStatuses; ++s) argv.push_back(keys.listing(partition, s));
    argv.push_back(keys.ids(partition));
    for (const std::string& id : ids) argv.push_back(keys.instance(partition, id));
    argv.insert(argv.end(), ids.begin(), ids.end());
    auto done = store.run(argv);
    if (!done) return done.status();
    auto n = as_integer(**done);
    if (!n) return n.status();
    added += static_cast<size_t>(*n);
  } while (cursor != "0");
  return added;
}

Result<size_t> backfill_listing(Store& store, size_t chunk) {
  auto done = store.run(Argv{"HGET", store.keys().meta(), std::string(kBackfilledField)});
  if (!done) return done.status();
  if (!is_nil(**done)) return size_t{0};
  size_t added = 0;
  for (uint32_t p = 0; p < store.partitions(); ++p) {
    auto n = backfill_listing_partition(store, p, chunk);
    if (!n) return n.status();
    added += *n;
  }
  auto recorded = store.run(Argv{"HSET", store.keys().meta(), std::string(kBackfilledField), "1"});
  if (!recorded) return recorded.status();
  return added;
}

}  // namespace durable::store
