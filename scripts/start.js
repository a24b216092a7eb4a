#!/usr/bin/env node
// `npm start`: builds if dist/ is stale, applies migrations, then runs the API and the worker
// side by side until a signal arrives or one of them dies. Plain Node, no dependencies.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const mainJs = path.join(root, 'dist', 'main.js');
const KILL_AFTER_MS = 15_000;

function log(message) {
  process.stderr.write(`[start] ${message}\n`);
}

/** Newest mtime (ms) of the files that feed the build: src/ (specs excluded) and the tsconfigs. */
function newestSourceMtime() {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile() && !entry.name.endsWith('.spec.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  // The web app and the SDK it bundles feed the build too.
  for (const dir of ['src', 'web/src', 'client/src']) if (fs.existsSync(path.join(root, dir))) visit(path.join(root, dir));
  for (const name of ['tsconfig.json', 'tsconfig.build.json']) {
    const file = path.join(root, name);
    if (fs.existsSync(file)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

function needsBuild() {
  if (!fs.existsSync(mainJs) || !fs.existsSync(path.join(root, 'web', 'dist', 'index.html'))) return true;
  return fs.statSync(mainJs).mtimeMs < newestSourceMtime();
}

/** Exit code for a child's exit: its code, or 128 + signal number as a shell would report. */
function exitCodeOf(code, signal) {
  if (code !== null) return code;
  return 128 + (os.constants.signals[signal] ?? 1);
}

function runOrExit(command, args, what) {
  // npm is a .cmd script on Windows, which spawn can only start through a shell.
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) {
    log(`${what} could not start: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    log(`${what} failed (${result.signal ?? `exit ${result.status}`})`);
    process.exit(exitCodeOf(result.status, result.signal));
  }
}

if (needsBuild()) {
  log('dist/ is missing or older than src/: building');
  runOrExit('npm', ['run', 'build'], 'build');
}
// As DATABASE_OWNER_URL; then the application role of DATABASE_URL (default pigeon_app) is created if
// missing and granted the tables, so the API and worker run under row-level security.
runOrExit(process.execPath, ['dist/database/migrate.js'], 'migrations');

const children = new Map(); // name -> ChildProcess, while it runs
let stopping = false;
let exitCode = 0;
let killTimer;

function start(name, script) {
  // Own process group: a terminal Ctrl+C reaches only this script, which forwards it once.
  // (Two signals would cut a Nest app's graceful shutdown short.)
  const child = spawn(process.execPath, [script], { cwd: root, stdio: 'inherit', detached: process.platform !== 'win32' });
  children.set(name, child);
  child.on('error', (error) => {
    log(`${name} could not start: ${error.message}`);
    children.delete(name);
    stopAll('SIGTERM', 1);
    finishIfDone();
  });
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      log(`${name} exited unexpectedly (${signal ?? `exit ${code}`}); stopping the rest`);
      stopAll('SIGTERM', exitCodeOf(code, signal) || 1);
    } else if (code !== null && code !== 0 && exitCode === 0) {
      exitCode = code;
    }
    finishIfDone();
  });
}

function stopAll(signal, code) {
  if (!stopping) {
    stopping = true;
    exitCode = code;
  }
  for (const child of children.values()) child.kill(signal);
  clearTimeout(killTimer);
  killTimer = setTimeout(() => {
    for (const [name, child] of children) {
      log(`${name} did not stop within ${KILL_AFTER_MS / 1000}s: killing it`);
      child.kill('SIGKILL');
    }
  }, KILL_AFTER_MS);
  killTimer.unref();
}

function finishIfDone() {
  if (stopping && children.size === 0) process.exit(exitCode);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) {
      // A second Ctrl+C means "now".
      for (const child of children.values()) child.kill('SIGKILL');
      return;
    }
    log(`${signal} received: stopping api and worker`);
    stopAll(signal === 'SIGHUP' ? 'SIGTERM' : signal, 0);
  });
}

// Last resort if this script dies some other way: do not leave the detached children behind.
process.on('exit', () => {
  for (const child of children.values()) child.kill('SIGKILL');
});

start('api', 'dist/main.js');
start('worker', 'dist/worker.js');
