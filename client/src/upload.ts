/**
 * multipart/form-data uploads with progress, with no Node-only import: Node (and any fetch with
 * streamed request bodies) gets a counted ReadableStream body; a browser with a Blob gets
 * XMLHttpRequest, the one browser API that reports upload progress over HTTP/1.1 too.
 */

/** A Blob or File, bytes (a Node Buffer is a Uint8Array), or a stream (a Node Readable or any async iterable of chunks). */
export type UploadSource = Blob | ArrayBuffer | Uint8Array | AsyncIterable<Uint8Array | string>;

export interface MultipartRequest {
  url: string;
  token: string;
  fields: Record<string, string>;
  file: UploadSource;
  filename: string;
  mimeType?: string;
  onProgress?: (sent: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;

/** The part of XMLHttpRequest used here, typed locally so the SDK compiles without the DOM lib too. */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: FormData): void;
  abort(): void;
  upload: { onprogress: ((event: { loaded: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  status: number;
  responseText: string;
}
type XhrConstructor = new () => Xhr;

function browserXhr(): XhrConstructor | undefined {
  return (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
}
const encoder = new TextEncoder();

export async function sendMultipart(request: MultipartRequest, fetchImpl: typeof fetch, customFetch: boolean): Promise<Response> {
  const Xhr = customFetch ? undefined : browserXhr();
  if (Xhr && isBlob(request.file)) return sendWithXhr(Xhr, request, request.file);
  const boundary = `----pigeon${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const type = request.mimeType ?? (isBlob(request.file) && request.file.type ? request.file.type : 'application/octet-stream');
  let head = '';
  for (const [name, value] of Object.entries(request.fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(request.filename)}"\r\nContent-Type: ${type}\r\n\r\n`;
  const headBytes = encoder.encode(head);
  const tailBytes = encoder.encode(`\r\n--${boundary}--\r\n`);
  const total = sizeOf(request.file);
  const chunks = fileChunks(request.file)[Symbol.asyncIterator]();
  let sent = 0;
  let stage: 'head' | 'file' | 'tail' | 'done' = 'head';
  request.onProgress?.(0, total);
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'head') {
        stage = 'file';
        controller.enqueue(headBytes);
        return;
      }
      if (stage === 'file') {
        const next = await chunks.next();
        if (!next.done) {
          // Counted as fetch pulls it, so progress follows what the connection accepted.
          sent += next.value.byteLength;
          controller.enqueue(next.value);
          request.onProgress?.(sent, total);
          return;
        }
        stage = 'tail';
      }
      if (stage === 'tail') {
        stage = 'done';
        controller.enqueue(tailBytes);
        return;
      }
      controller.close();
    },
    async cancel() {
      await chunks.return?.();
    },
  });
  const headers: Record<string, string> = { authorization: `Bearer ${request.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` };
  if (total !== undefined) headers['content-length'] = String(headBytes.byteLength + total + tailBytes.byteLength);
  // `duplex: 'half'` is required by fetch for a streamed request body.
  const init = { method: 'POST', headers, body, signal: request.signal, duplex: 'half' } as RequestInit;
  return fetchImpl(request.url, init);
}

function sendWithXhr(Xhr: XhrConstructor, request: MultipartRequest, file: Blob): Promise<Response> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(request.fields)) form.append(name, value);
    form.append('file', file, request.filename);
    const xhr = new Xhr();
    xhr.open('POST', request.url);
    xhr.setRequestHeader('authorization', `Bearer ${request.token}`);
    xhr.upload.onprogress = (event) => request.onProgress?.(Math.min(event.loaded, file.size), file.size);
    xhr.onload = () => resolve(new Response(xhr.responseText || null, { status: xhr.status, headers: { 'content-type': 'application/json' } }));
    xhr.onerror = () => reject(new TypeError('network error during upload'));
    xhr.onabort = () => reject(Object.assign(new Error('upload aborted'), { name: 'AbortError' }));
    request.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    request.onProgress?.(0, file.size);
    xhr.send(form);
  });
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

function sizeOf(file: UploadSource): number | undefined {
  if (isBlob(file)) return file.size;
  if (file instanceof ArrayBuffer || ArrayBuffer.isView(file)) return file.byteLength;
  return undefined;
}

async function* fileChunks(file: UploadSource): AsyncIterable<Uint8Array> {
  if (isBlob(file)) {
    const reader = file.stream().getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield* slices(value);
    }
  }
  if (file instanceof ArrayBuffer) return yield* slices(new Uint8Array(file));
  if (ArrayBuffer.isView(file)) return yield* slices(new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
  for await (const chunk of file) yield* slices(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
}

/** Bounded chunks, so progress moves in steps of at most 64 KiB. */
function* slices(bytes: Uint8Array): Iterable<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += CHUNK) yield bytes.subarray(offset, offset + CHUNK);
}

function quote(value: string): string {
  return value.replace(/["\r\n\\]/g, '_');
}
