import * as parser from 'socket.io-parser';
import { RawJson } from '../common/raw-json';
import { rawJsonParser } from './raw-json-parser';

function decode(encoded: ReturnType<parser.Encoder['encode']>): parser.Packet {
  const decoder = new parser.Decoder();
  let packet: parser.Packet | undefined;
  decoder.on('decoded', (p: parser.Packet) => (packet = p));
  for (const part of encoded) decoder.add(part as string);
  return packet!;
}

describe('rawJsonParser', () => {
  const encoder = new rawJsonParser.Encoder();
  const stored = { id: 'm1', body: 'héllo "quoted" \\ 🐦', reactions: [{ emoji: '👍', count: 2 }], voice: null };
  // Postgres' jsonb text: spaces after separators, keys in its own order.
  const storedText = '{"id": "m1", "body": "héllo \\"quoted\\" \\\\ 🐦", "voice": null, "reactions": [{"count": 2, "emoji": "👍"}]}';

  it('splices RawJson text into an ack and decodes to the same value as the parsed data', () => {
    const data = [{ ok: true, data: { channels: [{ channelId: 'c', events: [{ seq: 1, data: new RawJson(storedText) }], hasMore: false }] } }];
    const encoded = encoder.encode({ type: parser.PacketType.ACK, nsp: '/rt', id: 7, data });
    expect(encoded).toHaveLength(1);
    expect(encoded[0]).toContain(storedText);
    const packet = decode(encoded);
    expect(packet).toMatchObject({ type: parser.PacketType.ACK, nsp: '/rt', id: 7 });
    expect(packet.data).toEqual([{ ok: true, data: { channels: [{ channelId: 'c', events: [{ seq: 1, data: stored }], hasMore: false }] } }]);
  });

  it('encodes packets without RawJson exactly as the default encoder does', () => {
    const plain = new parser.Encoder();
    const packets: parser.Packet[] = [
      { type: parser.PacketType.EVENT, nsp: '/rt', data: ['event', { seq: 3, at: new Date(0), nested: [{ a: 1 }, null, 'x'] }] },
      { type: parser.PacketType.ACK, nsp: '/', id: 1, data: [{ ok: false, error: { code: 'VALIDATION', message: 'm' } }] },
      { type: parser.PacketType.CONNECT, nsp: '/rt', data: { sid: 'abc' } },
      { type: parser.PacketType.EVENT, nsp: '/rt', data: ['blob', Buffer.from([1, 2, 3])] },
    ];
    for (const packet of packets) expect(encoder.encode(packet)).toEqual(plain.encode(packet));
  });

  it('leaves a client string that imitates the placeholder as it is', () => {
    const forged = '\u0000pigeon-raw-00000000000000000000000000000000:0';
    const data = [{ ok: true, data: { body: forged, raw: new RawJson('{"x": 1}') } }];
    const packet = decode(encoder.encode({ type: parser.PacketType.ACK, nsp: '/rt', id: 2, data }));
    expect(packet.data).toEqual([{ ok: true, data: { body: forged, raw: { x: 1 } } }]);
  });

  it('sends a packet with binary and RawJson the default way, with the RawJson parsed', () => {
    const data = ['clip', { audio: Buffer.from([9]), meta: new RawJson('{"ms": 40}') }];
    const encoded = encoder.encode({ type: parser.PacketType.EVENT, nsp: '/rt', data });
    expect(encoded.length).toBe(2);
    const packet = decode(encoded);
    expect(packet.data[1].meta).toEqual({ ms: 40 });
    expect(Buffer.from(packet.data[1].audio as ArrayBuffer)).toEqual(Buffer.from([9]));
  });
});
