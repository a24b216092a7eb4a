interface Entry<T> {
  at: number;
  item: T;
  version: number;
}

/**
 * Deadlines for many items on one timer per process, armed for the earliest one: two `setTimeout`s
 * per socket (expiry warning and cut-off) cost a Timeout object and a closure each for the socket's
 * whole life. Here a deadline is one heap entry; cancelling or moving one leaves its old entry to be
 * skipped when it comes up (a version check), and the heap is rebuilt once such entries are the
 * majority, so a cancelled item (a closed socket) is not held until its old deadline.
 */
export class DeadlineQueue<T> {
  private readonly heap: Entry<T>[] = [];
  private readonly versions = new Map<T, number>();
  private nextVersion = 1;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stale = 0;

  /** `autoRun` false: nothing fires until `advance` is called (tests drive the clock). */
  constructor(
    private readonly fire: (item: T) => void,
    private readonly autoRun = true,
  ) {}

  /** (Re)schedules `item` at `at` (epoch ms); a deadline already past fires on the next turn. */
  schedule(item: T, at: number): void {
    const version = this.nextVersion++;
    if (this.versions.has(item)) this.stale++;
    this.versions.set(item, version);
    this.push({ at, item, version });
    this.arm();
  }

  cancel(item: T): void {
    if (!this.versions.delete(item)) return;
    this.stale++;
    if (this.stale > 64 && this.stale > this.heap.length / 2) this.compact();
  }

  /** Items with a pending deadline. */
  get size(): number {
    return this.versions.size;
  }

  /** Fires every item due at `now`, in deadline order. */
  advance(now = Date.now()): void {
    while (this.heap.length > 0 && this.heap[0].at <= now) {
      const entry = this.pop()!;
      if (this.versions.get(entry.item) !== entry.version) {
        this.stale--;
        continue;
      }
      this.versions.delete(entry.item);
      this.fire(entry.item);
    }
    this.arm();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private arm(): void {
    if (!this.autoRun) return;
    this.dropStaleTop();
    const next = this.heap[0]?.at ?? Infinity;
    if (next >= this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = next;
    if (next === Infinity) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.armedAt = Infinity;
        this.advance();
      },
      Math.max(0, next - Date.now()),
    );
    this.timer.unref();
  }

  private dropStaleTop(): void {
    while (this.heap.length > 0 && this.versions.get(this.heap[0].item) !== this.heap[0].version) {
      this.pop();
      this.stale--;
    }
  }

  /** Drops every stale entry; an array sorted by deadline is a valid heap. */
  private compact(): void {
    const live = this.heap.filter((entry) => this.versions.get(entry.item) === entry.version).sort((a, b) => a.at - b.at);
    this.heap.length = 0;
    this.heap.push(...live);
    this.stale = 0;
  }

  private push(entry: Entry<T>): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= entry.at) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): Entry<T> | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right].at < heap[left].at ? right : left;
      if (heap[child].at >= last.at) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
