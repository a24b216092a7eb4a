'use strict';
/**
 * `--cpu-prof`: one extra measured step with api-0 profiled for exactly its duration (the API runs
 * with bench/lib/cpu-profile-preload.js, driven over IPC), then the top self-time functions.
 */
const path = require('node:path');
const { ROOT } = require('./procs');
const { measureStep } = require('./search');
const { summarize } = require('./cpuprofile');

function waitFor(child, type) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} from the API`)), 30_000);
    const on = (m) => {
      if (m && (m.type === type || m.type === 'bench:profile-error')) {
        clearTimeout(timer);
        child.off('message', on);
        if (m.type === type) resolve(m);
        else reject(new Error(m.error));
      }
    };
    child.on('message', on);
  });
}

/**
 * Starts (`what` = 'start') or stops and writes (`'stop'`, to `file`) the API's profile over IPC.
 * 1 ms sampling by default: light enough not to change much of what is measured around it.
 */
async function profileCommand(child, what, file, intervalUs = 1000) {
  if (what === 'start') {
    child.send({ type: 'bench:profile-start', intervalUs });
    await waitFor(child, 'bench:profile-started');
  } else {
    child.send({ type: 'bench:profile-stop', file });
    await waitFor(child, 'bench:profile-written');
  }
}

async function profiledStep(pool, child, stepOpts, { scenario, log }) {
  const file = path.join(ROOT, 'bench', 'results', `${scenario}-api0-${Date.now()}.cpuprofile`);
  const onBusy = async (durationMs) => {
    child.send({ type: 'bench:profile-start' });
    await waitFor(child, 'bench:profile-started');
    await new Promise((r) => setTimeout(r, durationMs + 300));
    child.send({ type: 'bench:profile-stop', file });
    await waitFor(child, 'bench:profile-written');
  };
  const step = await measureStep(pool, { ...stepOpts, onBusy });
  const profile = summarize(file, 25);
  log(`  profiled step at ${stepOpts.rate} msg/s: acked ${step.ackedPerSec}/s, ack p99 ${step.ack.p99Ms} ms; top self time:`);
  for (const f of profile.topFunctions.slice(0, 15)) log(`    ${String(f.pct).padStart(5)} %  ${f.fn}`);
  log('  by area:');
  for (const a of profile.byArea.slice(0, 10)) log(`    ${String(a.pct).padStart(5)} %  ${a.area}`);
  return { step, profile, file: path.relative(ROOT, file) };
}

module.exports = { profiledStep, profileCommand };
