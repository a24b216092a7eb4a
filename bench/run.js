'use strict';
/**
 * Benchmark entry: `npm run bench [-- SCENARIO] [--option=value ...]` (npm builds dist/ first).
 * Scenarios live in bench/scenarios/ (fanout, fanout-sharded, throughput, history, storm, connections, voice, search); each one's
 * options are its DEFAULTS (kebab-case on the command line). --no-doc leaves docs/BENCHMARKS.md alone.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ROOT, hookCleanup, liveChildren } = require('./lib/procs');
const { machine, table, writeResult, updateDoc } = require('./lib/report');

const SCENARIOS = {
  fanout: './scenarios/fanout',
  'fanout-sharded': './scenarios/fanout-sharded',
  throughput: './scenarios/throughput',
  history: './scenarios/history',
  storm: './scenarios/storm',
  connections: './scenarios/connections',
  voice: './scenarios/voice',
  search: './scenarios/search',
};
const HARD_LIMIT_MS = 30 * 60_000; // whatever happens, the harness ends

function parseArgs(argv) {
  const out = { scenario: 'fanout', options: {}, doc: true };
  for (const arg of argv) {
    if (!arg.startsWith('--')) {
      out.scenario = arg;
      continue;
    }
    const [key, value] = arg.slice(2).split('=');
    if (key === 'no-doc') {
      out.doc = false;
      continue;
    }
    const camel = key.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    const v = value === undefined ? true : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    out.options[camel] = v;
  }
  return out;
}

function newestMtime(dir, filter) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, filter));
    else if (filter(entry.name)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** The SDK is required from client/dist; build it when missing or older than its sources. */
function ensureClientBuilt(log) {
  const index = path.join(ROOT, 'client', 'dist', 'index.js');
  const srcNewest = newestMtime(path.join(ROOT, 'client', 'src'), (n) => n.endsWith('.ts') && !n.endsWith('.spec.ts'));
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= srcNewest) return;
  log('building the client SDK (npm run build:client: tsup, as the package is built)');
  const result = spawnSync('npm', ['run', 'build:client'], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  if (result.status !== 0 || !fs.existsSync(index)) throw new Error('client SDK build failed');
}

async function main() {
  hookCleanup();
  const hard = setTimeout(() => {
    process.stderr.write(`bench: hard limit of ${HARD_LIMIT_MS / 60000} min reached, stopping ${JSON.stringify(liveChildren())}\n`);
    process.exit(2);
  }, HARD_LIMIT_MS);
  hard.unref();

  const args = parseArgs(process.argv.slice(2));
  const log = (line) => process.stdout.write(`${line}\n`);
  if (!SCENARIOS[args.scenario]) throw new Error(`unknown scenario "${args.scenario}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` (npm run bench does)');
  ensureClientBuilt(log);

  const argvText = process.argv.slice(2).join(' ');
  const command = `npm run bench${argvText ? ` -- ${argvText}` : ''}`;
  const before = machine();
  log(`Pigeon bench: ${args.scenario} — ${before.date}; nproc ${before.nproc}; load average ${before.loadavg.join(' ')}`);
  log('NOTE: the servers under test, the load generator, Postgres and Redis all share these same cores.');
  const started = Date.now();
  const scenario = require(SCENARIOS[args.scenario]);
  // An option the scenario does not know is a typo or an obsolete flag (e.g. the removed --ws-workarounds): refuse it.
  const known = new Set([...Object.keys(scenario.DEFAULTS ?? {}), 'notes']);
  const unknown = Object.keys(args.options).filter((k) => !known.has(k));
  if (unknown.length) {
    const kebab = (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new Error(`unknown option(s) for ${args.scenario}: ${unknown.map(kebab).join(' ')}; known: ${[...known].map(kebab).join(' ')}`);
  }
  const result = await scenario.run(args.options, { log, argvText });
  const after = machine();
  result.machine = { ...after, date: before.date, loadavgBefore: before.loadavg };
  result.elapsedSec = Math.round((Date.now() - started) / 1000);
  result.command = command;

  const file = writeResult(result);
  const { text } = table(result);
  log(`\n${text}\n`);
  if (result.doc) for (const line of result.doc.summaryLines ?? []) log(line);
  else log(`deliveries/s at p99 <= ${result.config.p99LimitMs} ms; target: Pigeon >= 0.85 × baseline.`);
  log(`Server and load generators share the same ${after.nproc} cores (Postgres and Redis too).`);
  log(`load average before ${before.loadavg.join(' ')}, after ${after.loadavg.join(' ')} (other work on the machine is noise)`);
  log(`result: ${path.relative(ROOT, file)} (${result.elapsedSec} s)`);
  if (args.doc) {
    const notes = [];
    if (args.options.notes) notes.push(String(args.options.notes));
    notes.push(`Load average (1/5/15 min) before the run ${before.loadavg.join(' / ')}, after ${after.loadavg.join(' / ')}; other engineers' test runs may have shared the machine (noise).`);
    for (const [name, t] of Object.entries(result.results ?? {})) if (t && t.truncated) notes.push(`${name}: search cut short (${t.truncated}).`);
    const doc = updateDoc(result, { command, notes, resultFile: file });
    log(`updated ${path.relative(ROOT, doc)}`);
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  },
);
