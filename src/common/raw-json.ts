/**
 * JSON text read from Postgres that goes into a socket packet as it is: no JSON.parse of the stored
 * value and no JSON.stringify of it again (a 500-event `sync` spent most of its time on both).
 * Only the socket encoder (src/realtime/raw-json-parser.ts) understands it; it has no toJSON on purpose (JSON.stringify would
 * call it before any replacer, and socket.io's binary check calls it too), so anything else that
 * serializes a value holding one must turn it back into a value first (`parsed`).
 */
export class RawJson {
  constructor(readonly text: string) {}

  get parsed(): unknown {
    return JSON.parse(this.text);
  }
}
