'use strict';
/**
 * search: one workspace with `channels` (100) channels and `messages` (1M) text messages seeded by SQL
 * (bodies of 6..20 words drawn Zipf-like from a `vocabulary`-word list; the search trigger computes each
 * tsvector as the API's writes would), one member of every channel, then
 * GET /api/workspaces/:wid/search for typical queries (rare word, mid word, two words, a phrase, with
 * in:/from: filters, and a very common word as the worst case) at 1 and 4 in flight, p50/p99 client side.
 * Also: GIN index size, and the write cost per message with the trigger + index vs without.
 */
const { startPrivateRedis } = require('../lib/procs');
const { freshDatabase, startApiNodes, stopAll, BENCH_REDIS_URL } = require('../lib/pigeon');
const { connectDb, seedWorkspaces } = require('../lib/seed');
const { Histogram } = require('../lib/histogram');

const DEFAULTS = {
  messages: 1_000_000,
  channels: 100,
  chunk: 100_000,
  vocabulary: 4000,
  requests: 200,
  commonRequests: 12,
  p99LimitMs: 50,
  writeSample: 20_000,
};

/** Pronounceable distinct words: consonant-vowel syllables, 2..3 of them. */
function vocabulary(n) {
  const c = 'bdfgklmnprstvz';
  const v = 'aeiou';
  const words = new Set();
  let i = 0;
  while (words.size < n) {
    let w = '';
    let k = i++;
    const syllables = 2 + (k % 2);
    for (let s = 0; s < syllables; s++) {
      w += c[k % c.length] + v[Math.floor(k / c.length) % v.length];
      k = Math.floor(k / (c.length * v.length)) + s * 7 + 3;
    }
    words.add(w + (words.has(w) ? String(i) : ''));
  }
  return [...words];
}

async function measure(n, concurrency, fn) {
  const hist = new Histogram();
  const errors = {};
  let next = 0;
  const started = Date.now();
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const t = performance.now();
      try {
        await fn(i);
        hist.add(performance.now() - t);
      } catch (error) {
        const k = String(error && error.message).slice(0, 80);
        errors[k] = (errors[k] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const sec = (Date.now() - started) / 1000;
  return { ...hist.summary(), requests: n, concurrency, perSec: Math.round(hist.total / sec), errors };
}

// Zipf-like: index = floor(V * u^3) puts ~22% of picks on the top 1% of words.
const BODY_SQL = `(SELECT string_agg(($5::text[])[1 + floor($6 * power(random(), 3))::int], ' ')
                     FROM generate_series(1, 6 + (s % 15)::int) g WHERE s >= 0)`;

async function run(cfgIn, { log }) {
  const cfg = { ...DEFAULTS, ...cfgIn };
  const redis = await startPrivateRedis(BENCH_REDIS_URL);
  const out = { queries: {} };
  await freshDatabase();
  // A generous search limit: the bench measures latency, not the limiter.
  const nodes = await startApiNodes(1, { redisUrl: redis.url, extraEnv: { SEARCH_RATE_BURST: '100000', SEARCH_RATE_PER_SECOND: '100000' } });
  const db = await connectDb();
  try {
    const seed = await seedWorkspaces(db, { workspaces: 1, channelsPerWorkspace: cfg.channels, usersPerWorkspace: 2, log });
    const user = seed.users[0];
    const workspaceId = user.workspaceId;
    const channelIds = seed.workspaces[0].channels;
    const authors = seed.users.map((u) => u.id);
    // The searching user joins every channel (seedWorkspaces puts each user in one).
    await db.query(
      `INSERT INTO channel_members (channel_id, user_id, workspace_id) SELECT c, $2, $3 FROM unnest($1::uuid[]) c ON CONFLICT DO NOTHING`,
      [channelIds, user.id, workspaceId],
    );
    const words = vocabulary(cfg.vocabulary);
    log(`  seeding ${cfg.messages.toLocaleString('en-US')} messages over ${cfg.channels} channels by SQL (vocabulary ${words.length}, chunks of ${cfg.chunk.toLocaleString('en-US')})`);
    await db.query('SET synchronous_commit = off');
    const seedStarted = Date.now();
    const perChannel = Math.ceil(cfg.messages / cfg.channels);
    for (let from = 0; from < cfg.messages; from += cfg.chunk) {
      const to = Math.min(cfg.messages, from + cfg.chunk) - 1;
      await db.query(
        `INSERT INTO messages (workspace_id, channel_id, seq, author_id, client_msg_id, kind, body, created_at)
         SELECT $1, ($2::uuid[])[1 + (s % $7)::int], 1 + s / $7, ($8::uuid[])[1 + (s % 2)::int], 'seed-' || s, 'text', ${BODY_SQL},
                now() - make_interval(secs => ($4 - s))
           FROM generate_series($3::bigint, $4::bigint) AS s`,
        [workspaceId, channelIds, from, to, words, words.length, cfg.channels, authors],
      );
      log(`    ${(to + 1).toLocaleString('en-US')} (${((Date.now() - seedStarted) / 1000).toFixed(0)} s)`);
    }
    await db.query(`UPDATE channels SET head_seq = $2 WHERE workspace_id = $1`, [workspaceId, perChannel]);
    await db.query('VACUUM ANALYZE messages');
    const seedSec = Math.round((Date.now() - seedStarted) / 100) / 10;
    const { rows: sizes } = await db.query(
      `SELECT pg_size_pretty(pg_relation_size('ix_messages_search')) AS gin, pg_relation_size('ix_messages_search') AS gin_bytes,
              pg_size_pretty(pg_total_relation_size('messages')) AS total, (SELECT count(*) FROM messages) AS n,
              (SELECT count(*) FROM messages WHERE search_vector IS NOT NULL) AS indexed`,
    );
    out.seed = { seconds: seedSec, ginSize: sizes[0].gin, ginBytesPerMessage: Math.round(Number(sizes[0].gin_bytes) / Number(sizes[0].n)), tableSize: sizes[0].total };
    log(`  seeded in ${seedSec} s: ${sizes[0].n} messages (${sizes[0].indexed} with a tsvector), messages ${sizes[0].total} in all, GIN ${sizes[0].gin}`);
    if (Number(sizes[0].indexed) !== cfg.messages) throw new Error('seed check failed: not every message has a tsvector');

    // Word frequencies, to pick queries of known selectivity.
    const { rows: stats } = await db.query(
      `SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM messages') ORDER BY ndoc DESC`,
    );
    const at = (fraction) => stats[Math.min(stats.length - 1, Math.floor(stats.length * fraction))];
    const common = stats[0];
    const mid = at(0.1);
    const rare = at(0.7);
    const second = at(0.15);
    const { rows: phraseRows } = await db.query(
      `SELECT body FROM messages WHERE search_vector @@ to_tsquery('simple', $1) LIMIT 1`,
      [mid.word],
    );
    const bodyWords = phraseRows[0].body.split(' ');
    const pos = Math.max(0, bodyWords.indexOf(mid.word));
    const phrase = bodyWords.slice(pos, pos + 2).join(' ');
    const queries = [
      [`rare word (${rare.ndoc} messages)`, rare.word],
      [`mid word (${mid.ndoc} messages)`, mid.word],
      [`two words (${mid.ndoc} ∩ ${second.ndoc})`, `${mid.word} ${second.word}`],
      ['phrase of two words', `"${phrase}"`],
      ['mid word in:#one channel', `${mid.word} in:#bench-7`],
      ['mid word from:@author', `${mid.word} from:@${authors[1]}`],
      // Matches most of the workspace: every match is ranked, so few requests (it is the slow case).
      [`most common word (${common.ndoc} messages)`, common.word, cfg.commonRequests],
    ];
    const base = `${nodes[0].url}/api/workspaces/${workspaceId}/search?q=`;
    const once = (q) => async () => {
      const res = await fetch(base + encodeURIComponent(q), { headers: { authorization: `Bearer ${user.token}` }, signal: AbortSignal.timeout(30_000) });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      if (!Array.isArray(body.results) || body.results.length === 0) throw new Error('no results');
    };
    for (const [name, q, count = cfg.requests] of queries) {
      await measure(Math.min(20, count), 2, once(q)); // warm-up
      const serial = await measure(count, 1, once(q));
      const parallel = await measure(count, 4, once(q));
      out.queries[name] = { q, serial, parallel };
      log(`    ${name} [${q}]: 1 in flight p50 ${serial.p50Ms} p99 ${serial.p99Ms}; 4 in flight p50 ${parallel.p50Ms} p99 ${parallel.p99Ms} ms ${JSON.stringify(parallel.errors)}`);
    }

    // Write cost: the same batch of inserts with the search trigger (and so the GIN entries) and without.
    const insertBatch = async (prefix, offset) => {
      const t = performance.now();
      await db.query('BEGIN');
      await db.query(
        `INSERT INTO messages (workspace_id, channel_id, seq, author_id, client_msg_id, kind, body)
         SELECT $1, ($2::uuid[])[1 + (s % $7)::int], $9 + s, ($8::uuid[])[1], $10 || s, 'text', ${BODY_SQL}
           FROM generate_series($3::bigint, $4::bigint) AS s`,
        [workspaceId, channelIds, 1, cfg.writeSample, words, words.length, cfg.channels, authors, offset, prefix],
      );
      await db.query('COMMIT');
      return performance.now() - t;
    };
    const withIndex = await insertBatch('w-on-', 10_000_000);
    await db.query('ALTER TABLE messages DISABLE TRIGGER messages_search_vector');
    const without = await insertBatch('w-off-', 20_000_000).finally(() => db.query('ALTER TABLE messages ENABLE TRIGGER messages_search_vector'));
    out.write = {
      withUs: Math.round((withIndex * 1000) / cfg.writeSample),
      withoutUs: Math.round((without * 1000) / cfg.writeSample),
    };
    log(`  write: ${out.write.withUs} µs/message with trigger + GIN, ${out.write.withoutUs} µs without (${cfg.writeSample} rows in one statement)`);
  } finally {
    await db.end();
    await stopAll(nodes);
    await redis.stop();
  }

  const ok = (r) => r.p99Ms !== null && r.p99Ms <= cfg.p99LimitMs && Object.keys(r.errors).length === 0;
  const head = ['query', 'q', '1 in flight p50 / p99 ms', '4 in flight p50 / p99 ms', 'req/s at 4', 'errors', `p99 <= ${cfg.p99LimitMs} ms`];
  const rows = Object.entries(out.queries).map(([name, r]) => [
    name,
    `\`${r.q.replace(/\|/g, '\\|')}\``,
    `${r.serial.p50Ms} / ${r.serial.p99Ms}`,
    `${r.parallel.p50Ms} / ${r.parallel.p99Ms}`,
    r.parallel.perSec,
    Object.keys(r.parallel.errors).length ? JSON.stringify(r.parallel.errors) : '0',
    ok(r.serial) && ok(r.parallel) ? 'met' : 'NOT met',
  ]);
  const met = Object.values(out.queries).filter((r) => ok(r.serial) && ok(r.parallel)).length;
  return {
    scenario: 'search',
    metric: `client-side latency of GET .../search on a ${cfg.messages.toLocaleString('en-US')}-message, ${cfg.channels}-channel workspace`,
    config: cfg,
    summary: { queries: out.queries, seed: out.seed, write: out.write },
    results: {},
    doc: {
      what: [
        `What: ${cfg.messages.toLocaleString('en-US')} text messages in ${cfg.channels} channels of one workspace, seeded with SQL (\`generate_series\`, bodies of 6..20 words picked Zipf-like, index = floor(V·u³), from ${cfg.vocabulary} made-up words); the search trigger computed every tsvector (\`simple\` configuration) in ${out.seed.seconds} s. The searching member belongs to all ${cfg.channels} channels, so every query runs over all 1M messages.`,
        `GIN index ${out.seed.ginSize} (${out.seed.ginBytesPerMessage} B per message); messages table with all its indexes ${out.seed.tableSize}. Write cost: ${out.write.withUs} µs per message with the trigger and GIN entries vs ${out.write.withoutUs} µs without (${cfg.writeSample.toLocaleString('en-US')} rows in one INSERT; the GIN pending list defers part of the cost to vacuum/cleanup).`,
        `${cfg.requests} requests per query (${cfg.commonRequests} for the most common word) at 1 and then 4 in flight, after up to 20 warm-up ones; every answer must be 200 with results. Latency includes HTTP, auth, visibility (channel list), ranking of every match (ts_rank), 20 ts_headline excerpts and JSON. One API process.`,
      ],
      target: `p99 <= ${cfg.p99LimitMs} ms.`,
      head,
      rows,
      extraMd: '',
      summaryLines: [`search: ${met} of ${rows.length} query kinds met p99 <= ${cfg.p99LimitMs} ms at 1 and 4 in flight.`],
    },
  };
}

module.exports = { run, DEFAULTS };
