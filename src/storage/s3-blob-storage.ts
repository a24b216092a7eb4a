import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createReadStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { BlobNotFoundError, BlobStorage, ByteRange } from './blob-storage';

export interface S3BlobStorageOptions {
  bucket: string;
  region: string;
  /** Unset: AWS S3 itself. Set for MinIO, Ceph, R2, a test server... */
  endpoint?: string;
  /** Unset: the SDK's default chain (environment, profile, instance or task role). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `bucket` in the path instead of the host name: MinIO and most self-hosted servers want it. */
  forcePathStyle?: boolean;
}

/** Multipart part size: S3's minimum (5 MiB); a voice message is at most a few parts. */
const PART_SIZE = 5 * 1024 * 1024;

const isMissing = (error: unknown) =>
  error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata?.httpStatusCode === 404);

/** STORAGE_DRIVER=s3: one bucket on any S3-compatible service (AWS S3, MinIO...), shared by every node. */
export class S3BlobStorage extends BlobStorage {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3BlobStorageOptions) {
    super();
    this.bucket = options.bucket;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      // Checksums only where S3 requires them: S3-compatible servers do not all accept the SDK's
      // default trailing checksums (aws-chunked bodies).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, data: Buffer | Readable, contentType?: string): Promise<void> {
    // lib-storage sends one PutObject for a small body and a multipart upload for a large one; either
    // way the object appears whole, when the upload completes (a failed one is aborted).
    await new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: data, ContentType: contentType },
      partSize: PART_SIZE,
      queueSize: 2,
      leavePartsOnError: false,
    }).done();
  }

  async putFile(key: string, path: string, contentType?: string): Promise<void> {
    await this.put(key, createReadStream(path), contentType);
  }

  async size(key: string): Promise<number> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      // In Node the body is an http.IncomingMessage (a Readable).
      const body = object.Body as Readable;
      return range ? exactRange(body, range, object.ContentRange) : body;
    } catch (error) {
      if (isMissing(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    // DeleteObject of an absent key succeeds on S3 and its clones.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async presignedGetUrl(key: string, options: { expiresInSeconds: number; contentType?: string }): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentType: options.contentType }),
      { expiresIn: options.expiresInSeconds },
    );
  }

  /** Closes the SDK's sockets (tests and shutdown). */
  destroy(): void {
    this.client.destroy();
  }
}

/**
 * HTTP lets a server ignore a Range or answer a wider one (some S3 clones do, e.g. for `bytes=0-0`);
 * the caller has already promised exactly `range` to its client, so the bytes are cut to it here.
 */
function exactRange(body: Readable, range: ByteRange, contentRange: string | undefined): Readable {
  const served = /^bytes (\d+)-(\d+)\//.exec(contentRange ?? '');
  const servedStart = served ? Number(served[1]) : 0;
  if (served && servedStart === range.start && Number(served[2]) === range.end) return body;
  let skip = range.start - servedStart;
  let left = range.end - range.start + 1;
  const cut = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let part = chunk;
      if (skip > 0) {
        const dropped = Math.min(skip, part.length);
        part = part.subarray(dropped);
        skip -= dropped;
      }
      if (left > 0 && part.length > 0) {
        const kept = part.subarray(0, left);
        left -= kept.length;
        this.push(kept);
      }
      if (left === 0) {
        body.destroy();
        this.push(null);
      }
      done();
    },
  });
  body.on('error', (error) => cut.destroy(error));
  return body.pipe(cut);
}
