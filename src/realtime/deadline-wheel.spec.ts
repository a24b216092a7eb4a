import { DeadlineWheel, EXPIRY_TICK_MS } from './deadline-wheel';

describe('DeadlineWheel', () => {
  const base = Math.ceil(Date.now() / EXPIRY_TICK_MS) * EXPIRY_TICK_MS + 10 * EXPIRY_TICK_MS;

  it('fires each item once, in deadline order, no earlier than its deadline and at most one tick late', () => {
    const fired: string[] = [];
    const wheel = new DeadlineWheel<string>((item) => fired.push(item));
    wheel.schedule('late', base + 5 * EXPIRY_TICK_MS);
    wheel.schedule('early', base + 1);
    wheel.schedule('middle', base + 2 * EXPIRY_TICK_MS);
    expect(wheel.size).toBe(3);

    wheel.advance(base);
    expect(fired).toEqual([]);
    wheel.advance(base + EXPIRY_TICK_MS);
    expect(fired).toEqual(['early']);
    wheel.advance(base + 10 * EXPIRY_TICK_MS);
    expect(fired).toEqual(['early', 'middle', 'late']);
    wheel.advance(base + 20 * EXPIRY_TICK_MS);
    expect(fired).toEqual(['early', 'middle', 'late']);
    expect(wheel.size).toBe(0);
  });

  it('rescheduling moves the deadline and cancel removes it', () => {
    const fired: string[] = [];
    const wheel = new DeadlineWheel<string>((item) => fired.push(item));
    wheel.schedule('refreshed', base + EXPIRY_TICK_MS);
    wheel.schedule('refreshed', base + 8 * EXPIRY_TICK_MS);
    wheel.schedule('gone', base + EXPIRY_TICK_MS);
    wheel.cancel('gone');
    wheel.cancel('never-scheduled');
    wheel.advance(base + 4 * EXPIRY_TICK_MS);
    expect(fired).toEqual([]);
    expect(wheel.size).toBe(1);
    wheel.advance(base + 8 * EXPIRY_TICK_MS);
    expect(fired).toEqual(['refreshed']);
  });

  it('a deadline already past fires on the next advance', () => {
    const fired: string[] = [];
    const wheel = new DeadlineWheel<string>((item) => fired.push(item));
    wheel.advance(base);
    wheel.schedule('overdue', base - 60_000);
    wheel.advance(base + EXPIRY_TICK_MS);
    expect(fired).toEqual(['overdue']);
  });
});
