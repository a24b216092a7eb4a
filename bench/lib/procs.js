'use strict';
/**
 * Child processes of the bench: every one is registered here and killed when the harness exits,
 * is interrupted (SIGINT/SIGTERM) or crashes. Everything listens on 127.0.0.1 only.
 */
const { fork, spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const children = new Set();
let hooked = false;

function hookCleanup() {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping ${children.size} child process(es)\n`);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bench: uncaught ${error && error.stack ? error.stack : error}\n`);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (error) => {
    process.stderr.write(`bench: unhandled rejection ${error && error.stack ? error.stack : error}\n`);
    killAll();
    process.exit(1);
  });
}

function track(child, name) {
  hookCleanup();
  child.benchName = name;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Waits for a child's exit, sending `signal` first; SIGKILL after `graceMs`. */
function stopChild(child, signal = 'SIGTERM', graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      child.kill(signal);
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

/**
 * Forks a Node server entry that reports `{type:'listening', port}` over IPC (dist/main.js and
 * bench/baseline/server.js both do). Resolves with {url, port, child, output()}.
 */
function startServer(name, entry, env, { execArgv = [], timeoutMs = 60_000 } = {}) {
  let output = '';
  const child = track(
    fork(entry, [], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
    name,
  );
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not report a port within ${timeoutMs} ms:\n${output.slice(-4000)}`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message && message.type === 'listening' && message.port) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve({
          name,
          url: `http://127.0.0.1:${message.port}`,
          port: message.port,
          child,
          output: () => output,
          stop: () => stopChild(child),
        });
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening:\n${output.slice(-4000)}`));
    });
  });
}

/** A free loopback TCP port (for redis-server, which cannot report one). */
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

/**
 * A private, memory-only redis-server on a loopback port, so the bench's Socket.IO adapter
 * pub/sub traffic (which is not scoped by DB index) never crosses with tests running on the
 * shared Redis. Falls back to `fallbackUrl` when redis-server is not installed.
 */
async function startPrivateRedis(fallbackUrl) {
  const port = await freePort();
  let child;
  try {
    child = track(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      'redis',
    );
  } catch {
    return { url: fallbackUrl, private: false, stop: async () => undefined };
  }
  const failed = await new Promise((resolve) => {
    child.once('error', () => resolve(true));
    const deadline = Date.now() + 5000;
    const probe = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(false);
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline || child.exitCode !== null) resolve(true);
        else setTimeout(probe, 50);
      });
    };
    probe();
  });
  if (failed) {
    await stopChild(child, 'SIGKILL');
    return { url: fallbackUrl, private: false, stop: async () => undefined };
  }
  return { url: `redis://127.0.0.1:${port}`, private: true, child, stop: () => stopChild(child) };
}

function liveChildren() {
  return [...children].map((c) => ({ name: c.benchName, pid: c.pid }));
}

module.exports = { ROOT, track, startServer, stopChild, startPrivateRedis, freePort, hookCleanup, liveChildren };
