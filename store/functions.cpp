#include "store/functions.hpp"

namespace durable::store {
namespace {

// Row fields the guards read: "s" status (OrchestrationStatus number), "v"
// version (episode counter). Statuses 2, 4, 5 (Completed, Failed,
// Terminated) are final.
//
// Every function validates all of its input before its first write: a Lua
// error after a write would leave that write applied.
constexpr std::string_view kSource = R"lua(#!lua name=durable

local FINAL = { ['2'] = true, ['4'] = true, ['5'] = true }
-- Op codes: OPS[i] is code i (store/commit.hpp, Commit::kOps).
local OPS = { 'XADD', 'HSET', 'HDEL', 'DEL', 'XDEL', 'SADD', 'SREM', 'ZADD', 'ZREM', 'RPUSH', 'LTRIM', 'EXPIRE', 'PERSIST', 'SREMIFDRAINED', 'COPY' }
local HSET, HDEL, DEL, SREMIFDRAINED, COPY = 2, 3, 4, 14, 15
-- Guard codes: the layout integers and the strings each guard takes.
local FENCED, IDLE, CREATE, LIVE, FINALGUARD, FAILEDGUARD = 1, 2, 3, 4, 5, 6
local GUARD_INTS = { 1, 1, 1, 0, 0, 0 }
local GUARD_STRINGS = { 3, 1, 0, 0, 0, 0 }

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Nil when `node` holds the lease at `epoch` and it has not expired by
-- Redis' clock (`now`); else the error text.
local function check_lease(lease_key, node, epoch, now)
  local l = redis.call('HMGET', lease_key, 'owner', 'epoch', 'expires')
  if l[1] ~= node or l[2] ~= epoch then
    return 'DURABLE_FENCED lease is held by ' .. tostring(l[1]) .. ' at epoch ' ..
           tostring(l[2]) .. ', not by ' .. node .. ' at epoch ' .. epoch
  end
  if tonumber(l[3] or '0') <= now then
    return 'DURABLE_FENCED lease of ' .. node .. ' at epoch ' .. epoch .. ' has expired'
  end
  return nil
end

-- What one call remembers across its commits (the call is atomic: the
-- clock and a lease cannot change in between): Redis' time, and each lease
-- checked with the answer.
local function new_call()
  return { now = nil, leases = {} }
end

local function lease_error(call, lease, node, epoch)
  local seen = call.leases[lease]
  if seen == nil or seen.node ~= node or seen.epoch ~= epoch then
    call.now = call.now or now_ms()
    seen = { node = node, epoch = epoch, fenced = check_lease(lease, node, epoch, call.now) or false }
    call.leases[lease] = seen
  end
  return seen.fenced
end

-- A commit is keys[kb + 1 .. kb + L[1]] and strings args[sb + 1 .. sb + L[2]],
-- shaped by its layout L: L[3] the guard, the guard's key indices, then per
-- op its code, key index and argument count (SREMIFDRAINED: and its
-- stream's key index; COPY: and its destination's key index). Returns the position of the first op in L, or nil
-- and an error when the layout does not fit its keys and strings.
local function check_layout(keys, kb, L, sb)
  local nk, ns, guard = L[1], L[2], L[3]
  local gi = GUARD_INTS[guard]
  if gi == nil then return nil, 'ERR durable commit: unknown guard ' .. tostring(guard) end
  local j, s, n = 4, sb + GUARD_STRINGS[guard], #L
  for g = 4, 3 + gi do  -- fenced and idle name a key; create counts ops
    local k = L[g]
    if guard ~= CREATE and (k == nil or k < 1 or k > nk) then
      return nil, 'ERR durable commit: bad guard key index'
    end
  end
  j = j + gi
  local first, ops = j, 0
  while j <= n do
    local code, k, c = L[j], L[j + 1], L[j + 2]
    if OPS[code] == nil or k == nil or k < 1 or k > nk or c == nil or s + c > sb + ns then
      return nil, 'ERR durable commit: malformed op at layout position ' .. j
    end
    if code == SREMIFDRAINED or code == COPY then
      local k2 = L[j + 3]
      if c ~= (code == COPY and 0 or 1) or k2 == nil or k2 < 1 or k2 > nk then
        return nil, 'ERR durable commit: malformed ' .. OPS[code] .. ' at layout position ' .. j
      end
      j = j + 1
    end
    j = j + 3
    s = s + c
    ops = ops + 1
  end
  if s ~= sb + ns then return nil, 'ERR durable commit: the layout does not use every argument' end
  if guard == CREATE and (L[4] == nil or L[4] > ops) then
    return nil, 'ERR durable commit: the create guard names ops it does not have'
  end
  return first
end

-- The listing index (docs/format.md "Listing index"): per partition and
-- status a sorted set ls:<s> of '<created ms, 13 digits>:<id>', and ids, the
-- partition's instance ids. The commit keeps them, so that they follow the
-- row whatever wrote it. These keys are derived here from the row's key (the
-- same hash tag, so the same slot), not passed as KEYS: every commit would
-- otherwise carry them, and a caller that forgot them would let the index
-- drift.
--
-- The partition's key prefix 'dt:{hub:p}:' and the id when `row` is an
-- instance row ('dt:{hub:p}:i:<id>'); nil for another row (an entity's).
local function instance_row(row)
  local close = string.find(row, '}', 1, true)
  if close and string.sub(row, close + 1, close + 3) == ':i:' then
    return string.sub(row, 1, close + 1), string.sub(row, close + 4)
  end
  return nil
end

local function listing_member(created, id)
  local ms = tonumber(created) or 0
  if ms < 0 then ms = 0 end
  return string.format('%013d', ms) .. ':' .. id
end

-- Follows op `code` on the row, with arguments args[s + 1 .. s + c], in
-- `seen` ({status, created} as the commit leaves them, false = absent;
-- `moved` set when they may have changed, `unknown` when an op wrote the
-- row in a way not followed here, so it must be read).
local function follow_row(seen, code, args, s, c)
  if code == HSET then
    for i = s + 1, s + c, 2 do
      local f = args[i]
      if f == 's' then seen[1], seen.moved = args[i + 1], true
      elseif f == 'ct' then seen[2], seen.moved = args[i + 1], true end
    end
  elseif code == DEL then
    seen[1], seen[2], seen.moved = false, false, true
  elseif code == HDEL then
    for i = s + 1, s + c do
      if args[i] == 's' then seen[1], seen.moved = false, true
      elseif args[i] == 'ct' then seen[2], seen.moved = false, true end
    end
  end
end

-- After a commit that may have moved the row (`before`: its status and
-- created time when the commit began; `seen`: as follow_row left them),
-- moves the row's listing entries. Costs nothing more when neither changed.
local function update_listing(row, before, seen)
  local prefix, id = instance_row(row)
  local after = seen
  if seen.unknown then after = redis.call('HMGET', row, 's', 'ct') end
  if before[1] == after[1] and before[2] == after[2] then return end
  if before[1] then redis.call('ZREM', prefix .. 'ls:' .. before[1], listing_member(before[2], id)) end
  if after[1] then redis.call('ZADD', prefix .. 'ls:' .. after[1], 0, listing_member(after[2], id)) end
  if after[1] and not before[1] then
    redis.call('ZADD', prefix .. 'ids', 0, id)
  elseif before[1] and not after[1] then
    redis.call('ZREM', prefix .. 'ids', id)
  end
end

-- Applies the ops from L[j] on, except the first `skip`; a new `version`
-- rides on the first HSET of the row (one write fewer). With `seen` (an
-- instance row's status and created time, as the guard read them), follows
-- the ops' writes to the row in it (follow_row). Returns whether it stamped
-- the version.
local function apply_ops(keys, kb, L, j, args, s, row, version, skip, seen)
  local stamped, n = false, #L
  for _ = 1, skip do
    s = s + L[j + 2]
    if L[j] == SREMIFDRAINED or L[j] == COPY then j = j + 1 end
    j = j + 3
  end
  while j <= n do
    local code, key, c = L[j], keys[kb + L[j + 1]], L[j + 2]
    if seen then
      if key == row then follow_row(seen, code, args, s, c) end
      if code == COPY and keys[kb + L[j + 3]] == row then seen.moved, seen.unknown = true, true end
    end
    if code == HSET and version and not stamped and key == row then
      redis.call('HSET', row, 'v', version, unpack(args, s + 1, s + c))
      stamped = true
    elseif code == SREMIFDRAINED then
      if redis.call('XLEN', keys[kb + L[j + 3]]) == 0 then
        redis.call('SREM', key, args[s + 1])
      end
      j = j + 1
    elseif code == COPY then
      redis.call('COPY', key, keys[kb + L[j + 3]], 'REPLACE')
      j = j + 1
    else
      redis.call(OPS[code], key, unpack(args, s + 1, s + c))
    end
    j = j + 3
    s = s + c
  end
  return stamped
end

-- One commit (see check_layout for its shape), checked under its guard and
-- applied. Guards, with their key indices and strings:
--   fenced <lease key> / <node> <epoch> <expected version>
--       the writer owns the partition and has seen the row's latest version;
--       the version is incremented. Returns the new version.
--   idle <inbox key> / <expected version>
--       the row is at that version and the stream is empty (clean-up).
--   create <replacing ops> /
--       the row is absent or final; the version is incremented. The first
--       <replacing ops> ops run only when the row exists (they clear what a
--       finished execution left).
--   live     the row exists and is not final.
--   final    the row exists and is final (a purge).
--   failed   the row exists and is Failed (a rewind); the error names the
--            status it has instead.
local function commit_at(keys, kb, L, args, sb, call)
  local first, err = check_layout(keys, kb, L, sb)
  if not first then return redis.error_reply(err) end
  local guard, row = L[3], keys[kb + 1]
  local version, skip = nil, 0
  -- An instance row's status and created time as the commit finds them
  -- (the listing index's "before"); nil for another row.
  local listed, before = instance_row(row) ~= nil, nil
  if guard == FENCED then
    local fenced = lease_error(call, keys[kb + L[4]], args[sb + 1], args[sb + 2])
    if fenced then return redis.error_reply(fenced) end
    local current
    if listed then
      local r = redis.call('HMGET', row, 'v', 's', 'ct')
      current, before = r[1] or '0', { r[2], r[3] }
    else
      current = redis.call('HGET', row, 'v') or '0'
    end
    if current ~= args[sb + 3] then
      return redis.error_reply('DURABLE_VERSION instance is at version ' .. current ..
                               ', the writer expected ' .. args[sb + 3])
    end
    version = tonumber(current) + 1
  elseif guard == IDLE then
    local current = redis.call('HGET', row, 'v') or '0'
    if current ~= args[sb + 1] or redis.call('XLEN', keys[kb + L[4]]) > 0 then
      return redis.error_reply('DURABLE_VERSION entity changed or has messages waiting')
    end
  else
    local row_now = redis.call('HMGET', row, 's', 'v', 'ct')
    local status = row_now[1]
    if listed then before = { status, row_now[3] } end
    if guard == CREATE and not status then skip = L[4] end
    if guard == CREATE and status and not FINAL[status] then
      return redis.error_reply('DURABLE_EXISTS instance exists and has not finished')
    end
    if guard == LIVE or guard == FINALGUARD or guard == FAILEDGUARD then
      if not status then return redis.error_reply('DURABLE_NOTFOUND no such instance') end
      if guard == FAILEDGUARD and status ~= '4' then
        return redis.error_reply('DURABLE_NOTFAILED ' .. status)
      end
      if guard == LIVE and FINAL[status] then
        return redis.error_reply('DURABLE_FINISHED instance has finished')
      end
      if guard == FINALGUARD and not FINAL[status] then
        return redis.error_reply('DURABLE_RUNNING instance has not finished')
      end
    end
    if guard == CREATE then
      version = tonumber(row_now[2] or '0') + 1
    end
  end
  local seen = nil
  if before then seen = { before[1], before[2] } end
  local stamped = apply_ops(keys, kb, L, first, args, sb + GUARD_STRINGS[guard], row, version, skip, seen)
  if seen and seen.moved then update_listing(row, before, seen) end
  -- A commit that only drops messages for an unknown instance leaves no row.
  if version and not stamped and redis.call('EXISTS', row) == 1 then
    redis.call('HSET', row, 'v', version)
  end
  return version or 0
end

-- A layout's integers: its first byte 0 says every integer is one byte
-- (the usual case), 1 that they are LEB128 (7 bits a byte, low first, the
-- high bit set on all bytes but an integer's last).
local function decode_layout(text)
  local bytes, n = {}, #text
  for i = 2, n, 4000 do  -- string.byte returns at most a few thousand values at once
    local chunk = { string.byte(text, i, math.min(n, i + 3999)) }
    if i == 2 then bytes = chunk else for _, b in ipairs(chunk) do bytes[#bytes + 1] = b end end
  end
  local format = string.byte(text, 1)
  if format == 0 then return bytes end
  if format ~= 1 then return nil end
  local out, v, scale = {}, 0, 1
  for _, b in ipairs(bytes) do
    if b < 128 then
      out[#out + 1] = v + b * scale
      v, scale = 0, 1
    else
      v, scale = v + (b - 128) * scale, scale * 128
    end
  end
  if scale ~= 1 then return nil end
  return out
end

-- Reads the layouts of the commits in one call: ARGV is, per commit, its
-- layout and then its strings; KEYS every commit's keys in order. Returns
-- the layouts, or nil and an error when they do not add up (nothing is
-- written then).
local function layouts(keys, args)
  local out, kb, ab, nargs = {}, 0, 0, #args
  while ab < nargs do
    local L = decode_layout(args[ab + 1])
    if L == nil or L[1] == nil or L[2] == nil or L[1] < 1 or kb + L[1] > #keys or ab + 1 + L[2] > nargs then
      return nil, 'ERR durable commit: malformed layout of commit ' .. (#out + 1)
    end
    out[#out + 1] = L
    kb = kb + L[1]
    ab = ab + 1 + L[2]
  end
  if kb ~= #keys then return nil, 'ERR durable commit: the layouts do not use every key' end
  return out
end

local function commit(keys, args)
  local all, err = layouts(keys, args)
  if not all then return redis.error_reply(err) end
  if #all ~= 1 then return redis.error_reply('ERR durable commit: one commit expected') end
  return commit_at(keys, 0, all[1], args, 1, new_call())
end

-- Several commits in one call (group commit): each is checked and applied
-- under its own guard and answered alone: an array of versions and error
-- replies, one per commit.
local function commit_many(keys, args)
  local all, err = layouts(keys, args)
  if not all then return redis.error_reply(err) end
  local out, call = {}, new_call()
  local kb, ab = 0, 0
  for e, L in ipairs(all) do
    out[e] = commit_at(keys, kb, L, args, ab + 1, call)
    kb = kb + L[1]
    ab = ab + 1 + L[2]
  end
  return out
end

-- KEYS[1] = lease. ARGV = node, ttl ms. Takes the lease when it is free,
-- expired, or already ours (a restarted node reclaims its partitions at
-- once), always with a new epoch. Returns {epoch, owner, ms left}; epoch 0
-- when another node holds it.
local function lease_acquire(keys, args)
  local l = redis.call('HMGET', keys[1], 'owner', 'epoch', 'expires')
  local now = now_ms()
  if l[1] and l[1] ~= '' and l[1] ~= args[1] and tonumber(l[3] or '0') > now then
    return { 0, l[1], tonumber(l[3]) - now }
  end
  local epoch = redis.call('HINCRBY', keys[1], 'epoch', 1)
  redis.call('HSET', keys[1], 'owner', args[1], 'expires', now + tonumber(args[2]))
  return { epoch, args[1], tonumber(args[2]) }
end

-- KEYS[1] = lease. ARGV = node, epoch, ttl ms.
local function lease_renew(keys, args)
  local fenced = check_lease(keys[1], args[1], args[2], now_ms())
  if fenced then return redis.error_reply(fenced) end
  redis.call('HSET', keys[1], 'expires', now_ms() + tonumber(args[3]))
  return 1
end

-- KEYS[1] = lease. ARGV = node, epoch. Frees the lease (the epoch stays, so
-- the next owner's is higher). Returns 0 when it was not ours any more.
local function lease_release(keys, args)
  local l = redis.call('HMGET', keys[1], 'owner', 'epoch')
  if l[1] ~= args[1] or l[2] ~= args[2] then return 0 end
  redis.call('HSET', keys[1], 'owner', '', 'expires', 0)
  return 1
end

-- KEYS[1] = members (sorted set: node -> last heartbeat ms, Redis' clock),
-- KEYS[2] = nodes (hash: node -> what it advertises, msgpack). ARGV = node,
-- info, timeout ms[, incarnation, take]. Records the heartbeat (an empty
-- info: the node leaves) and returns the live nodes, sorted. Nodes silent
-- for 100 timeouts are forgotten. With an incarnation, a heartbeat under the
-- node's id is refused with "DURABLE_EXISTS <incarnation>" while another process's
-- heartbeat under it is fresh, unless `take` is '1' (a starting node that
-- found its predecessor gone).
local function heartbeat(keys, args)
  local now = now_ms()
  local timeout = tonumber(args[3])
  local incarnation = args[4]
  if args[2] ~= '' and incarnation and incarnation ~= '' and args[5] ~= '1' then
    local last = redis.call('ZSCORE', keys[1], args[1])
    local info = redis.call('HGET', keys[2], args[1])
    if last and info and tonumber(last) >= now - timeout then
      local ok, record = pcall(cmsgpack.unpack, info)
      local other = ok and type(record) == 'table' and record['incarnation']
      if type(other) == 'string' and other ~= '' and other ~= incarnation then
        return redis.error_reply('DURABLE_EXISTS ' .. other)
      end
    end
  end
  if args[2] == '' then
    redis.call('ZREM', keys[1], args[1])
    redis.call('HDEL', keys[2], args[1])
  else
    redis.call('ZADD', keys[1], now, args[1])
    redis.call('HSET', keys[2], args[1], args[2])
  end
  local forgotten = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now - 100 * math.max(timeout, 1000))
  for _, id in ipairs(forgotten) do
    redis.call('ZREM', keys[1], id)
    redis.call('HDEL', keys[2], id)
  end
  local live = redis.call('ZRANGEBYSCORE', keys[1], now - timeout, '+inf')
  table.sort(live)
  return live
end

-- KEYS[1] = meta. ARGV = partition count, format version. Records them on
-- first use; returns the recorded partition count.
local function hub_meta(keys, args)
  redis.call('HSETNX', keys[1], 'partitions', args[1])
  redis.call('HSETNX', keys[1], 'format', args[2])
  return tonumber(redis.call('HGET', keys[1], 'partitions'))
end

-- KEYS = dead letters, inbox, wake, active. ARGV = the dead letter's
-- stream id, its message bytes, the instance or entity id, the wake cap.
-- Moves a dead letter back into the inbox it came from (the message goes
-- last); returns 0 when it was no longer there (retried or discarded).
local function requeue(keys, args)
  if redis.call('XDEL', keys[1], args[1]) == 0 then return 0 end
  redis.call('XADD', keys[2], '*', 'e', args[2], 'x', '')
  redis.call('XADD', keys[3], 'MAXLEN', '~', args[4], '*', 'i', args[3])
  redis.call('SADD', keys[4], args[3])
  return 1
end

redis.register_function('durable_commit', commit)
redis.register_function('durable_commit_many', commit_many)
redis.register_function('durable_lease_acquire', lease_acquire)
redis.register_function('durable_lease_renew', lease_renew)
redis.register_function('durable_lease_release', lease_release)
redis.register_function('durable_hub_meta', hub_meta)
redis.register_function('durable_heartbeat', heartbeat)
redis.register_function('durable_requeue', requeue)
)lua";

}  // namespace

std::string_view function_source() { return kSource; }

Status load_functions(RedisConnection& connection) {
  auto reply = connection.command("FUNCTION", "LOAD", "REPLACE", kSource);
  return reply ? Status::ok() : reply.status();
}

}  // namespace durable::store
