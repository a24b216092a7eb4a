'use strict';
/**
 * Push-to-talk floor hand-over latency, for the voice scenario: two speakers on two API nodes take
 * turns in one `ptt` channel. Each round A holds the floor, B is queued; the clock starts just before A
 * sends `floor:release` and stops when B's socket (on the other node) receives the `floor` event naming
 * B as holder: the release script, the grant of the next in queue and the cross-node fan-out.
 */
const { connectReadySocket } = require('./socket');
const { Histogram } = require('./histogram');

const now = () => performance.timeOrigin + performance.now();

function waitForHolder(socket, channelId, holder, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off('floor', onFloor);
      reject(new Error(`no floor event with holder ${holder} in ${timeoutMs} ms`));
    }, timeoutMs);
    function onFloor(event) {
      if (event.channelId !== channelId || event.holder !== holder) return;
      clearTimeout(timer);
      socket.off('floor', onFloor);
      resolve(now());
    }
    socket.on('floor', onFloor);
  });
}

async function ack(socket, event, payload) {
  const answer = await socket.timeout(10_000).emitWithAck(event, payload);
  if (!answer || !answer.ok) throw new Error(`${event} refused: ${JSON.stringify(answer && answer.error)}`);
  return answer.data;
}

/** `users`: two seeded members of `channelId` ({id, token}); `urls`: the API nodes (A on the first, B on the last). */
async function floorHandover({ db, urls, users, channelId, rounds, log }) {
  await db.query(`UPDATE channels SET mode = 'ptt' WHERE id = $1`, [channelId]);
  // Each node caches a channel's mode for up to a second.
  await new Promise((r) => setTimeout(r, 1500));
  const a = await connectReadySocket(urls[0], users[0].token);
  const b = await connectReadySocket(urls[urls.length - 1], users[1].token);
  const hist = new Histogram();
  try {
    for (let round = 0; round < rounds; round++) {
      const granted = await ack(a, 'floor:request', { channelId });
      if (granted.state !== 'granted') throw new Error(`round ${round}: A ${JSON.stringify(granted)}`);
      const queued = await ack(b, 'floor:request', { channelId });
      if (queued.state !== 'queued' || queued.position !== 1) throw new Error(`round ${round}: B ${JSON.stringify(queued)}`);
      const grantedB = waitForHolder(b, channelId, users[1].id);
      const t0 = now();
      await ack(a, 'floor:release', { channelId });
      hist.add((await grantedB) - t0);
      const idle = waitForHolder(a, channelId, null);
      await ack(b, 'floor:release', { channelId });
      await idle;
    }
  } finally {
    a.close();
    b.close();
  }
  const summary = hist.summary();
  log(`    floor hand-over (${rounds} rounds, release on node A -> grant seen on node B): p50 ${summary.p50Ms} p99 ${summary.p99Ms} max ${summary.maxMs} ms`);
  return { rounds, ...summary };
}

module.exports = { floorHandover };
