'use strict';
/**
 * `npm run chaos -- rolling-deploy`: a rolling deploy under load. Each of three API nodes in turn
 * gets SIGTERM (drain: `server:shutdown` to its sockets, acks in flight sent, exit), is started
 * again on its port, and must answer /health/ready before the next one goes. Clients reach the
 * nodes through the round-robin proxy, as behind a load balancer.
 */
const lib = require('./lib');
const { Fleet } = require('./fleet');

const { sleep, log } = lib;

/** Polls /health/ready until 200 (a deploy waits for it before taking the next node down). */
async function waitReady(node, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await lib.http(node.url, 'GET', '/health/ready').catch(() => ({ status: 0 }));
    if (r.status === 200) return;
    await sleep(100);
  }
  throw new Error(`${node.name} not ready in ${timeoutMs} ms`);
}

/** `h`: helpers of run.js (num, setup, finish, resumeAfter, firstOkAfter). */
async function rollingDeploy(h) {
  const clients = h.num('clients', 200);
  const rate = h.num('rate', 500);
  const gapS = h.num('gap-seconds', 10);
  const shutdownTimeoutMs = h.num('shutdown-timeout', 15_000);
  const { sdk, cluster, pop } = await h.setup('rolling-deploy', {
    users: clients,
    groupSize: h.num('group', 10),
    env: { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) },
  });
  const { apis } = cluster;
  const proxy = await new lib.TcpProxy(apis.map((n) => () => n.port), { isAlive: (i) => apis[i].alive }).listen();
  const fleet = new Fleet(sdk, pop.users, () => proxy.url, { tag: `rd${Date.now().toString(36)}` });
  await fleet.connect();
  log(`${clients} clients ready through the round-robin proxy; sending ${rate}/s`);
  const start = Date.now();
  fleet.start(rate);
  const restarts = [];
  for (const node of apis) {
    await sleep(gapS * 1000);
    const tTerm = Date.now();
    const pendingAtTerm = fleet.pending();
    const exit = new Promise((resolve) => node.child.once('exit', (code, signal) => resolve({ code, signal })));
    await node.kill('SIGTERM');
    const { code, signal } = await exit;
    const drainMs = Date.now() - tTerm;
    log(`SIGTERM ${node.name}: exited ${code ?? signal} after ${drainMs} ms (${pendingAtTerm} sends pending at the signal)`);
    const tStart = Date.now();
    await node.startWithRetry();
    await waitReady(node);
    const restartMs = Date.now() - tStart;
    log(`${node.name} ready again on port ${node.port} after ${restartMs} ms`);
    restarts.push({ node: node.name, port: node.port, t: tTerm, atS: Math.round((tTerm - start) / 1000), exitCode: code, exitSignal: signal, drainMs, restartMs, pendingAtTerm });
  }
  await sleep(gapS * 1000);
  const seconds = (Date.now() - start) / 1000;

  const reasons = {};
  for (const s of fleet.clients) for (const d of s.disconnects) reasons[d.reason] = (reasons[d.reason] || 0) + 1;
  const drainWindowSends = fleet.sends.filter((s) => s.ok && restarts.some((r) => s.tSent >= r.t && s.tSent < r.t + r.drainMs));
  const lat = drainWindowSends.map((s) => s.tAck - s.tSent).sort((x, y) => x - y);
  const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
  // When the failed attempts happened: while a node drained, while its replacement booted, or otherwise.
  const phase = (t) => {
    for (const r of restarts) {
      if (t >= r.t && t < r.t + r.drainMs) return 'draining';
      if (t >= r.t + r.drainMs && t < r.t + r.drainMs + r.restartMs) return 'booting';
    }
    return 'steady';
  };
  const errorsByPhase = {};
  for (const [t, code] of fleet.errorTimes) errorsByPhase[`${phase(t)} ${code}`] = (errorsByPhase[`${phase(t)} ${code}`] || 0) + 1;
  const nodeLogErrors = apis.map((n) => ({ node: n.name, errorLines: n.output.split('\n').filter((l) => /"level":(50|60)/.test(l) && !/VapidKeysService/.test(l)).slice(0, 5) }));
  return h.finish(
    'rolling-deploy',
    cluster,
    fleet,
    pop,
    {
      config: { clients, rate, groupSize: h.num('group', 10), nodes: apis.length, gapSeconds: gapS, shutdownTimeoutMs },
      achievedOkAcksPerSec: Math.round(fleet.sends.filter((s) => s.ok && s.tAck - start <= seconds * 1000).length / seconds),
      restarts: restarts.map(({ t, ...r }) => ({ ...r, ...h.resumeAfter(fleet, t, r.drainMs + 5000), firstOkAckAfterSigtermMs: h.firstOkAfter(fleet, t) })),
      disconnectReasons: reasons,
      errorsByPhase,
      ackLatencyWhileDrainingMs: { sends: lat.length, p50: q(0.5), p99: q(0.99), max: lat.length ? lat[lat.length - 1] : null },
      sdkListenerErrors: fleet.clients.reduce((n, s) => n + s.listenerErrors.length, 0),
      nodeLogErrors: nodeLogErrors.filter((n) => n.errorLines.length > 0),
    },
    (r) => ({
      noAckedLost: r.ackedLost === 0,
      noDuplicates: r.duplicatesStored === 0 && r.duplicatesDelivered === 0,
      noGaps: r.gaps === 0 && r.notCaughtUpAtEnd === 0,
      // Nothing beyond a reconnect: no failed request attempt, no background SDK error, no send that failed.
      noClientErrors: Object.keys(r.errorsAnswered).length === 0 && r.sdkListenerErrors === 0 && Object.keys(r.finalFailures).length === 0,
      everyNodeExitedCleanly: r.restarts.every((x) => x.exitCode === 0 && x.drainMs < shutdownTimeoutMs),
      everyClientResumed: r.clientsResumed === r.clientsDisconnected && r.clientsReadyAtEnd === r.clients,
      allSendsSettled: r.unsettledAtEnd === 0,
    }),
    { keepLogs: false },
  );
}

module.exports = { rollingDeploy };
