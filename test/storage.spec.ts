import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BlobNotFoundError, BlobStorage } from '../src/storage/blob-storage';
import { LocalBlobStorage } from '../src/storage/local-blob-storage';
import { S3BlobStorage } from '../src/storage/s3-blob-storage';
import { startS3Server, TestS3Server } from './support/s3-server';

const collect = async (stream: Readable): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
};

/** The storage driver contract: every driver passes the same cases. */
function contract(name: string, setup: () => Promise<{ storage: BlobStorage; teardown: () => Promise<void> }>) {
  describe(`${name} storage driver`, () => {
    let storage: BlobStorage;
    let teardown: () => Promise<void>;
    let workDir: string;
    const key = (file = 'original') => `${randomUUID()}/${randomUUID()}/${file}`;

    beforeAll(async () => {
      ({ storage, teardown } = await setup());
      workDir = mkdtempSync(join(tmpdir(), 'pigeon-storage-contract-'));
    });
    afterAll(async () => {
      await teardown?.();
      rmSync(workDir, { recursive: true, force: true });
    });

    it('stores a buffer and reads it back whole, with its size', async () => {
      const k = key();
      const data = randomBytes(70_000);
      await storage.put(k, data, 'audio/wav');
      expect(await storage.size(k)).toBe(data.length);
      expect((await collect(await storage.read(k))).equals(data)).toBe(true);
    });

    it('reads inclusive byte ranges, the first and last byte included', async () => {
      const k = key();
      const data = randomBytes(10_000);
      await storage.put(k, data);
      expect((await collect(await storage.read(k, { start: 0, end: 0 }))).equals(data.subarray(0, 1))).toBe(true);
      expect((await collect(await storage.read(k, { start: 100, end: 4099 }))).equals(data.subarray(100, 4100))).toBe(true);
      expect((await collect(await storage.read(k, { start: 9990, end: 9999 }))).equals(data.subarray(9990))).toBe(true);
      expect((await storage.readHead(k, 64)).equals(data.subarray(0, 64))).toBe(true);
      expect((await storage.readHead(k, 1 << 20)).equals(data)).toBe(true);
    });

    it('stores a stream larger than one multipart part, and a local file', async () => {
      const k = key();
      const data = randomBytes(11 * 1024 * 1024 + 123);
      // Uneven pieces, as a socket would deliver them.
      const pieces = [] as Buffer[];
      for (let at = 0; at < data.length; at += 700_001) pieces.push(data.subarray(at, at + 700_001));
      await storage.put(k, Readable.from(pieces), 'audio/ogg');
      expect(await storage.size(k)).toBe(data.length);
      expect((await collect(await storage.read(k))).equals(data)).toBe(true);
      const tail = await collect(await storage.read(k, { start: data.length - 5000, end: data.length - 1 }));
      expect(tail.equals(data.subarray(data.length - 5000))).toBe(true);

      const path = join(workDir, 'voice.m4a');
      const file = randomBytes(3000);
      writeFileSync(path, file);
      const fk = key('voice.m4a');
      await storage.putFile(fk, path, 'audio/mp4');
      expect((await collect(await storage.read(fk))).equals(file)).toBe(true);
    });

    it('replaces an object whole and stores an empty one', async () => {
      const k = key();
      await storage.put(k, Buffer.from('first version'));
      await storage.put(k, Buffer.from('second'));
      expect((await collect(await storage.read(k))).toString()).toBe('second');
      const empty = key();
      await storage.put(empty, Buffer.alloc(0));
      expect(await storage.size(empty)).toBe(0);
      expect((await storage.readHead(empty, 64)).length).toBe(0);
    });

    it('answers BlobNotFoundError for an absent key, and removes idempotently', async () => {
      const k = key();
      await expect(storage.size(k)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(storage.read(k)).rejects.toBeInstanceOf(BlobNotFoundError);
      await storage.put(k, Buffer.from('bye'));
      await storage.remove(k);
      await expect(storage.size(k)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(storage.remove(k)).resolves.toBeUndefined();
    });

    it('presigns a GET URL that serves the object and its ranges, or has none (local)', async () => {
      const k = key();
      const data = randomBytes(5000);
      await storage.put(k, data, 'audio/ogg');
      const url = await storage.presignedGetUrl(k, { expiresInSeconds: 60, contentType: 'audio/ogg' });
      if (storage instanceof LocalBlobStorage) {
        expect(url).toBeNull();
        return;
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      const whole = await fetch(url!);
      expect(whole.status).toBe(200);
      expect(whole.headers.get('content-type')).toBe('audio/ogg');
      expect(Buffer.from(await whole.arrayBuffer()).equals(data)).toBe(true);
      const part = await fetch(url!, { headers: { range: 'bytes=10-19' } });
      expect(part.status).toBe(206);
      expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(10, 20))).toBe(true);
      // s3rver does not verify V4 signatures, so the refusal of a bad one is AWS's (and MinIO's) to prove;
      // here: the URL is signed, and for the asked lifetime.
      const signed = new URL(url!);
      expect(signed.searchParams.get('X-Amz-Expires')).toBe('60');
      expect(signed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    });
  });
}

contract('local', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pigeon-storage-local-'));
  return { storage: new LocalBlobStorage(root), teardown: async () => rmSync(root, { recursive: true, force: true }) };
});

contract('s3 (s3rver on loopback)', async () => {
  const server: TestS3Server = await startS3Server();
  const storage = new S3BlobStorage({
    bucket: server.bucket,
    region: 'us-east-1',
    endpoint: server.endpoint,
    accessKeyId: server.env.S3_ACCESS_KEY_ID,
    secretAccessKey: server.env.S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  });
  return {
    storage,
    teardown: async () => {
      storage.destroy();
      await server.stop();
    },
  };
});

describe('local storage driver keys', () => {
  it('refuses a key that escapes the root', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pigeon-storage-root-'));
    try {
      await expect(new LocalBlobStorage(root).put('../outside', Buffer.from('x'))).rejects.toThrow(/escapes/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
