import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * What a shutting-down API node still owes: socket events received but not yet acked, per socket,
 * and HTTP requests not yet answered. Readiness reads `draining` so load balancers stop routing here.
 */
@Injectable()
export class DrainService {
  private drainingSince: number | null = null;
  private readonly socketEvents = new WeakMap<object, number>();
  private readonly socketWaiters = new WeakMap<object, (() => void)[]>();
  private httpInFlight = 0;
  private httpWaiters: (() => void)[] = [];

  get draining(): boolean {
    return this.drainingSince !== null;
  }

  start(): void {
    this.drainingSince ??= Date.now();
  }

  socketEventStarted(socket: object): void {
    this.socketEvents.set(socket, (this.socketEvents.get(socket) ?? 0) + 1);
  }

  socketEventEnded(socket: object): void {
    const left = (this.socketEvents.get(socket) ?? 1) - 1;
    this.socketEvents.set(socket, left);
    if (left > 0) return;
    const waiters = this.socketWaiters.get(socket) ?? [];
    this.socketWaiters.delete(socket);
    waiters.forEach((resolve) => resolve());
  }

  /** Resolves once every event this socket sent has been acked (at once if none is pending). */
  socketIdle(socket: object): Promise<void> {
    if ((this.socketEvents.get(socket) ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) => this.socketWaiters.set(socket, [...(this.socketWaiters.get(socket) ?? []), resolve]));
  }

  /** Counts requests in flight; while draining each response closes its connection. */
  readonly httpMiddleware = (_req: Request, res: Response, next: NextFunction): void => {
    this.httpInFlight++;
    if (this.draining) res.setHeader('Connection', 'close');
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (--this.httpInFlight === 0) this.httpWaiters.splice(0).forEach((resolve) => resolve());
    };
    res.once('finish', finish);
    res.once('close', finish);
    next();
  };

  httpIdle(): Promise<void> {
    if (this.httpInFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.httpWaiters.push(resolve));
  }
}
