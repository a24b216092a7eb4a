import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import type { Namespace } from 'socket.io';
import type { EnvironmentVariables } from '../config/env.validation';
import { MetricsService } from '../metrics/metrics.service';
import { DrainService } from './drain.service';

/** Time kept back from the deadline for closing Postgres, Redis and the listeners. */
const CLOSE_MARGIN_MS = 1500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise.finally(() => clearTimeout(timer)), new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), Math.max(0, ms))))]);
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
      // Asks each socket to finish its requests and reconnect elsewhere (PROTOCOL.md Decisions, wave 3).
      rt.local.emit('server:shutdown', { reason: 'shutdown' });
      // Clients that know the event leave on their own once their requests are acked.
      const graceUntil = Math.min(deadline, started + Math.min(5000, env.SHUTDOWN_TIMEOUT_MS / 3));
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
