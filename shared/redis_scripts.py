"""Every Lua script the services run on Redis, each named once here.

Load them with `client.register_script(...)` (redis-py sends EVALSHA and
reloads a script Redis forgot, e.g. after a restart).

Scripts that read or change derived state which must be complete first
(status indexes, status bits, list snapshots) take the service's generation
key and replayed key as KEYS[1] and KEYS[2] and refuse, returning the
`NOT_REPLAYED` marker, unless the state of the current generation has caught
up with Kafka (`shared.derived_state`). The check and the change are one
atomic step, so a Redis wipe between them cannot slip through.
"""

from __future__ import annotations

NOT_REPLAYED = -2

_REPLAYED_GUARD = f"""
local generation = redis.call('GET', KEYS[1])
if not generation or redis.call('GET', KEYS[2]) ~= generation then return {NOT_REPLAYED} end
"""

# KEYS: generation, replayed, offsets hashes...; ARGV: a new generation id.
# Adopt the current generation, or start a new one when there is none (a new
# or wiped Redis): then the replay starts from the beginning, so offsets left
# from before are dropped. Returns {generation, 1 if new else 0}.
OPEN_GENERATION = """
local current = redis.call('GET', KEYS[1])
if current then return {current, 0} end
redis.call('SET', KEYS[1], ARGV[1])
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return {ARGV[1], 1}
"""

# KEYS: generation, offsets hash; ARGV: generation. The offsets, or -1 when
# the generation changed (the state they belong to is gone).
LOAD_OFFSETS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('HGETALL', KEYS[2])
"""

# KEYS: generation, offsets hash; ARGV: generation, partition, offset, ...
# Written only under the generation they were read for: a consumer that
# outlived a wipe never plants offsets in an empty Redis. 1, or 0 if refused.
SAVE_OFFSETS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""

# KEYS: generation, replayed; ARGV: generation. The state of this generation
# caught up with Kafka. 1, or 0 if the generation changed meanwhile.
MARK_REPLAYED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
return 1
"""

LIST_FULL = -3

# KEYS: generation, replayed, then a bitmap and a counter per list; ARGV: the
# fill limit, the number of candidates per entry, the list size (a power of
# two, so a 32-bit word modulo the size is uniform), the candidates as one
# string (4 random bytes each, big-endian, that many per entry, entry after
# entry: one argument instead of a thousand), then each entry's list (1-based).
# Claim, for each entry, the first free candidate in its list (invariant 1),
# unless the list already holds `fill limit` entries. Returns {generation, one
# result per entry: the index, -1 when every candidate was taken, or
# LIST_FULL}, or NOT_REPLAYED.
CLAIM_STATUS_ENTRIES = (
    _REPLAYED_GUARD
    + """
local limit, per_entry, size = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local drawn = ARGV[4]
local results = {generation}
for entry = 1, #ARGV - 4 do
  local list = tonumber(ARGV[4 + entry])
  local bitmap, counter = KEYS[2 * list + 1], KEYS[2 * list + 2]
  local result = -1
  if tonumber(redis.call('GET', counter) or '0') >= limit then
    result = """
    + str(LIST_FULL)
    + """
  else
    for i = 1, per_entry do
      local at = ((entry - 1) * per_entry + i - 1) * 4 + 1
      local a, b, c, d = string.byte(drawn, at, at + 3)
      local index = (((a * 256 + b) * 256 + c) * 256 + d) % size
      if redis.call('GETBIT', bitmap, index) == 0 then
        redis.call('SETBIT', bitmap, index, 1)
        redis.call('INCR', counter)
        result = index
        break
      end
    end
  end
  results[entry + 1] = result
end
return results
"""
)

# KEYS: a bitmap, a counter and the current list number per list; ARGV: each
# list's number, then the list (1-based) and the index of each entry. Replay
# of issued entries: mark each index taken (counted once) and raise the
# current list number to the list's.
RECORD_STATUS_ENTRIES = """
local lists = #KEYS / 3
for at = lists + 1, #ARGV, 2 do
  local list = tonumber(ARGV[at])
  if redis.call('SETBIT', KEYS[3 * list - 2], ARGV[at + 1], 1) == 0 then
    redis.call('INCR', KEYS[3 * list - 1])
  end
end
for list = 1, lists do
  local number = tonumber(ARGV[list])
  if number > tonumber(redis.call('GET', KEYS[3 * list]) or '0') then
    redis.call('SET', KEYS[3 * list], number)
  end
end
return 1
"""

# KEYS: generation, replayed, list bitmap; ARGV: index. The bit, or NOT_REPLAYED.
GET_STATUS_BIT = (
    _REPLAYED_GUARD
    + """
return redis.call('GETBIT', KEYS[3], ARGV[1])
"""
)

# KEYS: generation, replayed, sequence, list bitmap; ARGV: time-based sequence.
# A strictly increasing sequence and the list's bits, or NOT_REPLAYED.
SNAPSHOT_STATUS_LIST = (
    _REPLAYED_GUARD
    + """
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local sequence = math.max(tonumber(ARGV[1]), last + 1)
redis.call('SET', KEYS[3], string.format('%d', sequence))
return {sequence, redis.call('GET', KEYS[4])}
"""
)

# KEYS: a counter; ARGV: value, default. Raise it to `value` (never lower).
RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]) or ARGV[2])
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""

# KEYS: the current list number; ARGV: the number the caller saw.
# Compare-and-set, so that concurrent issuers open the next list once.
ADVANCE_LIST = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current == tonumber(ARGV[1]) then redis.call('SET', KEYS[1], current + 1) return current + 1 end
return current
"""

# KEYS: generation, replayed, hash; ARGV: fields. Their values (nil when
# absent), or NOT_REPLAYED: a record that may be missing only because the
# state is still being rebuilt must not read as "never used".
HMGET_REPLAYED = (
    _REPLAYED_GUARD
    + """
return redis.call('HMGET', KEYS[3], unpack(ARGV))
"""
)

# Leases (shared/idempotency.py `leases`). KEYS: the lease names; ARGV: the
# holder's token, the lease in ms. Take every one or none (1 or 0): a holder
# never sits on some while it waits for the others.
ACQUIRE_LEASES = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return 0 end
end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
return 1
"""

# KEYS: the lease names; ARGV: token, lease in ms. Extend those still held.
RENEW_LEASES = """
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1
"""

# KEYS: the lease names; ARGV: token. Free those still held by this holder.
RELEASE_LEASES = """
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 1
"""

# A bulk job's writes hold only in the state generation the job was read in,
# replayed: after a Redis wipe the job is read again, rebuilt from Kafka,
# and its rows are awarded again (each answers the credential it got), so no
# write of the old run leaves a partial job or moves its offset past rows
# whose results the wipe took. The job's hash must exist too.
_BULK_JOB_GUARD = f"""
local generation = redis.call('GET', KEYS[1])
if not generation or redis.call('GET', KEYS[2]) ~= generation or generation ~= ARGV[1]
  or redis.call('EXISTS', KEYS[3]) == 0 then return {NOT_REPLAYED} end
"""

# KEYS: generation, replayed, the job hash, its results hash, its counts hash;
# ARGV: the job's generation, the offset to resume from after these rows, then
# (row, result, counter) triples. Each row is recorded and counted once (a row
# replayed after a crash is neither), and the resume offset only moves
# forward: progress never goes back. The number of rows newly recorded, or
# NOT_REPLAYED.
RECORD_BULK_RESULTS = (
    _BULK_JOB_GUARD
    + """
local recorded = 0
for i = 3, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[4], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HINCRBY', KEYS[5], 'read', 1)
    redis.call('HINCRBY', KEYS[5], ARGV[i + 2], 1)
    recorded = recorded + 1
  end
end
local resume = tonumber(redis.call('HGET', KEYS[3], 'next_offset') or '0')
if tonumber(ARGV[2]) > resume then redis.call('HSET', KEYS[3], 'next_offset', ARGV[2]) end
return recorded
"""
)

# KEYS: generation, replayed, the job hash, the active jobs set; ARGV: the
# job's generation, job id, state, 1 if the state ends the job. 1, or
# NOT_REPLAYED.
SET_BULK_STATE = (
    _BULK_JOB_GUARD
    + """
redis.call('HSET', KEYS[3], 'state', ARGV[3])
if ARGV[4] == '1' then redis.call('SREM', KEYS[4], ARGV[2]) end
return 1
"""
)

# KEYS: the finished deliveries set, the tenant's log, the tenant's dead
# letters, the pending deliveries hash, the delivery queue; ARGV: delivery
# id, log entry, dead letter entry ('' unless it died), entries kept. A
# delivery's end is logged once, whether applied by the instance that made
# it or replayed from Kafka, and it leaves the queue.
FINISH_WEBHOOK_DELIVERY = """
redis.call('ZREM', KEYS[5], ARGV[1])
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  redis.call('HDEL', KEYS[4], ARGV[1])
  return 0
end
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[4]) - 1)
end
redis.call('HDEL', KEYS[4], ARGV[1])
return 1
"""

# KEYS: the delivery queue (a sorted set by due time, ms); ARGV: now, the
# lease's end, then delivery ids. Each id still due is claimed: its due time
# moves to the lease's end, so only one instance attempts it, and if that
# attempt never records an outcome (the process killed, Redis away a moment)
# the delivery is due again when the lease ends. Returns the ids claimed.
CLAIM_DUE_DELIVERIES = """
local claimed = {}
for i = 3, #ARGV do
  local due = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if due and tonumber(due) <= tonumber(ARGV[1]) then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
    claimed[#claimed + 1] = ARGV[i]
  end
end
return claimed
"""

# KEYS: a hash; ARGV: fields. 1 or 0 for each: whether the hash has it.
HEXISTS_MANY = """
local found = {}
for i = 1, #ARGV do found[i] = redis.call('HEXISTS', KEYS[1], ARGV[i]) end
return found
"""

# KEYS: one key per write; ARGV: per write its command (one of the few
# `shared.redis_writes.Writes` makes), its argument count, its arguments.
# The writes in order, as one atomic step (what MULTI/EXEC gives, in one
# reply). Returns the number of writes.
APPLY_WRITES = """
local allowed = {HSET = true, HSETNX = true, SADD = true, ZADD = true}
local i = 1
for k = 1, #KEYS do
  local command, count = ARGV[i], tonumber(ARGV[i + 1])
  if not allowed[command] then return redis.error_reply('APPLY_WRITES: no ' .. command) end
  redis.call(command, KEYS[k], unpack(ARGV, i + 2, i + 1 + count))
  i = i + 2 + count
end
return #KEYS
"""
