#include "store/retention.hpp"

#include <algorithm>

#include "store/reply.hpp"
#include "store/store.hpp"

namespace durable::store {
namespace {

using namespace reply;

// KEYS: 1 lease, 2 created-time index, 3 active set, 4..6 the finished
// indexes of statuses 2, 4, 5, 7 the listing set of the status scanned, 8
// the partition's ids (the listing index, store/functions.cpp); then per id:
// row, history, inbox, previous row.
// ARGV: 1 node ('' = no lease check), 2 epoch, 3 the status scanned ('2',
// '4' or '5'), 4 the cutoff in ms, then the ids.
// Returns { purged ids, dropped, moved }. Checks everything before its
// first write (an error after a write would leave that write applied).
constexpr std::string_view kScript = R"lua(
local SET = { ['2'] = 4, ['4'] = 5, ['5'] = 6 }
local set, n = SET[ARGV[3]], #ARGV - 4
if not set or n < 0 or #KEYS ~= 8 + 4 * n or not tonumber(ARGV[4]) then
  return redis.error_reply('ERR durable retention: malformed call')
end
if ARGV[1] ~= '' then
  local l = redis.call('HMGET', KEYS[1], 'owner', 'epoch', 'expires')
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if l[1] ~= ARGV[1] or l[2] ~= ARGV[2] or (tonumber(l[3]) or 0) <= now then
    return redis.error_reply('DURABLE_FENCED retention: the lease is not held by ' .. ARGV[1] ..
                             ' at epoch ' .. ARGV[2] .. ' any more')
  end
end
local cutoff = tonumber(ARGV[4])
local purged, dropped, moved = {}, 0, 0
for i = 1, n do
  local id, k = ARGV[4 + i], 8 + 4 * (i - 1)
  local row = redis.call('HMGET', KEYS[k + 1], 's', 'ut', 'ct')
  local finished_at = tonumber(row[2]) or 0
  if row[1] ~= ARGV[3] then
    redis.call('ZREM', KEYS[set], id)
    dropped = dropped + 1
  elseif finished_at > cutoff then
    redis.call('ZADD', KEYS[set], finished_at, id)
    moved = moved + 1
  else
    redis.call('DEL', KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4])
    redis.call('ZREM', KEYS[2], id)
    redis.call('SREM', KEYS[3], id)
    for s = 4, 6 do redis.call('ZREM', KEYS[s], id) end
    local ms = tonumber(row[3]) or 0
    if ms < 0 then ms = 0 end
    redis.call('ZREM', KEYS[7], string.format('%013d', ms) .. ':' .. id)
    redis.call('ZREM', KEYS[8], id)
    purged[#purged + 1] = id
  end
end
return { purged, dropped, moved }
)lua";

// KEYS: 1..3 the finished indexes of statuses 2, 4, 5; then one row per id.
// ARGV: the ids. Returns how many were added.
constexpr std::string_view kBackfillScript = R"lua(
local SET = { ['2'] = 1, ['4'] = 2, ['5'] = 3 }
if #KEYS ~= 3 + #ARGV then return redis.error_reply('ERR durable retention backfill: malformed call') end
local added = 0
for i = 1, #ARGV do
  local row = redis.call('HMGET', KEYS[3 + i], 's', 'ut')
  local set = SET[row[1] or '']
  if set then added = added + redis.call('ZADD', KEYS[set], 'NX', tonumber(row[2]) or 0, ARGV[i]) end
end
return added
)lua";

constexpr OrchestrationStatus kFinal[] = {OrchestrationStatus::completed, OrchestrationStatus::failed,
                                          OrchestrationStatus::terminated};

int number(OrchestrationStatus s) { return static_cast<int>(s); }

}  // namespace

std::optional<std::chrono::milliseconds> RetentionPolicy::age(OrchestrationStatus status) const {
  switch (status) {
    case OrchestrationStatus::completed:
      return completed;
    case OrchestrationStatus::failed:
      return failed;
    case OrchestrationStatus::terminated:
      return terminated;
    default:
      return std::nullopt;
  }
}

std::string_view RetentionCommands::script() { return kScript; }

std::vector<Argv> RetentionCommands::candidates_commands(uint32_t partition, const RetentionPolicy& policy,
                                                         TimePoint now) const {
  std::vector<Argv> commands;
  for (OrchestrationStatus s : kFinal) {
    const auto age = policy.age(s);
    if (!age) continue;
    commands.push_back({"ZRANGEBYSCORE", keys_.finished(partition, number(s)), "-inf", ms_text(now - *age), "LIMIT",
                        "0", std::to_string(std::max<size_t>(policy.batch, 1))});
  }
  return commands;
}

Result<std::vector<RetentionCandidates>> RetentionCommands::parse_candidates(
    const RetentionPolicy& policy, TimePoint now, std::span<const Result<ReplyPtr>> replies) {
  std::vector<RetentionCandidates> out;
  size_t i = 0;
  for (OrchestrationStatus s : kFinal) {
    const auto age = policy.age(s);
    if (!age) continue;
    if (i >= replies.size()) return Status::corruption("retention: fewer replies than statuses");
    const Result<ReplyPtr>& reply = replies[i++];
    if (!reply) return reply.status();
    auto list = as_array(**reply);
    if (!list) return list.status();
    RetentionCandidates c{s, now - *age, {}};
    c.ids.reserve(list->size());
    for (redisReply* r : *list) c.ids.emplace_back(str(r));
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<Argv> RetentionCommands::purge_commands(uint32_t p, std::string_view node, uint64_t epoch,
                                                    std::span<const RetentionCandidates> candidates,
                                                    size_t limit) const {
  std::vector<Argv> commands;
  for (const RetentionCandidates& c : candidates) {
    for (size_t from = 0; from < c.ids.size() && limit > 0;) {
      const size_t n = std::min({kPurgeChunk, c.ids.size() - from, limit});
      Argv argv = {"EVAL", std::string(kScript), std::to_string(8 + 4 * n), keys_.lease(p), keys_.index(p),
                   keys_.active(p)};
      for (OrchestrationStatus s : kFinal) argv.push_back(keys_.finished(p, number(s)));
      argv.push_back(keys_.listing(p, number(c.status)));
      argv.push_back(keys_.ids(p));
      for (size_t i = from; i < from + n; ++i) {
        const std::string& id = c.ids[i];
        argv.insert(argv.end(), {keys_.instance(p, id), keys_.history(p, id), keys_.inbox(p, id), keys_.previous(p, id)});
      }
      argv.insert(argv.end(), {std::string(node), std::to_string(epoch), std::to_string(number(c.status)),
                               ms_text(c.cutoff)});
      argv.insert(argv.end(), c.ids.begin() + static_cast<std::ptrdiff_t>(from),
                  c.ids.begin() + static_cast<std::ptrdiff_t>(from + n));
      commands.push_back(std::move(argv));
      from += n;
      limit -= n;
    }
  }
  return commands;
}

RetentionOutcome RetentionCommands::parse_purges(std::span<const Result<ReplyPtr>> replies) {
  RetentionOutcome out;
  for (const Result<ReplyPtr>& reply : replies) {
    if (!reply) {
      out.error = reply.status();
      break;
    }
    auto parts = as_array(**reply, 3);
    if (!parts || (*parts)[0]->type != REDIS_REPLY_ARRAY || (*parts)[1]->type != REDIS_REPLY_INTEGER ||
        (*parts)[2]->type != REDIS_REPLY_INTEGER) {
      out.error = Status::corruption("retention: the purge script answered in an unknown shape");
      break;
    }
    const redisReply* ids = (*parts)[0];
    for (size_t i = 0; i < ids->elements; ++i) out.purged.emplace_back(str(ids->element[i]));
    out.dropped += static_cast<size_t>((*parts)[1]->integer);
    out.moved += static_cast<size_t>((*parts)[2]->integer);
  }
  return out;
}

Argv RetentionBackfill::scan_command(uint32_t p, const BackfillCursor& cursor, size_t batch) const {
  const bool first = cursor.score == std::numeric_limits<int64_t>::min();
  return {"ZRANGEBYSCORE", keys_.index(p), first ? "-inf" : std::to_string(cursor.score), "+inf", "WITHSCORES",
          "LIMIT", std::to_string(first ? 0 : cursor.offset), std::to_string(std::max<size_t>(batch, 1))};
}

Result<std::vector<std::string>> RetentionBackfill::parse_scan(const Result<ReplyPtr>& reply, BackfillCursor& cursor,
                                                               size_t batch) {
  if (!reply) return reply.status();
  auto list = as_array(**reply);
  if (!list) return list.status();
  std::vector<std::string> ids;
  for (size_t i = 0; i + 1 < list->size(); i += 2) {
    auto score = parse_int("score", str((*list)[i + 1]));
    if (!score) return score.status();
    if (*score == cursor.score) {
      ++cursor.offset;
    } else {
      cursor.score = *score;
      cursor.offset = 1;
    }
    ids.emplace_back(str((*list)[i]));
  }
  cursor.done = ids.size() < std::max<size_t>(batch, 1);
  return ids;
}

Argv RetentionBackfill::add_command(uint32_t p, std::span<const std::string> ids) const {
  Argv argv = {"EVAL", std::string(kBackfillScript), std::to_string(3 + ids.size())};
  for (OrchestrationStatus s : kFinal) argv.push_back(keys_.finished(p, number(s)));
  for (const std::string& id : ids) argv.push_back(keys_.instance(p, id));
  argv.insert(argv.end(), ids.begin(), ids.end());
  return argv;
}

Result<size_t> RetentionBackfill::parse_add(const Result<ReplyPtr>& reply) {
  if (!reply) return reply.status();
  if ((*reply)->type != REDIS_REPLY_INTEGER) return Status::corruption("retention backfill: not a count");
  return static_cast<size_t>((*reply)->integer);
}

Result<RetentionOutcome> retention_step(Store& store, uint32_t partition, std::string_view node, uint64_t epoch,
                                        const RetentionPolicy& policy, TimePoint now) {
  const RetentionCommands commands(store.keys().hub());
  auto found = RetentionCommands::parse_candidates(policy, now,
                                                   store.run(commands.candidates_commands(partition, policy, now)));
  if (!found) return found.status();
  size_t due = 0;
  bool full = false;
  for (const auto& c : *found) {
    due += c.ids.size();
    full = full || c.ids.size() >= policy.batch;
  }
  RetentionOutcome out;
  if (due > 0) {
    out = RetentionCommands::parse_purges(store.run(commands.purge_commands(partition, node, epoch, *found, policy.batch)));
  }
  out.more = full || due > policy.batch;
  return out;
}

}  // namespace durable::store
