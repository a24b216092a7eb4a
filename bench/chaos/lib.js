'use strict';
/**
 * Fault-injection harness infrastructure: a private Postgres and Redis (so they can be stopped,
 * frozen and killed without touching the shared services on 5432/6379), API nodes and a worker as
 * child processes, loopback TCP proxies, and cleanup of all of it on exit or SIGINT.
 */
const { spawn, spawnSync, fork } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');
const JWT_SECRET = 'pigeon-chaos-secret-0123456789abcdef0123456789';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();
let t0 = now();
const stamp = () => `+${((now() - t0) / 1000).toFixed(1)}s`;
function log(...args) {
  process.stdout.write(`[chaos ${stamp()}] ${args.join(' ')}\n`);
}
function resetClock() {
  t0 = now();
}

// ---------------------------------------------------------------------------------------------
// cleanup registry

const cleanups = [];
let cleaning = false;
function onCleanup(fn) {
  cleanups.push(fn);
}
function cleanupSync() {
  if (cleaning) return;
  cleaning = true;
  for (const fn of cleanups.reverse()) {
    try {
      fn();
    } catch {
      /* best effort */
    }
  }
}
process.on('exit', cleanupSync);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    cleanupSync();
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// ports, temp dirs

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pigeon-chaos-'));
  onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function waitForPort(port, timeoutMs = 20_000) {
  const deadline = now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (now() > deadline) reject(new Error(`port ${port} did not open`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

// ---------------------------------------------------------------------------------------------
// Redis

class RedisServer {
  constructor(port) {
    this.port = port;
    this.child = undefined;
    onCleanup(() => this.child && this.child.exitCode === null && this.child.kill('SIGKILL'));
  }
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  async start() {
    this.child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    await waitForPort(this.port);
  }
  stop() {
    this.child.kill('SIGSTOP');
  }
  cont() {
    this.child.kill('SIGCONT');
  }
  async kill() {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Postgres (as the `postgres` OS user when running as root)

function pgBin(name) {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  return name;
}

function asPostgresAsync(cmd, args) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${out}`))));
  });
}

function asPostgres(cmd, args) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  const result = spawnSync(file, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  return result.stdout;
}

class PostgresServer {
  constructor(port, dir) {
    this.port = port;
    this.dir = dir;
    this.data = path.join(dir, 'pgdata');
    this.running = false;
    onCleanup(() => {
      if (!this.running) return;
      try {
        asPostgres(pgBin('pg_ctl'), ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        /* already down */
      }
    });
  }
  url(database = 'pigeon_chaos') {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }
  init() {
    if (typeof process.getuid === 'function' && process.getuid() === 0) spawnSync('chown', ['-R', 'postgres:postgres', this.dir]);
    asPostgres(pgBin('initdb'), ['-D', this.data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  }
  startArgs() {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
    return ['-D', this.data, '-o', options, '-l', path.join(this.dir, 'pg.log'), '-w', 'start'];
  }
  start() {
    asPostgres(pgBin('pg_ctl'), this.startArgs());
    this.running = true;
  }
  /** Async start/stop, so the harness's event loop (and its clients' timestamps) keep running. */
  async startAsync() {
    this.running = true;
    await asPostgresAsync(pgBin('pg_ctl'), this.startArgs());
  }
  async stopAsync(mode = 'fast') {
    await asPostgresAsync(pgBin('pg_ctl'), ['-D', this.data, '-m', mode, '-w', 'stop']);
    this.running = false;
  }
}

// ---------------------------------------------------------------------------------------------
// API nodes and the worker

/** Processes that died without the harness killing them (evidence for the report). */
const unexpectedExits = [];

class NodeProcess {
  /**
   * @param name label for logs
   * @param entry 'main.js' or 'worker.js'
   * @param env environment
   */
  constructor(name, entry, env) {
    this.name = name;
    this.entry = entry;
    this.env = env;
    this.port = 0;
    this.child = undefined;
    this.output = '';
    this.alive = false;
    this.starts = 0;
    onCleanup(() => this.child && this.child.exitCode === null && this.child.kill('SIGKILL'));
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(timeoutMs = 60_000) {
    this.starts++;
    const child = fork(path.join(DIST, this.entry), [], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    const keep = (chunk) => {
      this.output += chunk.toString();
      if (this.output.length > 2_000_000) this.output = this.output.slice(-1_000_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('exit', (code, signal) => {
      this.alive = false;
      if (!this.expectExit) {
        log(`${this.name} exited unexpectedly: code ${code} signal ${signal}`);
        unexpectedExits.push({ node: this.name, code, signal, at: new Date().toISOString(), lastOutput: this.output.slice(-1500) });
      }
    });
    this.expectExit = false;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start in ${timeoutMs} ms:\n${this.output.slice(-4000)}`)), timeoutMs);
      child.on('message', (m) => {
        if (m && m.type === 'listening' && m.port) {
          this.port = m.port;
          clearTimeout(timer);
          resolve();
        } else if (m && m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with ${code} before listening:\n${this.output.slice(-4000)}`));
      });
    });
    this.alive = true;
  }
  /** start(), retried when the process dies before listening (e.g. a stray signal). */
  async startWithRetry(attempts = 3) {
    for (let i = 1; ; i++) {
      try {
        return await this.start();
      } catch (error) {
        if (i >= attempts) throw error;
        log(`${this.name} failed to start (attempt ${i}): ${String(error.message).split('\n')[0]}; retrying`);
        await sleep(500);
      }
    }
  }
  async kill(signal = 'SIGKILL') {
    const child = this.child;
    this.alive = false;
    this.expectExit = true;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// loopback TCP proxies

/**
 * Round-robin TCP proxy: each incoming connection goes to the next backend that is alive
 * (`isAlive(backend)`), falling through to the next one if the connect fails. Options:
 * `latencyMs` delays every chunk in both directions (order kept), `resetEvery` (ms) destroys a
 * random live connection pair now and then (RST to both sides).
 */
class TcpProxy {
  constructor(backends, { isAlive = () => true, latencyMs = 0, resetEveryMs = 0 } = {}) {
    this.backends = backends; // array of () => port
    this.isAlive = isAlive;
    this.latencyMs = latencyMs;
    this.resetEveryMs = resetEveryMs;
    this.next = 0;
    this.pairs = new Set();
    this.resets = 0;
    this.server = net.createServer((client) => this.accept(client));
    onCleanup(() => this.server.close());
  }
  async listen() {
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = this.server.address().port;
    if (this.resetEveryMs > 0) {
      this.resetTimer = setInterval(() => this.resetOne(), this.resetEveryMs);
      this.resetTimer.unref();
    }
    return this;
  }
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  resetOne() {
    const pairs = [...this.pairs];
    if (pairs.length === 0) return;
    const pair = pairs[Math.floor(Math.random() * pairs.length)];
    this.resets++;
    pair.client.resetAndDestroy();
    pair.upstream.resetAndDestroy();
  }
  /** Drops every connection to a backend (what clients of a killed node see). */
  dropBackend(index) {
    for (const pair of this.pairs) if (pair.backend === index) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
  }
  accept(client, tried = 0) {
    client.on('error', () => undefined);
    client.pause();
    const n = this.backends.length;
    let index = -1;
    for (let i = 0; i < n; i++) {
      const candidate = (this.next + i) % n;
      if (this.isAlive(candidate)) {
        index = candidate;
        break;
      }
    }
    this.next = (index + 1) % n;
    if (index < 0 || tried >= n) {
      client.destroy();
      return;
    }
    const upstream = net.connect(this.backends[index](), '127.0.0.1');
    const pair = { client, upstream, backend: index };
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      this.pairs.add(pair);
      this.pipe(client, upstream);
      this.pipe(upstream, client);
      client.resume();
    });
    upstream.on('error', () => {
      if (!connected) {
        upstream.destroy();
        this.next = (index + 1) % n;
        this.accept(client, tried + 1);
      }
    });
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('close', () => connected && close());
    client.on('close', close);
  }
  pipe(from, to) {
    if (this.latencyMs <= 0) {
      from.pipe(to);
      return;
    }
    // Delay each chunk by latencyMs, keeping order (chunks leave in arrival order).
    from.on('data', (chunk) => {
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, this.latencyMs);
    });
    from.on('end', () => setTimeout(() => !to.destroyed && to.end(), this.latencyMs));
  }
  close() {
    clearInterval(this.resetTimer);
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    return new Promise((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------
// REST

async function http(baseUrl, method, urlPath, body, token) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(baseUrl + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* text */
  }
  return { status: response.status, body: parsed };
}

async function must(promise, expected, what) {
  const r = await promise;
  if (r.status !== expected) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Reads the named Prometheus gauges (first sample of each) from GET /metrics. */
async function scrape(baseUrl, names) {
  const r = await http(baseUrl, 'GET', '/metrics');
  const out = {};
  if (typeof r.body !== 'string') return out;
  for (const line of r.body.split('\n')) {
    for (const name of names) {
      if (out[name] === undefined && (line.startsWith(`${name} `) || line.startsWith(`${name}{`))) {
        out[name] = Number(line.slice(line.lastIndexOf(' ') + 1));
      }
    }
  }
  return out;
}

module.exports = {
  ROOT,
  DIST,
  JWT_SECRET,
  sleep,
  now,
  log,
  resetClock,
  onCleanup,
  cleanupSync,
  freePort,
  tempDir,
  waitForPort,
  RedisServer,
  PostgresServer,
  NodeProcess,
  unexpectedExits,
  TcpProxy,
  http,
  must,
  scrape,
};
