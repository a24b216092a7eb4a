// The Lua side of RecordingStore (see recordingKeys for what each key holds).

/** Creates the meta hash once (a retried voice:start must not reset a recording in progress). */
export const OPEN_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], 'state', 'recording', 'userId', ARGV[1], 'channelId', ARGV[2], 'messageId', ARGV[3],
  'workspaceId', ARGV[4], 'next', 0, 'bytes', 0, 'startedAt', now[1] * 1000 + math.floor(now[2] / 1000))
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[6])
return 1`;

/**
 * Stores one chunk and moves every chunk that is now contiguous into the stream, atomically, so any
 * node may receive a chunk and the stream is always in index order. Replies `{status}` or
 * `{'ok', index1, data1, index2, data2, ...}` with the chunks to relay, in order.
 * KEYS: meta, held, stream, alive. ARGV: userId, index, data, maxBytes, maxDurationMs, ttlMs, abandonMs.
 */
export const APPEND_SCRIPT = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing'} end
if redis.call('HGET', KEYS[1], 'userId') ~= ARGV[1] then return {'not_speaker'} end
if state ~= 'recording' then return {'ended'} end
local index = tonumber(ARGV[2])
local nextIndex = tonumber(redis.call('HGET', KEYS[1], 'next'))
if index < nextIndex or redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {'duplicate'} end
local now = redis.call('TIME')
local nowMs = now[1] * 1000 + math.floor(now[2] / 1000)
if nowMs - tonumber(redis.call('HGET', KEYS[1], 'startedAt')) > tonumber(ARGV[5]) then return {'too_long'} end
local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes')) + string.len(ARGV[3])
if bytes > tonumber(ARGV[4]) then return {'too_large'} end
redis.call('HSET', KEYS[1], 'bytes', bytes)
redis.call('SET', KEYS[4], '1', 'PX', ARGV[7])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local reply = {'ok'}
while true do
  local data = redis.call('HGET', KEYS[2], tostring(nextIndex))
  if not data then break end
  redis.call('XADD', KEYS[3], '*', 'i', nextIndex, 'd', data)
  redis.call('HDEL', KEYS[2], tostring(nextIndex))
  table.insert(reply, nextIndex)
  table.insert(reply, data)
  nextIndex = nextIndex + 1
end
redis.call('PEXPIRE', KEYS[3], ARGV[6])
redis.call('HSET', KEYS[1], 'next', nextIndex)
return reply`;

/** Writes the end marker once and lets the recording's keys expire. KEYS: stream, meta, held, alive. */
export const CLOSE_SCRIPT = `
if redis.call('HGET', KEYS[2], 'closed') ~= '1' then
  redis.call('XADD', KEYS[1], '*', 'end', '1')
  redis.call('HSET', KEYS[2], 'state', 'ended', 'closed', '1')
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3], KEYS[4])
return 1`;

/** Releases a lock only if this process still holds it. */
export const UNLOCK_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
