import { rawJsonParser } from './raw-json-parser';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { filter, finalize, type Observable } from 'rxjs';
import { createAdapter } from '@socket.io/redis-adapter';
import { socketIoChannel } from '../fanout/fanout.service';
import { connectFanoutCluster, shardedIoAdapter, shardedPublisher, shardedSubscriber } from '../fanout/sharded-fanout';
import Redis, { type Cluster } from 'ioredis';
import type { Namespace, Server, ServerOptions, Socket } from 'socket.io';
import { fanoutClusterNodes, type EnvironmentVariables } from '../config/env.validation';
import { DrainService } from '../health/drain.service';
import { MetricsService } from '../metrics/metrics.service';
import { runInContext, userContext, type TenantContext } from '../tenancy/tenant-context';

/** The tenant context of a socket's connection and events: its authenticated user (set in the handshake). */
function socketTenant(socket: Socket): TenantContext | null {
  const userId = (socket.data as { userId?: string } | undefined)?.userId;
  return userId ? userContext(userId) : null;
}

/**
 * Socket.IO across nodes through Redis pub/sub. SOCKET_ADAPTER=classic (the default): the classic
 * adapter on REDIS_URL, whose protocol @socket.io/redis-emitter (the worker's) speaks; on a single
 * Redis 7 it carries the same traffic as the sharded one. SOCKET_ADAPTER=sharded: the sharded
 * adapter on the Redis Cluster REDIS_FANOUT_CLUSTER_NODES (src/fanout/sharded-fanout.ts).
 */
export class RedisIoAdapter extends IoAdapter {
  private adapterConstructor: ReturnType<typeof createAdapter> | ReturnType<typeof shardedIoAdapter> | undefined;
  private clients: (Redis | Cluster)[] = [];
  private readonly socketLogger = new Logger('RedisIoAdapter');
  private readonly connectionLogger = new Logger('Sockets');
  private readonly metrics: MetricsService;
  private readonly drain: DrainService;
  /** The namespaces this adapter serves (the gateway's /rt), for the shutdown drain. */
  readonly namespaces = new Map<string, Namespace>();

  constructor(
    app: INestApplicationContext,
    private readonly env: EnvironmentVariables,
  ) {
    super(app);
    this.metrics = app.get(MetricsService, { strict: false });
    this.drain = app.get(DrainService, { strict: false });
  }

  async connectToRedis(): Promise<void> {
    const clusterNodes = fanoutClusterNodes(this.env);
    if (clusterNodes) return this.connectToCluster(clusterNodes);
    const pub = new Redis(this.env.REDIS_URL, { connectionName: 'pigeon-io-pub' });
    const sub = pub.duplicate({ connectionName: 'pigeon-io-sub' });
    this.clients = [pub, sub];
    await Promise.all([pub.ping(), sub.ping()]);
    this.adapterConstructor = createAdapter(pub, sub, { requestsTimeout: 3000, key: socketIoChannel(this.env.REDIS_PREFIX) });
  }

  private async connectToCluster(nodes: { host: string; port: number }[]): Promise<void> {
    const logger = new Logger('ShardedAdapter');
    const warn = (error: unknown) => logger.warn(`Redis Cluster (fan-out): ${String(error)}`);
    const pub = connectFanoutCluster(nodes, 'pigeon-io-pub', 'publisher', warn);
    const sub = connectFanoutCluster(nodes, 'pigeon-io-sub', 'subscriber', warn);
    this.clients = [pub, sub];
    // Both ready (slots known) before the namespace's adapter SSUBSCRIBEs its channels.
    await Promise.all([pub.ping(), sub.ping()]);
    this.adapterConstructor = shardedIoAdapter(
      shardedPublisher(pub, (error) => logger.warn(`Live emit through the Redis Cluster failed (clients catch up with sync): ${String(error)}`)),
      shardedSubscriber(sub, (error, channel) => logger.error(`SSUBSCRIBE/SUNSUBSCRIBE ${channel} failed: ${String(error)}`)),
      socketIoChannel(this.env.REDIS_PREFIX),
    );
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server: Server = super.createIOServer(port, {
      ...(options as ServerOptions),
      maxHttpBufferSize: this.env.SOCKET_MAX_FRAME_BYTES,
      perMessageDeflate: false,
      // Catch-up answers carry the stored event JSON as text (RawJson), spliced in unparsed.
      parser: rawJsonParser,
      transports: ['websocket', 'polling'],
      pingInterval: 25_000,
      pingTimeout: 20_000,
      // Origin checks happen in the handshake middleware, answering the contract's FORBIDDEN.
      cors: { origin: true, credentials: true },
    });
    if (this.adapterConstructor) server.adapter(this.adapterConstructor);
    return server;
  }

  /** One info line per connect and disconnect (ids and reason, never the token), and the socket metrics. */
  override bindClientConnect(server: Namespace, callback: (socket: Socket) => void): void {
    // Called once per gateway; several gateways share /rt, the instrumentation is attached once.
    if (!this.namespaces.has(server.name)) {
      this.namespaces.set(server.name, server);
      server.on('connection', (socket: Socket) => this.instrument(socket));
    }
    // Connection handlers run as the socket's user, like its events.
    server.on('connection', (socket: Socket) => runInContext(socketTenant(socket), () => callback(socket)));
  }

  private instrument(socket: Socket): void {
    const connectedAt = Date.now();
    const userId = (socket.data as { userId?: string } | undefined)?.userId;
    this.metrics.socketConnected();
    this.connectionLogger.log({ socketId: socket.id, userId, transport: socket.conn.transport.name }, 'socket connected');
    // Every server-to-client event packet written to this socket (socket.io type 2/5; acks are 3/6).
    socket.conn.on('packetCreate', (packet: { type: string; data?: unknown }) => {
      if (packet.type === 'message' && typeof packet.data === 'string' && (packet.data[0] === '2' || packet.data[0] === '5')) this.metrics.delivered();
    });
    socket.once('disconnect', (reason: string) => {
      this.metrics.socketDisconnected(reason);
      this.connectionLogger.log({ socketId: socket.id, userId, reason, connectedMs: Date.now() - connectedAt }, 'socket disconnected');
    });
  }

  /**
   * Nest's default binds every handler to every socket as a chain of RxJS operators (about 74 KiB
   * per idle socket with our 14 handlers, measured by the connections benchmark). Plain listeners
   * keep the per-socket cost to one closure per handler; RxJS is used per message instead.
   */
  override bindMessageHandlers(
    socket: Socket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback, isAckHandledManually } of handlers) {
      socket.on(message as string, (...args: unknown[]) => runInContext(socketTenant(socket), () => {
        const { data, ack } = this.mapPayload(args.length === 1 ? args[0] : args);
        let result$: Observable<unknown>;
        // Counted until its ack is written: a draining node closes the socket only once it owes nothing.
        this.drain.socketEventStarted(socket);
        try {
          result$ = transform(callback(data, ack));
        } catch (error) {
          this.drain.socketEventEnded(socket);
          this.socketLogger.error(error);
          return;
        }
        result$.pipe(filter((response) => response !== undefined && response !== null), finalize(() => this.drain.socketEventEnded(socket))).subscribe({
          next: (response) => {
            const reply = response as { event?: string; data?: unknown };
            if (reply.event) {
              socket.emit(reply.event, reply.data);
            } else if (!isAckHandledManually && typeof ack === 'function') {
              (ack as (r: unknown) => void)(response);
            }
          },
          error: (error: unknown) => this.socketLogger.error(error),
        });
      }));
    }
  }

  /** Disconnection handlers run as the socket's user, like its events and its connection. */
  override bindClientDisconnect(socket: Socket, callback: (reason: unknown) => void): void {
    socket.once('disconnect', (reason) => runInContext(socketTenant(socket), () => callback(reason)));
  }

  override async close(server: unknown): Promise<void> {
    await super.close(server as never);
    await Promise.allSettled(this.clients.map((c) => c.quit()));
  }
}
