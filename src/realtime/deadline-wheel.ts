/** How often due expiries are looked at: warnings and cut-offs land at most this late. */
export const EXPIRY_TICK_MS = 250;

/**
 * Time-bucketed deadlines for many items on one timer per process. Two `setTimeout`s per socket
 * (expiry warning and cut-off) cost a Timeout object and a closure each for the socket's whole life;
 * here a socket costs one Map entry and one Set entry per pending deadline.
 */
export class DeadlineWheel<T> {
  private readonly buckets = new Map<number, Set<T>>();
  private readonly bucketOf = new Map<T, number>();
  private lastTick = Math.floor(Date.now() / EXPIRY_TICK_MS);

  constructor(private readonly fire: (item: T) => void) {}

  /** (Re)schedules `item` at `at` (epoch ms); a deadline already past fires on the next tick. */
  schedule(item: T, at: number): void {
    this.cancel(item);
    const tick = Math.max(this.lastTick + 1, Math.ceil(at / EXPIRY_TICK_MS));
    let bucket = this.buckets.get(tick);
    if (!bucket) this.buckets.set(tick, (bucket = new Set()));
    bucket.add(item);
    this.bucketOf.set(item, tick);
  }

  cancel(item: T): void {
    const tick = this.bucketOf.get(item);
    if (tick === undefined) return;
    this.bucketOf.delete(item);
    const bucket = this.buckets.get(tick);
    bucket?.delete(item);
    if (bucket?.size === 0) this.buckets.delete(tick);
  }

  get size(): number {
    return this.bucketOf.size;
  }

  /** Fires every item due up to `now`, in deadline order. */
  advance(now = Date.now()): void {
    const current = Math.floor(now / EXPIRY_TICK_MS);
    // Buckets are sparse: walk the known ticks instead of every tick since the last call.
    const due = [...this.buckets.keys()].filter((tick) => tick <= current).sort((a, b) => a - b);
    this.lastTick = Math.max(this.lastTick, current);
    for (const tick of due) {
      const bucket = this.buckets.get(tick)!;
      this.buckets.delete(tick);
      for (const item of bucket) {
        this.bucketOf.delete(item);
        this.fire(item);
      }
    }
  }
}
