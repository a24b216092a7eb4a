'use strict';
/** Shared by the sequential probes (bench/send-latency.js, bench/sync-probe.js). */
const fs = require('node:fs');

/** CPU ms per thread name (main thread, libuv pool, V8 helpers...), user and system time apart. */
function threadCpuMs(pid) {
  const byName = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      // utime and stime, in clock ticks (100 per second here).
      byName.set(`${name} user`, (byName.get(`${name} user`) ?? 0) + Number(fields[11]) * 10);
      byName.set(`${name} sys`, (byName.get(`${name} sys`) ?? 0) + Number(fields[12]) * 10);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return byName;
}

/** "MainThread user 2.94, V8Worker user 0.55, ...": CPU ms per operation between two readings. */
function perThread(before, after, operations) {
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / operations])
    .filter(([, perOp]) => perOp > 0.005)
    .sort((a, b) => b[1] - a[1])
    .map(([name, perOp]) => `${name} ${perOp.toFixed(2)}`)
    .join(', ');
}

/** p50/p90/p99 of latencies in ms, as "p50 1.23 p90 ... p99 ...". */
function quantiles(latencies) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p) => sorted[Math.floor(p * (sorted.length - 1))].toFixed(2);
  return `p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)}`;
}

function runMain(main) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

module.exports = { threadCpuMs, perThread, quantiles, runMain };
