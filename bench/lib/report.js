'use strict';
/** The printed table, the JSON result file and the section of docs/BENCHMARKS.md. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execSync } = require('node:child_process');
const { ROOT } = require('./procs');

const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md');

function sh(command) {
  try {
    return execSync(command, { encoding: 'utf8', timeout: 5000 }).trim();
  } catch {
    return '(unavailable)';
  }
}

function machine() {
  return {
    date: sh('date -u'),
    nproc: sh('nproc'),
    freeG: sh('free -g'),
    cpu: (os.cpus()[0] && os.cpus()[0].model) || 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const fmt = (n) => (n === null || n === undefined ? 'n/a' : Number(n).toLocaleString('en-US'));
const lat = (s) => (s ? `${s.p50Ms ?? 'n/a'} / ${s.p99Ms ?? 'n/a'} ms` : 'n/a');

function renderTable(head, rows) {
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  const text = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  return { md, text };
}

function table(result) {
  if (result.doc) return renderTable(result.doc.head, result.doc.rows);
  const { pigeon, baseline, ratio } = result.summary;
  const head = ['scenario', 'Pigeon deliveries/s', 'baseline deliveries/s', 'ratio (target >= 0.85)', 'Pigeon p50 / p99', 'baseline p50 / p99'];
  const row = [
    `${result.scenario} (${result.config.members} members, ${result.config.senders} senders)`,
    pigeon ? `${fmt(pigeon.deliveriesPerSec)} (${pigeon.msgsPerSec} msg/s)` : 'n/a',
    baseline ? `${fmt(baseline.deliveriesPerSec)} (${baseline.msgsPerSec} msg/s)` : 'n/a',
    ratio === null ? 'n/a' : `${ratio.toFixed(2)}${ratio >= 0.85 ? '' : ' (below target)'}`,
    lat(pigeon),
    lat(baseline),
  ];
  const md = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`, `| ${row.join(' | ')} |`].join('\n');
  const widths = head.map((h, i) => Math.max(h.length, row[i].length));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  const text = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), line(row)].join('\n');
  return { md, text };
}

function stepsTable(name, target) {
  if (!target || !target.steps) return '';
  const lines = [`${name}:`, '| phase | msg/s | deliveries/s | p50 ms | p99 ms | max ms | lost | send acks p99 ms | verdict |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const s of target.steps) {
    lines.push(
      `| ${s.phase} | ${s.rateMsgsPerSec} | ${fmt(s.deliveriesPerSec)} | ${s.latency.p50Ms} | ${s.latency.p99Ms} | ${s.latency.maxMs} | ${s.lost} | ${s.ack ? s.ack.p99Ms : 'n/a'} | ${s.good ? 'ok' : s.reasons.join('; ')} |`,
    );
  }
  return lines.join('\n');
}

function writeResult(result) {
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${result.scenario}-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  return file;
}

const HEADER = `# Benchmarks

Measured with \`npm run bench [-- SCENARIO]\` (harness in \`bench/\`, see \`bench/README.md\`). Every
figure here comes from a real run on the machine named in its section; each section is replaced
by the next run of the same scenario. Raw results are also written to \`bench/results/\`.
`;

/** The section of a scenario that describes itself in `result.doc` ({what[], metric, target, head, rows, extraMd, raw}). */
function genericSection(result, { command, notes, resultFile }) {
  const m = result.machine;
  const d = result.doc;
  const { md } = table(result);
  return [
    `## ${result.scenario}`,
    '',
    `- Date: \`${m.date}\``,
    `- Machine: \`nproc\` = ${m.nproc}, ${m.cpu}, Node ${m.node}, ${m.platform}`,
    '- `free -g`:',
    '',
    '```',
    m.freeG,
    '```',
    '',
    `- Command: \`${command}\``,
    ...d.what.map((w) => `- ${w}`),
    `- Metric: ${result.metric}.`,
    `- **Server and load generators share the same ${m.nproc} cores** (and Postgres/Redis run there too), so every figure is a lower bound for the server.`,
    ...notes.map((n) => `- ${n}`),
    `- Target (issue): ${d.target}`,
    '',
    md,
    '',
    d.extraMd || '',
    '',
    `Raw result (full file: \`${path.relative(ROOT, resultFile)}\`):`,
    '',
    '```json',
    JSON.stringify({ scenario: result.scenario, summary: result.summary, config: result.config, ...(d.raw || {}), machine: { nproc: m.nproc, cpu: m.cpu, node: m.node, loadavgBefore: m.loadavgBefore, loadavgAfter: m.loadavg }, elapsedSec: result.elapsedSec }, null, 1),
    '```',
  ].join('\n');
}

/** Replaces (or appends) the scenario's section between markers in docs/BENCHMARKS.md. */
function updateDoc(result, { command, notes = [], resultFile }) {
  const start = `<!-- bench:${result.scenario}:start -->`;
  const end = `<!-- bench:${result.scenario}:end -->`;
  if (result.doc) return writeSection(start, end, `${start}\n${genericSection(result, { command, notes, resultFile })}\n${end}`);
  const { md } = table(result);
  const m = result.machine;
  const cfg = result.config;
  // The raw JSON in the doc leaves out the per-step client counters and profile details (in the file).
  const raw = JSON.stringify(
    {
      scenario: result.scenario,
      metric: result.metric,
      summary: result.summary,
      config: cfg,
      pigeon: result.results.pigeon && slim(result.results.pigeon),
      baseline: result.results.baseline && slim(result.results.baseline),
      machine: { nproc: m.nproc, cpu: m.cpu, node: m.node, loadavgBefore: m.loadavgBefore, loadavgAfter: m.loadavg },
      elapsedSec: result.elapsedSec,
    },
    null,
    1,
  );
  const section = [
    start,
    `## ${result.scenario}`,
    '',
    `- Date: \`${m.date}\``,
    `- Machine: \`nproc\` = ${m.nproc}, ${m.cpu}, Node ${m.node}, ${m.platform}`,
    '- `free -g`:',
    '',
    '```',
    m.freeG,
    '```',
    '',
    `- Command: \`${command}\``,
    `- What: one channel, ${cfg.members} connected members (each receives every message, the senders' own echo included), ${cfg.senders} of them sending open-loop;` +
      ` ${cfg.client === 'sdk' ? 'clients are the project SDK (`PigeonClient`, client/dist) for both servers' : 'bare socket.io-client'}, websocket transport, ${cfg.bodyBytes}-byte bodies;` +
      ` ${cfg.loadProcs} load-generator processes. Pigeon: ${cfg.nodes} API process(es), Postgres, a private Redis; rate limits raised.` +
      ` Baseline: \`bench/baseline/server.js\`, bare Socket.IO 4 (no auth, storage or Redis).`,
    `- Metric: ${result.metric}. Rate search from ${cfg.startRate} msg/s, ×${cfg.factor} per ${cfg.stepSec} s step, then ${cfg.bisectSteps} bisect steps; a step fails on p99 > ${cfg.p99LimitMs} ms, any delivery missing ${cfg.graceSec} s after the last ack, or any failed send.`,
    `- **Server and load generator share the same ${m.nproc} cores** (and Postgres/Redis run there too), so every figure is a lower bound for the server and the ratio is the meaningful number.`,
    ...notes.map((n) => `- ${n}`),
    `- Target (issue): Pigeon deliveries/s at p99 <= 100 ms >= 0.85 × baseline (a bare Socket.IO server reaches about 35k-70k here).`,
    '',
    md,
    '',
    stepsTable('Pigeon steps', result.results.pigeon),
    '',
    stepsTable('Baseline steps', result.results.baseline),
    '',
    `Raw result (full file: \`${path.relative(ROOT, resultFile)}\`):`,
    '',
    '```json',
    raw,
    '```',
    end,
  ].join('\n');

  return writeSection(start, end, section);
}

function writeSection(start, end, section) {
  let doc = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : HEADER;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a >= 0 && b > a) doc = doc.slice(0, a) + section + doc.slice(b + end.length);
  else doc = doc.replace(/\s*$/, '\n\n') + section + '\n';
  fs.writeFileSync(DOC, doc);
  return DOC;
}

function slim(target) {
  return {
    best: target.best && {
      rateMsgsPerSec: target.best.rateMsgsPerSec,
      deliveriesPerSec: target.best.deliveriesPerSec,
      latency: target.best.latency,
      ack: target.best.ack,
      lost: target.best.lost,
    },
    firstBadRate: target.firstBadRate,
    truncated: target.truncated,
    connect: target.connect && { connected: target.connect.connected, failed: target.connect.failed, ms: target.connect.ms },
    steps: target.steps.map((s) => ({
      phase: s.phase,
      msgsPerSec: s.rateMsgsPerSec,
      deliveriesPerSec: s.deliveriesPerSec,
      p50Ms: s.latency.p50Ms,
      p99Ms: s.latency.p99Ms,
      maxMs: s.latency.maxMs,
      lost: s.lost,
      failedSends: s.failedSends,
      good: s.good,
    })),
    profile: target.extra && target.extra.profile && { topFunctions: target.extra.profile.topFunctions.slice(0, 10), byArea: target.extra.profile.byArea.slice(0, 8) },
  };
}

module.exports = { machine, table, renderTable, writeResult, updateDoc };
