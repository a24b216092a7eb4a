import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, BlobStorage, ByteRange } from './blob-storage';

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException)?.code === 'ENOENT';

/** STORAGE_DRIVER=local: files under VOICE_STORAGE_DIR, on a disk (or volume) every node and the worker mount. */
export class LocalBlobStorage extends BlobStorage {
  private readonly root: string;

  constructor(root: string) {
    super();
    this.root = resolve(root);
  }

  async put(key: string, data: Buffer | Readable): Promise<void> {
    await this.replace(key, async (temporary) => {
      if (Buffer.isBuffer(data)) {
        const file = await open(temporary, 'w');
        try {
          await file.writeFile(data);
        } finally {
          await file.close();
        }
      } else {
        await pipeline(data, createWriteStream(temporary));
      }
    });
  }

  async putFile(key: string, path: string): Promise<void> {
    await this.replace(key, (temporary) => copyFile(path, temporary));
  }

  async size(key: string): Promise<number> {
    try {
      return (await stat(this.path(key))).size;
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    // Opened before the stream is handed out, so a missing file is an error here, not mid-response.
    const file = await open(this.path(key), 'r').catch((error: unknown) => {
      throw isMissing(error) ? new BlobNotFoundError(key) : error;
    });
    return file.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async presignedGetUrl(): Promise<string | null> {
    return null;
  }

  /** Write then rename: readers never see a half-written file. */
  private async replace(key: string, write: (temporary: string) => Promise<void>): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temporary = `${target}.${randomUUID()}.tmp`;
    try {
      await write(temporary);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  private path(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`Storage key escapes the root: ${key}`);
    return path;
  }
}
