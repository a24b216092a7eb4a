/**
 * Admission control for socket handshakes. A reconnect storm (a node died and its clients all come
 * back at once) would otherwise start thousands of connection bootstraps together: each one a
 * database read and room joins, all competing, so every one gets slow and clients time out and
 * retry, making the storm worse. Here at most `concurrency` bootstraps run; the rest wait in order
 * (degrading into waiting, not errors); only when the wait list is full, or a handshake has waited
 * `maxWaitMs`, is it refused with a hint of when to come back.
 */
export interface AdmissionOptions {
  concurrency: number;
  maxQueue: number;
  maxWaitMs: number;
}

export type AdmissionResult = { admitted: true; release: () => void } | { admitted: false; retryAfterMs: number };

interface Waiter {
  resolve: (result: AdmissionResult) => void;
  timer: NodeJS.Timeout;
}

export class ConnectAdmission {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  /** Recent bootstrap durations, to tell a refused client how long the line ahead of it takes. */
  private meanBootstrapMs = 20;

  constructor(private readonly options: AdmissionOptions) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting.length;
  }

  acquire(): Promise<AdmissionResult> {
    if (this.running < this.options.concurrency) return Promise.resolve(this.grant());
    if (this.waiting.length >= this.options.maxQueue) return Promise.resolve({ admitted: false, retryAfterMs: this.retryHint() });
    return new Promise<AdmissionResult>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          resolve({ admitted: false, retryAfterMs: this.retryHint() });
        }, this.options.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private grant(): AdmissionResult {
    this.running += 1;
    const started = performance.now();
    let released = false;
    return {
      admitted: true,
      release: () => {
        if (released) return;
        released = true;
        this.running -= 1;
        this.meanBootstrapMs = this.meanBootstrapMs * 0.9 + (performance.now() - started) * 0.1;
        const next = this.waiting.shift();
        if (next) {
          clearTimeout(next.timer);
          next.resolve(this.grant());
        }
      },
    };
  }

  /** Time for the current line to drain at the current pace, at least a second. */
  private retryHint(): number {
    const drainMs = ((this.waiting.length + this.running) / Math.max(1, this.options.concurrency)) * this.meanBootstrapMs;
    return Math.max(1000, Math.round(drainMs));
  }
}
