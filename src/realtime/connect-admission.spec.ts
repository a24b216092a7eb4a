import { ConnectAdmission, type AdmissionResult } from './connect-admission';

const admitted = (r: AdmissionResult) => {
  if (!r.admitted) throw new Error('expected admission');
  return r;
};

describe('ConnectAdmission', () => {
  it('runs at most `concurrency` at once and admits the waiting in arrival order', async () => {
    const gate = new ConnectAdmission({ concurrency: 2, maxQueue: 10, maxWaitMs: 5000 });
    const first = admitted(await gate.acquire());
    const second = admitted(await gate.acquire());
    const order: number[] = [];
    const later = [3, 4, 5].map((n) => gate.acquire().then((r) => (order.push(n), admitted(r))));
    expect(gate.inFlight).toBe(2);
    expect(gate.queued).toBe(3);
    first.release();
    first.release(); // a second release of the same grant is ignored
    const third = await later[0];
    expect(gate.inFlight).toBe(2);
    second.release();
    third.release();
    const [, fourth, fifth] = await Promise.all(later);
    expect(order).toEqual([3, 4, 5]);
    fourth.release();
    fifth.release();
    expect(gate.inFlight).toBe(0);
    expect(gate.queued).toBe(0);
  });

  it('refuses with a retry hint when the wait list is full', async () => {
    const gate = new ConnectAdmission({ concurrency: 1, maxQueue: 1, maxWaitMs: 5000 });
    const holder = admitted(await gate.acquire());
    const waiting = gate.acquire();
    const refused = await gate.acquire();
    expect(refused).toEqual({ admitted: false, retryAfterMs: expect.any(Number) });
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(1000);
    holder.release();
    admitted(await waiting).release();
  });

  it('refuses a handshake that waited maxWaitMs, and it no longer holds a place', async () => {
    const gate = new ConnectAdmission({ concurrency: 1, maxQueue: 5, maxWaitMs: 50 });
    const holder = admitted(await gate.acquire());
    const timedOut = await gate.acquire();
    expect(timedOut.admitted).toBe(false);
    expect(gate.queued).toBe(0);
    holder.release();
    expect(gate.inFlight).toBe(0);
  });
});
