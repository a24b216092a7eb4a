import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { AppConfigService } from '../config/app-config.service';
import { REDIS } from '../redis/redis.module';
import { metricsAccess } from './metrics.controller';
import { MetricsService } from './metrics.service';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS))),
  ]);
}

/**
 * The worker's own HTTP port (WORKER_PORT): /metrics (same token rule as the API's), /health/live,
 * and /health/ready (Postgres and Redis answer; 503 while shutting down). Plain node:http, since
 * the worker has no Nest HTTP adapter.
 */
@Injectable()
export class WorkerHttpServer {
  private readonly logger = new Logger('WorkerHttp');
  private server?: Server;
  private draining = false;

  constructor(
    private readonly metrics: MetricsService,
    private readonly config: AppConfigService,
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Readiness turns 503 so orchestrators stop counting on this process. */
  drain(): void {
    this.draining = true;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    try {
      if (req.method !== 'GET') return send(res, 405, { error: 'method not allowed' });
      if (path === '/health/live') return send(res, 200, { status: 'ok', info: {}, error: {}, details: {} });
      if (path === '/health/ready') return send(res, ...(await this.ready()));
      if (path === '/metrics') {
        const access = metricsAccess(this.config, req.headers.authorization);
        if (access !== 'ok') return send(res, access === 'hidden' ? 404 : 401, { error: access === 'hidden' ? 'not found' : 'unauthorized' });
        res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
        res.end(await this.metrics.registry.metrics());
        return;
      }
      send(res, 404, { error: 'not found' });
    } catch (error) {
      this.logger.error({ err: error }, 'Worker HTTP request failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    }
  }

  private async ready(): Promise<[number, object]> {
    const check = async (name: string, probe: () => Promise<unknown>) => {
      try {
        await withTimeout(probe());
        return [name, { status: 'up' }] as const;
      } catch (error) {
        return [name, { status: 'down', message: error instanceof Error ? error.message : String(error) }] as const;
      }
    };
    const results = await Promise.all([
      check('postgres', () => this.dataSource.query('SELECT 1')),
      check('redis', async () => {
        if ((await this.redis.ping()) !== 'PONG') throw new Error('no PONG');
      }),
    ]);
    const details: Record<string, { status: string; message?: string }> = Object.fromEntries(results);
    if (this.draining) details.shutdown = { status: 'down', message: 'shutting down' };
    const up = Object.values(details).every((d) => d.status === 'up');
    const info = Object.fromEntries(Object.entries(details).filter(([, d]) => d.status === 'up'));
    const error = Object.fromEntries(Object.entries(details).filter(([, d]) => d.status !== 'up'));
    return [up ? 200 : 503, { status: up ? 'ok' : 'error', info, error, details }];
  }
}

function send(res: ServerResponse, status: number, body: object): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
