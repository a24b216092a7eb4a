import { createShardedAdapter } from '@socket.io/redis-adapter';
import { Cluster } from 'ioredis';
import { Server, type Namespace } from 'socket.io';

/**
 * SOCKET_ADAPTER=sharded: Socket.IO's fan-out over Redis 7 sharded pub/sub on a Redis Cluster.
 * Every room gets its own shard channel `<prefix>:socket.io#/rt#<room>#` (hashed to one slot, so
 * rooms spread over the masters); a node SSUBSCRIBEs to the rooms it has sockets in and hears only
 * those, instead of every event of the deployment.
 */

export type ClusterNode = { host: string; port: number };

/**
 * One Cluster connection of the fan-out. ioredis 5.11's `shardedSubscribers` keeps one SSUBSCRIBE
 * connection per master and routes each channel to the master of its slot (re-subscribing after a
 * failover or resharding); @socket.io/redis-adapter only calls `ssubscribe` and listens to
 * 'smessageBuffer', which the Cluster relays from those connections.
 */
export function connectFanoutCluster(nodes: ClusterNode[], name: string, role: 'publisher' | 'subscriber', onError: (error: unknown) => void): Cluster {
  const cluster = new Cluster(nodes, { shardedSubscribers: role === 'subscriber', redisOptions: { connectionName: name } });
  // Without a listener ioredis prints each connection error to the console, past the logger.
  cluster.on('error', onError);
  return cluster;
}

/** What the sharded adapter calls on its publishing client. */
export interface ShardedPublisher {
  /** The adapter's serverCount() sums PUBSUB SHARDNUMSUB over `nodes()` when it sees a cluster. */
  readonly isCluster: true;
  nodes: Cluster['nodes'];
  spublish(channel: string, message: string | Buffer): Promise<unknown>;
}

/**
 * The publishing side, with failures logged: the adapter drops a failed SPUBLISH with a debug line
 * only. As with the classic emitter, a live emit lost that way is caught up by `sync`.
 */
export function shardedPublisher(cluster: Cluster, onError: (error: unknown) => void): ShardedPublisher {
  return {
    isCluster: true,
    nodes: cluster.nodes.bind(cluster),
    spublish: (channel, message) =>
      cluster.spublish(channel, message).catch((error: unknown) => {
        onError(error);
        return 0;
      }),
  };
}

/** What the sharded adapter calls on its subscribing client. */
export interface ShardedSubscriber {
  on(event: 'smessageBuffer', listener: (channel: Buffer, message: Buffer) => void): unknown;
  ssubscribe(channel: string): Promise<unknown>;
  sunsubscribe(channel: string): Promise<unknown>;
}

/**
 * The subscribing side. The adapter never awaits its SSUBSCRIBE and SUNSUBSCRIBE promises, so a
 * rejected one would be an unhandled rejection and end the process: it is logged instead (a missed
 * SSUBSCRIBE means this node does not hear that room until ioredis re-subscribes).
 */
export function shardedSubscriber(cluster: Cluster, onError: (error: unknown, channel: string) => void): ShardedSubscriber {
  return {
    on: (event, listener) => cluster.on(event, listener),
    ssubscribe: (channel) => cluster.ssubscribe(channel).catch((error: unknown) => onError(error, channel)),
    sunsubscribe: (channel) => cluster.sunsubscribe(channel).catch((error: unknown) => onError(error, channel)),
  };
}

/**
 * A subscriber that subscribes to nothing, for a process without sockets: like the classic emitter
 * it replaces, it only publishes, so API nodes do not count it in serverCount() and never wait for
 * its answer to a serverSideEmit (the membership broadcast).
 */
export const publishOnlySubscriber: ShardedSubscriber = {
  on: () => undefined,
  ssubscribe: () => Promise.resolve(),
  sunsubscribe: () => Promise.resolve(),
};

/**
 * The adapter every process of a sharded deployment uses, on `socketIoChannel(REDIS_PREFIX)` like the
 * classic one (two deployments on one cluster do not hear each other); `dynamic`: per-room channels.
 */
export function shardedIoAdapter(publisher: ShardedPublisher, subscriber: ShardedSubscriber, channelPrefix: string) {
  return createShardedAdapter(publisher, subscriber, { channelPrefix, subscriptionMode: 'dynamic' });
}

/**
 * The worker's way to reach sockets in sharded mode (@socket.io/redis-emitter speaks only the
 * classic protocol): a Socket.IO server that is never attached to HTTP and holds no sockets, with
 * the sharded adapter, so `namespace.to(room).emit()` becomes one SPUBLISH on the room's channel.
 */
export class HeadlessShardedEmitter {
  readonly namespace: Namespace;

  private constructor(
    private readonly cluster: Cluster,
    server: Server,
    namespace: string,
  ) {
    this.namespace = server.of(namespace);
  }

  static connect(nodes: ClusterNode[], channelPrefix: string, namespace: string, onError: (error: unknown) => void): HeadlessShardedEmitter {
    const cluster = connectFanoutCluster(nodes, 'pigeon-fanout-emitter', 'publisher', onError);
    const server = new Server({ serveClient: false });
    server.adapter(shardedIoAdapter(shardedPublisher(cluster, onError), publishOnlySubscriber, channelPrefix));
    return new HeadlessShardedEmitter(cluster, server, namespace);
  }

  async close(): Promise<void> {
    // The server has no listener nor sockets and its adapter no subscriptions: only the connection to close.
    await this.cluster.quit().catch(() => this.cluster.disconnect());
  }
}
