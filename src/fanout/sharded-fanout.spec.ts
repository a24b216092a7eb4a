import type { Cluster } from 'ioredis';
import { publishOnlySubscriber, shardedPublisher, shardedSubscriber } from './sharded-fanout';

describe('sharded fan-out clients', () => {
  it('turns a failed SPUBLISH into a logged error instead of a rejection', async () => {
    const errors: unknown[] = [];
    const failure = new Error('CLUSTERDOWN');
    const sut = shardedPublisher({ spublish: () => Promise.reject(failure), nodes: () => [] } as unknown as Cluster, (error) => errors.push(error));
    await expect(sut.spublish('ch', 'msg')).resolves.toBe(0);
    expect(errors).toEqual([failure]);
    // The adapter's serverCount() takes the cluster path (PUBSUB SHARDNUMSUB on every node) on this flag.
    expect(sut.isCluster).toBe(true);
  });

  it('catches a failed SSUBSCRIBE or SUNSUBSCRIBE, whose promise the adapter drops', async () => {
    const failed: string[] = [];
    const sut = shardedSubscriber(
      { ssubscribe: () => Promise.reject(new Error('down')), sunsubscribe: () => Promise.reject(new Error('down')) } as unknown as Cluster,
      (_error, channel) => {
        failed.push(channel);
      },
    );
    await expect(sut.ssubscribe('a')).resolves.toBeUndefined();
    await expect(sut.sunsubscribe('b')).resolves.toBeUndefined();
    expect(failed).toEqual(['a', 'b']);
  });

  it('gives a process without sockets a subscriber that subscribes to nothing', async () => {
    await expect(publishOnlySubscriber.ssubscribe('x')).resolves.toBeUndefined();
    expect(publishOnlySubscriber.on('smessageBuffer', () => undefined)).toBeUndefined();
  });
});
