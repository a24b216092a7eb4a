import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { Namespace } from 'socket.io';
import type { EnvironmentVariables } from '../config/env.validation';
import { MetricsService } from '../metrics/metrics.service';
import { DrainService } from './drain.service';

/** Time kept back from the deadline for closing Postgres, Redis and the listeners. */
const CLOSE_MARGIN_MS = 1500;

/** The notices go out over this long, so the other nodes get a ramp of reconnects rather than one burst. */
const SPREAD_MS = 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise.finally(() => clearTimeout(timer)), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), Math.max(0, ms))))]);
}

/** Asks each local socket to finish its requests and reconnect elsewhere (PROTOCOL.md Decisions, wave 3), in slices over `spreadMs`. */
async function notifyShutdown(rt: Namespace, spreadMs: number): Promise<void> {
  const sockets = [...rt.sockets.values()];
  const slices = Math.max(1, Math.min(10, sockets.length));
  const perSlice = Math.ceil(sockets.length / slices);
  for (let i = 0; i < slices; i++) {
    for (const socket of sockets.slice(i * perSlice, (i + 1) * perSlice)) if (socket.connected) socket.emit('server:shutdown', { reason: 'shutdown' });
    if (i < slices - 1) await sleep(spreadMs / slices);
  }
}

/**
 * SIGTERM/SIGINT on an API node: stop accepting (listener closed, readiness 503), tell every local
 * socket to reconnect elsewhere, let each finish what it sent (acks written, so group commits are
 * flushed), close the rest once idle, answer the HTTP requests in flight, then close Nest (Redis,
 * Postgres) and exit 0, or 1 when SHUTDOWN_TIMEOUT_MS passes first.
 */
export function installGracefulShutdown(
  app: NestExpressApplication,
  namespace: () => Namespace | undefined,
  env: EnvironmentVariables,
  logger: LoggerService,
): void {
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    const deadline = started + env.SHUTDOWN_TIMEOUT_MS - CLOSE_MARGIN_MS;
    const hardStop = setTimeout(() => {
      logger.error(`Shutdown did not finish in ${env.SHUTDOWN_TIMEOUT_MS} ms: exiting now`, 'Shutdown');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS);
    hardStop.unref();
    const drain = app.get(DrainService);
    drain.start();
    app.get(MetricsService).setDraining();
    const http = app.getHttpServer() as Server;
    // No new connections (REST or socket handshakes); idle keep-alive ones go now, busy ones after their answer.
    http.close();
    http.closeIdleConnections();

    const rt = namespace();
    const sockets = rt ? rt.sockets.size : 0;
    logger.log(`${signal}: draining ${sockets} socket(s), at most ${env.SHUTDOWN_TIMEOUT_MS} ms`, 'Shutdown');
    if (rt && sockets > 0) {
      const graceMs = Math.min(5000, env.SHUTDOWN_TIMEOUT_MS / 3);
      await notifyShutdown(rt, Math.min(SPREAD_MS, graceMs / 2));
      // Clients that know the event leave on their own once their requests are acked.
      const graceUntil = Math.min(deadline, started + graceMs);
      while (rt.sockets.size > 0 && Date.now() < graceUntil) await sleep(50);
      const left = [...rt.sockets.values()];
      await Promise.all(
        left.map(async (socket) => {
          await within(drain.socketIdle(socket), deadline - Date.now());
          // In the same turn as the last ack: nothing new can arrive on it in between.
          socket.disconnect(true);
        }),
      );
      logger.log(`sockets drained: ${sockets - left.length} reconnected on their own, ${left.length} closed by the server`, 'Shutdown');
    }
    if ((await within(drain.httpIdle(), deadline - Date.now())) === 'timeout') logger.warn('HTTP requests still running at the deadline', 'Shutdown');
    http.closeAllConnections();
    // Events committed by the last writes are emitted on the next turn (FanoutService): let them out.
    await new Promise((resolve) => setImmediate(resolve));
    await app.close();
    logger.log(`stopped in ${Date.now() - started} ms`, 'Shutdown');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal));
}
