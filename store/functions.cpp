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
local OPS = { XADD = true, HSET = true, HDEL = true, DEL = true, XDEL = true,
              SADD = true, SREM = true, ZADD = true, ZREM = true, RPUSH = true, LTRIM = true, EXPIRE = true, PERSIST = true,
              SREMIFDRAINED = true }

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Nil when `node` holds the lease at `epoch` and it has not expired by
-- Redis' clock; else the error text.
local function check_lease(lease_key, node, epoch)
  local l = redis.call('HMGET', lease_key, 'owner', 'epoch', 'expires')
  if l[1] ~= node or l[2] ~= epoch then
    return 'DURABLE_FENCED lease is held by ' .. tostring(l[1]) .. ' at epoch ' ..
           tostring(l[2]) .. ', not by ' .. node .. ' at epoch ' .. epoch
  end
  if tonumber(l[3] or '0') <= now_ms() then
    return 'DURABLE_FENCED lease of ' .. node .. ' at epoch ' .. epoch .. ' has expired'
  end
  return nil
end

-- A commit's keys and arguments: keys[kb + i] is its KEYS[i] (up to
-- keys[ke]), args[ab + i] its ARGV[i] (up to args[ae]): one call may carry
-- several commits.
local function key_at(keys, kb, ke, index)
  local i = tonumber(index)
  if i == nil or i < 1 or kb + i > ke then return nil end
  return keys[kb + i]
end

-- Ops: a flat list of (command, key index, argument count, arguments...).
local function parse_ops(keys, kb, ke, args, first, ae)
  local ops = {}
  local i = first
  while i <= ae do
    local name, key, n = args[i], key_at(keys, kb, ke, args[i + 1]), tonumber(args[i + 2])
    if not OPS[name] or key == nil or n == nil or i + 2 + n > ae then
      return nil, 'ERR durable commit: malformed op at argument ' .. i
    end
    -- SREMIFDRAINED <set> 2 <member> <stream key index>
    if name == 'SREMIFDRAINED' and (n ~= 2 or key_at(keys, kb, ke, args[i + 4]) == nil) then
      return nil, 'ERR durable commit: malformed SREMIFDRAINED at argument ' .. i
    end
    ops[#ops + 1] = { name, key, i + 3, i + 2 + n }
    i = i + 3 + n
  end
  return ops
end

-- Applies the ops; a new `version` rides on the first HSET of the row
-- (one write fewer). Returns whether it did.
local function apply_ops(keys, kb, ops, args, row, version)
  local stamped = false
  for _, op in ipairs(ops) do
    if version and not stamped and op[1] == 'HSET' and op[2] == row then
      redis.call('HSET', row, 'v', version, unpack(args, op[3], op[4]))
      stamped = true
    elseif op[1] == 'SREMIFDRAINED' then
      if redis.call('XLEN', keys[kb + tonumber(args[op[3] + 1])]) == 0 then
        redis.call('SREM', op[2], args[op[3]])
      end
    else
      redis.call(op[1], op[2], unpack(args, op[3], op[4]))
    end
  end
  return stamped
end

-- KEYS[1] = instance row. ARGV[1] = guard, then the guard's arguments,
-- then the ops. Guards:
--   fenced <lease key index> <node> <epoch> <expected version>
--       the writer owns the partition and has seen the row's latest version;
--       the version is incremented. Returns the new version.
--   idle <stream key index> <expected version>
--       the row is at that version and the stream is empty (clean-up).
--   create   the row is absent or final; the version is incremented.
--   live     the row exists and is not final.
--   final    the row exists and is final (a purge).
-- `leases` (optional) remembers check_lease's answers within one call.
local function commit_at(keys, kb, ke, args, ab, ae, leases)
  local guard, first = args[ab + 1], ab + 2
  local row = keys[kb + 1]
  if row == nil or kb + 1 > ke then return redis.error_reply('ERR durable commit: no row key') end
  if guard == 'fenced' then
    first = ab + 6
  elseif guard == 'idle' then
    first = ab + 4
  elseif guard ~= 'create' and guard ~= 'live' and guard ~= 'final' then
    return redis.error_reply('ERR durable commit: unknown guard ' .. tostring(guard))
  end
  local ops, err = parse_ops(keys, kb, ke, args, first, ae)
  if not ops then return redis.error_reply(err) end
  local version = nil
  if guard == 'fenced' then
    local lease = key_at(keys, kb, ke, args[ab + 2])
    if lease == nil then return redis.error_reply('ERR durable commit: bad lease key index') end
    local fenced
    if leases then
      local seen = lease .. '\n' .. args[ab + 3] .. '\n' .. args[ab + 4]
      fenced = leases[seen]
      if fenced == nil then
        fenced = check_lease(lease, args[ab + 3], args[ab + 4]) or false
        leases[seen] = fenced
      end
    else
      fenced = check_lease(lease, args[ab + 3], args[ab + 4])
    end
    if fenced then return redis.error_reply(fenced) end
    local current = redis.call('HGET', row, 'v') or '0'
    if current ~= args[ab + 5] then
      return redis.error_reply('DURABLE_VERSION instance is at version ' .. current ..
                               ', the writer expected ' .. args[ab + 5])
    end
    version = tonumber(current) + 1
  elseif guard == 'idle' then
    local inbox = key_at(keys, kb, ke, args[ab + 2])
    if inbox == nil then return redis.error_reply('ERR durable commit: bad inbox key index') end
    local current = redis.call('HGET', row, 'v') or '0'
    if current ~= args[ab + 3] or redis.call('XLEN', inbox) > 0 then
      return redis.error_reply('DURABLE_VERSION entity changed or has messages waiting')
    end
  else
    local row_now = redis.call('HMGET', row, 's', 'v')
    local status = row_now[1]
    if guard == 'create' and status and not FINAL[status] then
      return redis.error_reply('DURABLE_EXISTS instance exists and has not finished')
    end
    if guard == 'live' or guard == 'final' then
      if not status then return redis.error_reply('DURABLE_NOTFOUND no such instance') end
      if guard == 'live' and FINAL[status] then
        return redis.error_reply('DURABLE_FINISHED instance has finished')
      end
      if guard == 'final' and not FINAL[status] then
        return redis.error_reply('DURABLE_RUNNING instance has not finished')
      end
    end
    if guard == 'create' then
      version = tonumber(row_now[2] or '0') + 1
    end
  end
  local stamped = apply_ops(keys, kb, ops, args, row, version)
  -- A commit that only drops messages for an unknown instance leaves no row.
  if version and not stamped and redis.call('EXISTS', row) == 1 then
    redis.call('HSET', row, 'v', version)
  end
  return version or 0
end

local function commit(keys, args)
  return commit_at(keys, 0, #keys, args, 0, #args)
end

-- Several commits in one call (group commit): ARGV = count, then for each
-- commit its key count, its argument count and its arguments (key indices
-- count from its own first key); KEYS = every commit's keys in order. Each
-- commit is checked and applied under its own guard and answered alone: an
-- array of versions and error replies, one per commit. A lease is checked
-- once per call (the call is atomic: it cannot change in between).
local function commit_many(keys, args)
  local n = tonumber(args[1])
  if n == nil then return redis.error_reply('ERR durable commit_many: bad count') end
  local out, leases = {}, {}
  local kb, ab = 0, 1
  for e = 1, n do
    local nk, na = tonumber(args[ab + 1]), tonumber(args[ab + 2])
    if nk == nil or na == nil or kb + nk > #keys or ab + 2 + na > #args then
      return redis.error_reply('ERR durable commit_many: malformed commit ' .. e)
    end
    out[e] = commit_at(keys, kb, kb + nk, args, ab + 2, ab + 2 + na, leases)
    kb = kb + nk
    ab = ab + 2 + na
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
  local fenced = check_lease(keys[1], args[1], args[2])
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
-- KEYS[2] = nodes (hash: node -> what it advertises). ARGV = node, info,
-- timeout ms. Records the heartbeat (an empty info: the node leaves) and
-- returns the live nodes, sorted. Nodes silent for 100 timeouts are forgotten.
local function heartbeat(keys, args)
  local now = now_ms()
  local timeout = tonumber(args[3])
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

redis.register_function('durable_commit', commit)
redis.register_function('durable_commit_many', commit_many)
redis.register_function('durable_lease_acquire', lease_acquire)
redis.register_function('durable_lease_renew', lease_renew)
redis.register_function('durable_lease_release', lease_release)
redis.register_function('durable_hub_meta', hub_meta)
redis.register_function('durable_heartbeat', heartbeat)
)lua";

}  // namespace

std::string_view function_source() { return kSource; }

Status load_functions(RedisConnection& connection) {
  auto reply = connection.command("FUNCTION", "LOAD", "REPLACE", kSource);
  return reply ? Status::ok() : reply.status();
}

}  // namespace durable::store
