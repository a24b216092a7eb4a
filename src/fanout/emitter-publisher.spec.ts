import { emitterPublisher } from './fanout.service';

describe('emitterPublisher', () => {
  it('turns a failed PUBLISH into a logged error instead of an unhandled rejection', async () => {
    const errors: unknown[] = [];
    const failure = new Error('Command timed out');
    const publisher = emitterPublisher({ publish: () => Promise.reject(failure) } as never, (error) => errors.push(error));
    // The emitter ignores what publish returns; awaiting it here only lets the catch run.
    await expect(publisher.publish('ch', 'msg')).resolves.toBe(0);
    expect(errors).toEqual([failure]);
  });

  it('passes a successful PUBLISH through', async () => {
    const sent: [string, string][] = [];
    const publisher = emitterPublisher(
      { publish: (channel: string, message: string) => (sent.push([channel, message]), Promise.resolve(2)) } as never,
      () => undefined,
    );
    await expect(publisher.publish('ch', 'msg')).resolves.toBe(2);
    expect(sent).toEqual([['ch', 'msg']]);
  });
});
