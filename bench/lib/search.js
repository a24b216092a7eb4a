'use strict';
/**
 * Rate search: start low, step up ×factor until a step is bad (p99 over the limit, any loss or any
 * failed send), then bisect between the last good and the first bad rate. Bounded in steps and time.
 */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one measured step at `rate` messages/s (all senders together).
 * `receivers` is how many clients get every message (each one counts as a delivery).
 */
async function measureStep(pool, { step, rate, durationMs, graceMs, senderCount, receivers, bodyBytes, p99LimitMs, onBusy, criterion = 'delivery' }) {
  const startAt = Date.now() + 300;
  const busy = onBusy ? onBusy(durationMs) : null; // e.g. a CPU profile of exactly this step
  const sent = await pool.step({ step, startAt, durationMs, totalRate: rate, senderCount, bodyBytes });
  if (busy) await busy;
  const expected = sent.acked * receivers;
  const graceEnd = Date.now() + graceMs;
  while (Date.now() < graceEnd && (await pool.count(step)) < expected) await sleep(100);
  const stats = await pool.collect(step);
  const summary = stats.hist.summary();
  const lost = Math.max(0, expected - stats.received);
  const reasons = [];
  if (sent.failed > 0) reasons.push(`${sent.failed} failed sends ${JSON.stringify(sent.errors)}`);
  if (lost > 0) reasons.push(`${lost} deliveries lost`);
  // criterion 'ack': the limit applies to send -> ack latency (throughput), else to send -> receive (fanout).
  const judged = criterion === 'ack' ? sent.ack : summary;
  const label = criterion === 'ack' ? 'ack p99' : 'p99';
  if (judged.p99Ms === null || judged.p99Ms > p99LimitMs) reasons.push(`${label} ${judged.p99Ms} ms > ${p99LimitMs} ms`);
  return {
    step,
    rateMsgsPerSec: Math.round(rate * 100) / 100,
    offeredDeliveriesPerSec: Math.round(rate * receivers),
    deliveriesPerSec: Math.round(stats.received / (durationMs / 1000)),
    ackedPerSec: Math.round(sent.acked / (durationMs / 1000)),
    durationMs,
    sent: sent.attempted,
    acked: sent.acked,
    failedSends: sent.failed,
    sendErrors: sent.errors,
    ack: sent.ack,
    scheduleLagMaxMs: Math.round(sent.scheduleLagMaxMs * 10) / 10,
    expected,
    received: stats.received,
    lost,
    latency: summary,
    clientCounters: stats.counters,
    good: reasons.length === 0,
    reasons,
  };
}

async function rateSearch(pool, opts, log) {
  const {
    startRate = 5,
    factor = 1.5,
    bisectSteps = 3,
    budgetMs = 150_000,
    maxSteps = 24,
    maxRate = 5000,
    stepMs = 5000,
    graceMs = 3000,
  } = opts;
  const started = Date.now();
  const steps = [];
  let stepNo = opts.firstStep ?? 1;
  const estimate = stepMs + graceMs + 1500;
  const timeLeft = () => budgetMs - (Date.now() - started);
  const run = async (rate, phase) => {
    const r = await measureStep(pool, { ...opts, step: stepNo++, rate, durationMs: stepMs, graceMs });
    r.phase = phase;
    steps.push(r);
    log(
      `    ${phase.padEnd(6)} ${r.rateMsgsPerSec.toFixed(1).padStart(7)} msg/s  ${String(r.deliveriesPerSec).padStart(7)} deliveries/s  ` +
        `p50 ${r.latency.p50Ms} ms  p99 ${r.latency.p99Ms} ms  ack p50 ${r.ack.p50Ms} p99 ${r.ack.p99Ms} ms  acked ${r.ackedPerSec}/s  lost ${r.lost}  ` +
        `${r.good ? 'ok' : `BAD: ${r.reasons.join('; ')}`}`,
    );
    if (opts.afterStep) await opts.afterStep(r);
    await sleep(r.good ? 700 : 2500); // let a backlog drain before the next step
    return r;
  };

  let lastGood = null;
  let firstBad = null;
  let rate = startRate;
  let truncated = null;
  let reachedMaxRate = false;
  while (steps.length < maxSteps && rate <= maxRate) {
    if (timeLeft() < estimate) {
      truncated = 'time budget reached while stepping up';
      break;
    }
    const r = await run(rate, 'step');
    if (r.good) {
      lastGood = r;
      if (rate >= maxRate) {
        reachedMaxRate = true;
        break;
      }
      rate = Math.min(rate * factor, maxRate); // the cap itself is tried once
    } else {
      firstBad = r;
      break;
    }
  }
  // The start rate already fails: step down (÷factor, at most 3 times) to find a good rate at all.
  for (let i = 0; !lastGood && firstBad && i < 3 && steps.length < maxSteps && timeLeft() >= estimate; i++) {
    const r = await run(firstBad.rateMsgsPerSec / factor, 'down');
    if (r.good) lastGood = r;
    else firstBad = r;
  }
  if (lastGood && firstBad) {
    let lo = lastGood.rateMsgsPerSec;
    let hi = firstBad.rateMsgsPerSec;
    for (let i = 0; i < bisectSteps && steps.length < maxSteps; i++) {
      if (timeLeft() < estimate) {
        truncated = `time budget reached after ${i} bisect step(s)`;
        break;
      }
      const mid = (lo + hi) / 2;
      const r = await run(mid, 'bisect');
      if (r.good) lo = mid;
      else hi = mid;
    }
  }
  const good = steps.filter((s) => s.good);
  const best = good.reduce((a, s) => (!a || s.deliveriesPerSec > a.deliveriesPerSec ? s : a), null);
  return {
    best,
    firstBadRate: firstBad ? firstBad.rateMsgsPerSec : null,
    reachedMaxRate,
    truncated,
    elapsedMs: Date.now() - started,
    steps,
    nextStep: stepNo,
  };
}

module.exports = { rateSearch, measureStep };
