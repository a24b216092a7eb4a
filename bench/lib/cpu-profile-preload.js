'use strict';
/**
 * Preloaded into an API process (`node -r bench/lib/cpu-profile-preload.js dist/main.js`) when the
 * bench runs with --cpu-prof. Lets the harness profile exactly one step over IPC, which
 * `node --cpu-prof` cannot (it writes only on a clean exit, and Nest re-raises SIGTERM):
 *   {type:'bench:profile-start', intervalUs?} -> {type:'bench:profile-started'}   (sampling every 200 µs by default)
 *   {type:'bench:profile-stop', file} -> {type:'bench:profile-written', file}
 */
const inspector = require('node:inspector');
const fs = require('node:fs');

let session = null;
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));

process.on('message', (message) => {
  if (!message || typeof message.type !== 'string' || !message.type.startsWith('bench:profile-')) return;
  if (message.type === 'bench:profile-start') {
    session = new inspector.Session();
    session.connect();
    post('Profiler.enable')
      .then(() => post('Profiler.setSamplingInterval', { interval: Number(message.intervalUs) || 200 }))
      .then(() => post('Profiler.start'))
      .then(() => process.send({ type: 'bench:profile-started' }))
      .catch((error) => process.send({ type: 'bench:profile-error', error: String(error) }));
  } else if (message.type === 'bench:profile-stop' && session) {
    post('Profiler.stop')
      .then(({ profile }) => {
        fs.writeFileSync(message.file, JSON.stringify(profile));
        session.disconnect();
        session = null;
        process.send({ type: 'bench:profile-written', file: message.file });
      })
      .catch((error) => process.send({ type: 'bench:profile-error', error: String(error) }));
  }
});
