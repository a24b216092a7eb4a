'use strict';
/** Reconciliation of what the clients were told and delivered against what Postgres holds. */
const lib = require('./lib');

function countBy(items, key) {
  const out = {};
  for (const item of items) {
    const k = key(item);
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

async function heads(db, channelIds) {
  const r = await db.query('SELECT id, head_seq FROM channels WHERE id = ANY($1)', [channelIds]);
  return new Map(r.rows.map((row) => [row.id, Number(row.head_seq)]));
}

/**
 * @returns {Promise<object>} the figures; `report.pass` says whether the universal checks held
 */
async function reconcile(cluster, fleet, { channels, convergeMs = 30_000 }) {
  const db = cluster.db;
  const unsettled = fleet.pending();
  let channelHeads = await heads(db, channels);
  const behindAfterConverge = await fleet.converge(channelHeads, convergeMs);
  channelHeads = await heads(db, channels);

  // The log: contiguous 1..head per channel, one event per seq.
  const logRows = (await db.query('SELECT channel_id, seq FROM channel_events WHERE channel_id = ANY($1) ORDER BY channel_id, seq', [channels])).rows;
  const log = new Map(channels.map((c) => [c, []]));
  for (const row of logRows) log.get(row.channel_id).push(Number(row.seq));
  let logGaps = 0;
  for (const [channelId, seqs] of log) {
    const head = channelHeads.get(channelId) ?? 0;
    const have = new Set(seqs);
    for (let s = 1; s <= head; s++) if (!have.has(s)) logGaps++;
    if (seqs.length !== have.size) logGaps += seqs.length - have.size; // repeated seq in the log
  }

  // Stored messages vs acks.
  const stored = new Map();
  const rows = (
    await db.query(
      `SELECT client_msg_id, count(*)::int AS n, min(seq) AS seq, (array_agg(id::text))[1] AS id, min(created_at) AS created_at
         FROM messages WHERE client_msg_id LIKE $1 GROUP BY client_msg_id`,
      [`${fleet.tag}-%`],
    )
  ).rows;
  for (const row of rows) stored.set(row.client_msg_id, { n: row.n, seq: Number(row.seq), id: row.id, createdAt: new Date(row.created_at).getTime() });
  const acked = fleet.sends.filter((s) => s.ok);
  const lostIds = acked.filter((s) => !stored.has(s.clientMsgId)).map((s) => s.clientMsgId);
  const duplicatesStored = rows.filter((r) => r.n > 1).map((r) => r.client_msg_id);
  const seqMismatch = acked.filter((s) => stored.has(s.clientMsgId) && (stored.get(s.clientMsgId).seq !== s.seq || stored.get(s.clientMsgId).id !== s.messageId)).length;
  const storedNotAcked = fleet.sends.filter((s) => !s.ok && stored.has(s.clientMsgId)).length;
  const finalFailures = countBy(fleet.sends.filter((s) => s.tAck && !s.ok), (s) => s.error);

  // Delivered streams vs the log.
  let duplicatesDelivered = 0;
  let outOfOrder = 0;
  let holes = 0; // missing seqs below the last delivered one
  let tailMissing = 0; // missing seqs above the last delivered one (not caught up at the end)
  const holeExamples = [];
  for (const s of fleet.clients) {
    const seqs = s.delivered.map((d) => d.seq);
    const seen = new Set();
    const ids = new Set();
    for (let i = 0; i < s.delivered.length; i++) {
      const d = s.delivered[i];
      if (seen.has(d.seq)) duplicatesDelivered++;
      else if (d.type === 'message.created' && ids.has(d.id)) duplicatesDelivered++;
      seen.add(d.seq);
      if (d.type === 'message.created') ids.add(d.id);
      if (i > 0 && d.seq <= seqs[i - 1]) outOfOrder++;
    }
    const last = seqs.length ? Math.max(...seqs) : s.startSeq;
    for (const seq of log.get(s.channelId) || []) {
      if (seq <= s.startSeq || seen.has(seq)) continue;
      if (seq < last) {
        holes++;
        if (holeExamples.length < 10) holeExamples.push({ client: s.index, channelId: s.channelId, seq });
      } else tailMissing++;
    }
  }

  const disconnected = fleet.clients.filter((s) => s.disconnects.length > 0);
  const resumed = disconnected.filter((s) => s.readies.some((t) => t > s.disconnects[s.disconnects.length - 1].t));
  const readyAtEnd = fleet.clients.filter((s) => s.client.isReady).length;
  const sendDurations = acked.map((s) => s.tAck - s.tSent).sort((a, b) => a - b);
  const pct = (p) => (sendDurations.length ? sendDurations[Math.min(sendDurations.length - 1, Math.floor(p * sendDurations.length))] : null);

  const report = {
    sends: fleet.sends.length,
    ackedOk: acked.length,
    ackedLost: lostIds.length,
    ackedLostIds: lostIds.slice(0, 20),
    duplicatesStored: duplicatesStored.length,
    duplicatesStoredIds: duplicatesStored.slice(0, 20),
    ackSeqMismatch: seqMismatch,
    storedNotAcked,
    unsettledAtEnd: unsettled,
    finalFailures,
    skippedClientBacklog: fleet.skipped,
    duplicatesDelivered,
    gaps: holes,
    gapExamples: holeExamples,
    notCaughtUpAtEnd: tailMissing,
    clientsBehindAfterConverge: behindAfterConverge,
    logGaps,
    outOfOrder,
    errorsAnswered: fleet.errors,
    clients: fleet.clients.length,
    clientsDisconnected: disconnected.length,
    clientsResumed: resumed.length,
    clientsReadyAtEnd: readyAtEnd,
    ackLatencyMs: { p50: pct(0.5), p99: pct(0.99), max: sendDurations.length ? sendDurations[sendDurations.length - 1] : null },
    sdkBackgroundErrors: countBy(
      fleet.clients.flatMap((s) => s.listenerErrors),
      (e) => e.split(':')[0].slice(0, 60),
    ),
  };
  report.universalPass =
    report.ackedLost === 0 &&
    report.duplicatesStored === 0 &&
    report.duplicatesDelivered === 0 &&
    report.gaps === 0 &&
    report.outOfOrder === 0 &&
    report.logGaps === 0 &&
    report.ackSeqMismatch === 0;
  return { report, stored };
}

function print(name, report) {
  const line = (k, v) => process.stdout.write(`  ${k.padEnd(34)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
  process.stdout.write(`\n=== chaos ${name}: ${report.pass ? 'PASS' : 'FAIL'} ===\n`);
  for (const [k, v] of Object.entries(report)) if (k !== 'pass') line(k, v);
  process.stdout.write('\n');
}

module.exports = { reconcile, print, heads };
void lib;
