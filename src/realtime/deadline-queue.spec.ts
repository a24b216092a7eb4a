import { DeadlineQueue } from './deadline-queue';

describe('DeadlineQueue', () => {
  const base = 1_000_000;

  it('fires each item once, in deadline order, never before its deadline', () => {
    const fired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => fired.push(item), false);
    queue.schedule('late', base + 500);
    queue.schedule('early', base + 1);
    queue.schedule('middle', base + 200);
    expect(queue.size).toBe(3);

    queue.advance(base);
    expect(fired).toEqual([]);
    queue.advance(base + 1);
    expect(fired).toEqual(['early']);
    queue.advance(base + 10_000);
    expect(fired).toEqual(['early', 'middle', 'late']);
    queue.advance(base + 20_000);
    expect(fired).toEqual(['early', 'middle', 'late']);
    expect(queue.size).toBe(0);
  });

  it('rescheduling moves the deadline and cancel removes it', () => {
    const fired: string[] = [];
    const queue = new DeadlineQueue<string>((item) => fired.push(item), false);
    queue.schedule('refreshed', base + 100);
    queue.schedule('refreshed', base + 800);
    queue.schedule('gone', base + 100);
    queue.cancel('gone');
    queue.cancel('never-scheduled');
    queue.advance(base + 400);
    expect(fired).toEqual([]);
    expect(queue.size).toBe(1);
    queue.advance(base + 800);
    expect(fired).toEqual(['refreshed']);
  });

  it('keeps order through many random deadlines, cancellations and a compaction', () => {
    const fired: number[] = [];
    const queue = new DeadlineQueue<number>((item) => fired.push(item), false);
    const at = new Map<number, number>();
    for (let i = 0; i < 2000; i++) {
      const deadline = base + ((i * 7919) % 5000);
      at.set(i, deadline);
      queue.schedule(i, deadline);
    }
    for (let i = 0; i < 2000; i += 3) {
      queue.cancel(i);
      at.delete(i);
    }
    queue.advance(base + 10_000);
    expect(fired.sort((a, b) => a - b)).toEqual([...at.keys()].sort((a, b) => a - b));
    expect(queue.size).toBe(0);
  });

  it('fires on its own timer, close to the deadline', async () => {
    const fired: number[] = [];
    const queue = new DeadlineQueue<string>(() => fired.push(Date.now()));
    const deadline = Date.now() + 60;
    queue.schedule('soon', Date.now() + 5_000);
    queue.schedule('now', deadline);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(deadline);
    queue.stop();
  });
});
