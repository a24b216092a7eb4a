import { randomBytes } from 'node:crypto';
import * as parser from 'socket.io-parser';
import { RawJson } from '../common/raw-json';

// A placeholder no client string can forge: the nonce never leaves the process.
const NONCE = randomBytes(16).toString('hex');
const PLACEHOLDER = `\u0000pigeon-raw-${NONCE}:`;
const PLACEHOLDER_JSON = new RegExp(`"\\\\u0000pigeon-raw-${NONCE}:(\\d+)"`, 'g');

function isBinary(value: object): boolean {
  return (
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (typeof Blob === 'function' && value instanceof Blob) ||
    (typeof File === 'function' && value instanceof File)
  );
}

/** socket.io-parser's hasBinary, with RawJson as a leaf (its own would call toJSON on everything). */
function hasBinary(value: unknown, viaToJson = false): boolean {
  if (!value || typeof value !== 'object' || value instanceof RawJson) return false;
  if (Array.isArray(value)) return value.some((item) => hasBinary(item));
  if (isBinary(value)) return true;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function' && !viaToJson) return hasBinary((toJSON as () => unknown).call(value), true);
  for (const key in value) {
    if (Object.prototype.hasOwnProperty.call(value, key) && hasBinary((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

/** The default encoder, but a RawJson's text is spliced into the packet instead of being re-encoded. */
class RawJsonEncoder extends parser.Encoder {
  private pending: string[] | null = null;

  constructor() {
    super((_key: string, value: unknown) => {
      if (!(value instanceof RawJson) || !this.pending) return value;
      return PLACEHOLDER + (this.pending.push(value.text) - 1);
    });
  }

  override encode(packet: parser.Packet): ReturnType<parser.Encoder['encode']> {
    const textual = packet.type === parser.PacketType.EVENT || packet.type === parser.PacketType.ACK;
    if (!textual || hasBinary(packet.data)) return super.encode(withParsedRaw(packet));
    this.pending = [];
    try {
      // encodeAsString is the default's own string form (private in its typings, public in its code).
      const text = (this as unknown as { encodeAsString(p: parser.Packet): string }).encodeAsString(packet);
      const pending = this.pending;
      return [pending.length === 0 ? text : text.replace(PLACEHOLDER_JSON, (_match, index: string) => pending[Number(index)])];
    } finally {
      this.pending = null;
    }
  }
}

/** A binary packet (rare: never one with RawJson today) goes the default way, with values parsed. */
function withParsedRaw(packet: parser.Packet): parser.Packet {
  const revive = (value: unknown): unknown => {
    if (value instanceof RawJson) return value.parsed;
    if (Array.isArray(value)) return value.map(revive);
    if (value && typeof value === 'object' && !isBinary(value) && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
    }
    return value;
  };
  return { ...packet, data: revive(packet.data) };
}

/** For the Socket.IO server's `parser` option: the default protocol and decoder, this encoder. */
export const rawJsonParser = { protocol: parser.protocol, PacketType: parser.PacketType, Encoder: RawJsonEncoder, Decoder: parser.Decoder };
