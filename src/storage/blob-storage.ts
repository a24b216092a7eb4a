import type { Readable } from 'node:stream';

/** An inclusive byte span, as HTTP Range has it. */
export interface ByteRange {
  start: number;
  end: number;
}

/** The object does not exist (a key that was never written, or one removed since). */
export class BlobNotFoundError extends Error {
  constructor(key: string) {
    super(`No stored object ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

/**
 * Where Pigeon keeps files: voice originals, renditions and assembled live recordings. Keys are made by
 * the server (`<workspace>/<voice>/<name>`), never by a client. Every API node and the worker must see
 * the same storage: one disk (volume) with `local`, or one bucket with `s3`.
 */
export abstract class BlobStorage {
  /** Stores the bytes under `key`; readers see the old object or the whole new one, never a part. */
  abstract put(key: string, data: Buffer | Readable, contentType?: string): Promise<void>;

  /** Stores a finished local file (the worker's ffmpeg output). */
  abstract putFile(key: string, path: string, contentType?: string): Promise<void>;

  /** Size in bytes; BlobNotFoundError when absent. */
  abstract size(key: string): Promise<number>;

  /** Bytes `start..end` inclusive, or the whole object; BlobNotFoundError when absent. */
  abstract read(key: string, range?: ByteRange): Promise<Readable>;

  /** Removes the object; removing an absent key is not an error. */
  abstract remove(key: string): Promise<void>;

  /**
   * A URL a client may GET directly for a while (Range included), or null when the driver has none
   * (local disk: the API streams the bytes itself).
   */
  abstract presignedGetUrl(key: string, options: { expiresInSeconds: number; contentType?: string }): Promise<string | null>;

  /** The first `bytes` bytes (fewer if the object is smaller): enough to sniff a container. */
  async readHead(key: string, bytes: number): Promise<Buffer> {
    const size = await this.size(key);
    if (size === 0) return Buffer.alloc(0);
    const stream = await this.read(key, { start: 0, end: Math.min(size, bytes) - 1 });
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }
}
