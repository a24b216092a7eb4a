'use strict';
/**
 * Baseline for the benchmarks: a bare Socket.IO 4 server with no auth, storage, Redis or Nest.
 * It speaks just enough of the /rt contract (docs/PROTOCOL.md) for the same load generator and the
 * same client SDK to run against it:
 *   - namespace /rt, websocket transport, perMessageDeflate off (like the API);
 *   - rooms from handshake `auth.channels` (or a `join {channelId}` / `join {channels}` event);
 *   - `ready` on connect, shaped like Pigeon's, so PigeonClient.connect() resolves;
 *   - `message:send {channelId, clientMsgId, body}` acks {ok:true, data} and broadcasts `event`
 *     {channelId, seq, type:'message.created', at, data:{body, createdAt, clientMsgId}} to `ch:<id>`
 *     with an in-memory per-channel seq counter;
 *   - `sync` answers from a small in-memory ring of recent events (so SDK gap repair works).
 * Started by the bench harness with PORT=0 and HOST=127.0.0.1; reports {type:'listening', port} over IPC.
 */
const http = require('node:http');
const { Server } = require('socket.io');

const PORT = Number(process.env.PORT ?? 0);
const HOST = process.env.HOST ?? '127.0.0.1';
const RING = Number(process.env.BASELINE_RING ?? 2000);
const WORKSPACE_ID = '00000000-0000-4000-8000-000000000000';

const channels = new Map(); // channelId -> {seq, ring: []}
function channel(id) {
  let c = channels.get(id);
  if (!c) {
    c = { seq: 0, ring: [] };
    channels.set(id, c);
  }
  return c;
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(req.url === '/health/live' ? 200 : 404, { 'content-type': 'application/json' });
  res.end('{}');
});
const io = new Server(httpServer, {
  transports: ['websocket'],
  perMessageDeflate: false,
  maxHttpBufferSize: 128 * 1024,
  pingInterval: 25_000,
  pingTimeout: 20_000,
});
const rt = io.of('/rt');

const isString = (v, max = 200) => typeof v === 'string' && v.length > 0 && v.length <= max;
const ack = (cb, payload) => (typeof cb === 'function' ? cb(payload) : undefined);
const fail = (cb, code, message) => ack(cb, { ok: false, error: { code, message } });

function readyPayload(socket) {
  const ids = [...socket.rooms].filter((r) => r.startsWith('ch:')).map((r) => r.slice(3));
  return {
    userId: socket.id,
    workspaces: [{ id: WORKSPACE_ID, role: 'member', channels: ids.map((id) => ({ id, headSeq: channel(id).seq, lastReadSeq: 0 })) }],
  };
}

rt.on('connection', (socket) => {
  const auth = socket.handshake.auth ?? {};
  const initial = Array.isArray(auth.channels) ? auth.channels.filter((c) => isString(c)) : [];
  if (initial.length) socket.join(initial.map((c) => `ch:${c}`));
  socket.emit('ready', readyPayload(socket));

  socket.on('join', (payload, cb) => {
    const list = Array.isArray(payload?.channels) ? payload.channels : [payload?.channelId];
    const valid = list.filter((c) => isString(c));
    if (!valid.length) return fail(cb, 'VALIDATION', 'channelId required');
    socket.join(valid.map((c) => `ch:${c}`));
    ack(cb, { ok: true, data: { channels: valid.map((id) => ({ id, headSeq: channel(id).seq })) } });
  });

  socket.on('message:send', (payload, cb) => {
    if (!payload || !isString(payload.channelId) || !isString(payload.clientMsgId, 64) || !isString(payload.body, 4000)) {
      return fail(cb, 'VALIDATION', 'channelId, clientMsgId and body are required');
    }
    const c = channel(payload.channelId);
    const seq = ++c.seq;
    const at = new Date().toISOString();
    const data = { body: payload.body, createdAt: at, clientMsgId: payload.clientMsgId };
    const event = { workspaceId: WORKSPACE_ID, channelId: payload.channelId, seq, type: 'message.created', at, data };
    c.ring.push(event);
    if (c.ring.length > RING) c.ring.splice(0, c.ring.length - RING);
    ack(cb, { ok: true, data: { ...data, channelId: payload.channelId, seq } });
    rt.to(`ch:${payload.channelId}`).emit('event', event);
  });

  socket.on('sync', (payload, cb) => {
    const list = Array.isArray(payload?.channels) ? payload.channels : [];
    const limit = Math.min(Math.max(Number(payload?.limit) || 500, 1), 500);
    const out = list.map(({ channelId, afterSeq }) => {
      const c = channel(String(channelId));
      const events = c.ring.filter((e) => e.seq > Number(afterSeq || 0)).slice(0, limit);
      const last = events.length ? events[events.length - 1].seq : c.seq;
      return { channelId, events, headSeq: c.seq, hasMore: last < c.seq };
    });
    ack(cb, { ok: true, data: { channels: out } });
  });

  // Everything else in the contract is acked as a no-op, so a client never waits on a timeout.
  for (const name of ['channel:read', 'typing', 'presence:set', 'auth:refresh']) {
    socket.on(name, (_payload, cb) => ack(cb, { ok: true, data: {} }));
  }
});

httpServer.listen(PORT, HOST, () => {
  const { port } = httpServer.address();
  process.stdout.write(`baseline Socket.IO server listening on ${HOST}:${port}\n`);
  if (process.send) process.send({ type: 'listening', port });
});

function shutdown() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown); // the harness went away
