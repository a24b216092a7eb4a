/**
 * The floor of one `ptt` channel as a Redis lease, changed only by FLOOR_SCRIPT so every node sees one
 * state machine (3GPP TS 24.380's Idle / Taken / Queued, Grant, Release, Revoke, Pre-empt).
 *
 * KEYS: state hash, queue zset (userId by arrival), queue info hash (userId -> "node|socket"),
 *       the active zset (channelId by its next deadline, read by the sweepers).
 * ARGV: channelId, op, maxTalkMs, leaseMs, endOfMediaMs, then the op's arguments:
 *   request: userId node socket priority(1|0) workspaceId     release | end | media: userId
 *   renew: node      drop: userId socket      tick | clear | state: none
 * State fields: holder node socket since expiresAt lease media (last media ms or '') ws rev qseq.
 * Every op first revokes an expired holder (talk time, lease, end of media) and grants the next in
 * the queue, so whichever node touches the floor first also does the hand-over.
 * Replies JSON: {answer, position, changed, lost: [userId, reason]?, holder, since, expiresAt, queue, rev, ws}.
 */
export const FLOOR_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cid, op = ARGV[1], ARGV[2]
local maxTalk, lease, eom = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h = {}
local raw = redis.call('HGETALL', KEYS[1])
for i = 1, #raw, 2 do h[raw[i]] = raw[i + 1] end
local changed, lost, answer, position = false, nil, 'ok', nil
local function holder() if h.holder and h.holder ~= '' then return h.holder end return nil end

local function grantTo(user, node, socket)
  h.holder, h.node, h.socket, h.media = user, node, socket, ''
  h.since, h.expiresAt, h.lease = now, now + maxTalk, now + lease
  redis.call('ZREM', KEYS[2], user)
  redis.call('HDEL', KEYS[3], user)
  changed = true
end
local function grantNext()
  local nextUp = redis.call('ZPOPMIN', KEYS[2])
  if #nextUp == 0 then
    h.holder, h.node, h.socket, h.since, h.expiresAt, h.lease, h.media = '', '', '', '', '', '', ''
    changed = true
    return
  end
  local info = redis.call('HGET', KEYS[3], nextUp[1]) or '|'
  local sep = string.find(info, '|', 1, true)
  grantTo(nextUp[1], string.sub(info, 1, sep - 1), string.sub(info, sep + 1))
end
local function lose(reason)
  lost = {h.holder, reason}
  grantNext()
end

local current = holder()
if current then
  if now >= tonumber(h.expiresAt) then lose('timeout')
  elseif now >= tonumber(h.lease) then lose('lease')
  elseif h.media ~= '' and now >= tonumber(h.media) + eom then lose('silence') end
end
current = holder()

if op == 'request' then
  local user, node, socket, priority = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
  h.ws = ARGV[10]
  if current == user then
    answer = 'granted'
  elseif not current then
    grantTo(user, node, socket)
    answer = 'granted'
  elseif priority == '1' then
    lost = {current, 'preempted'}
    grantTo(user, node, socket)
    answer = 'granted'
  else
    if not redis.call('ZSCORE', KEYS[2], user) then
      h.qseq = tonumber(h.qseq or 0) + 1
      redis.call('ZADD', KEYS[2], h.qseq, user)
      redis.call('HSET', KEYS[3], user, node .. '|' .. socket)
      changed = true
    end
    answer = 'queued'
    position = redis.call('ZRANK', KEYS[2], user) + 1
  end
elseif op == 'release' or op == 'end' then
  local user = ARGV[6]
  if current == user then
    if op == 'release' then lose('released') else lose('ended') end
  elseif op == 'release' and redis.call('ZREM', KEYS[2], user) == 1 then
    redis.call('HDEL', KEYS[3], user)
    changed = true
  end
elseif op == 'media' then
  if current == ARGV[6] then h.media = now else answer = 'not_held' end
elseif op == 'renew' then
  if current and h.node == ARGV[6] then h.lease = now + lease end
elseif op == 'drop' then
  local user, socket = ARGV[6], ARGV[7]
  if current == user and h.socket == socket then
    lose('disconnected')
  else
    local info = redis.call('HGET', KEYS[3], user)
    if info and string.sub(info, -string.len(socket) - 1) == '|' .. socket then
      redis.call('ZREM', KEYS[2], user)
      redis.call('HDEL', KEYS[3], user)
      changed = true
    end
  end
elseif op == 'clear' then
  if current then lost = {current, 'mode'} end
  redis.call('DEL', KEYS[2], KEYS[3])
  h.holder, h.node, h.socket, h.since, h.expiresAt, h.lease, h.media = '', '', '', '', '', '', ''
  changed = true
end

if changed then h.rev = tonumber(h.rev or 0) + 1 end
local fields = {}
for k, v in pairs(h) do
  table.insert(fields, k)
  table.insert(fields, v)
end
if #fields > 0 then
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('PEXPIRE', KEYS[1], 86400000)
  redis.call('PEXPIRE', KEYS[2], 86400000)
  redis.call('PEXPIRE', KEYS[3], 86400000)
end
current = holder()
if current then
  local deadline = math.min(tonumber(h.expiresAt), tonumber(h.lease))
  if h.media ~= '' then deadline = math.min(deadline, tonumber(h.media) + eom) end
  redis.call('ZADD', KEYS[4], deadline, cid)
else
  redis.call('ZREM', KEYS[4], cid)
end
return cjson.encode({
  answer = answer, position = position, changed = changed, lost = lost, now = now,
  holder = current or false, since = tonumber(h.since) or false, expiresAt = tonumber(h.expiresAt) or false,
  queue = redis.call('ZRANGE', KEYS[2], 0, -1), rev = tonumber(h.rev or 0), ws = h.ws or false
})`;
