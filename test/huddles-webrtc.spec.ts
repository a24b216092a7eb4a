import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { Api } from './support/api';
import { Coturn, startCoturn, turnserverPath } from './support/coturn';
import { addMember, createWorkspace, rawSocket, ReadySocket, waitFor } from './support/fixtures';
import { startServer, TestServer } from './support/server';

type Ack = { ok: boolean; data?: any; error?: { code: string } };
type IceServer = { urls: string[]; username?: string; credential?: string };

const haveCoturn = turnserverPath() !== null;
if (!haveCoturn) {
  console.warn('huddles-webrtc: skipped, turnserver (Debian package coturn) is not installed: apt-get install -y coturn');
}
const describeWithCoturn = haveCoturn ? describe : describe.skip;

/** Opus' payload type in werift's default codecs; the bytes are ours, so the receiver can recognise them. */
const OPUS_PT = 111;
const marker = (peer: string, n: number) => Buffer.from(`pigeon-rtp:${peer}:${n}:`.padEnd(60, '.'));

/**
 * One headless participant: a socket on one API node and a werift peer connection that only uses the
 * TURN relay (iceTransportPolicy relay), negotiated entirely through Pigeon's huddle:signal relay.
 */
class Peer {
  pc!: RTCPeerConnection;
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  readonly received: Buffer[] = [];
  iceServers: IceServer[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** Signals are applied in arrival order: a candidate must not overtake the offer it belongs to. */
  private signals: Promise<void> = Promise.resolve();
  readonly errors: unknown[] = [];

  constructor(
    readonly name: string,
    readonly socket: ReadySocket,
    readonly channelId: string,
  ) {}

  async join(): Promise<{ socketId: string }[]> {
    const ack: Ack = await this.socket.timeout(10_000).emitWithAck('huddle:join', { channelId: this.channelId });
    if (!ack.ok) throw new Error(`join: ${JSON.stringify(ack.error)}`);
    this.iceServers = ack.data.iceServers;
    this.pc = new RTCPeerConnection({ iceServers: this.iceServers, iceTransportPolicy: 'relay' });
    this.pc.addTransceiver(this.track, { direction: 'sendrecv' });
    this.pc.ontrack = ({ track }) => track.onReceiveRtp.subscribe((rtp) => this.received.push(rtp.payload));
    this.socket.on('huddle:signal', (message: { fromSocketId: string; signal: any }) => {
      this.signals = this.signals.then(() => this.onSignal(message.fromSocketId, message.signal)).catch((error: unknown) => {
        this.errors.push(error);
      });
    });
    return (ack.data.participants as { socketId: string }[]).filter((p) => p.socketId !== this.socket.id);
  }

  /** The joiner offers to those already there (the contract's rule, so two offers never cross). */
  async offerTo(socketId: string): Promise<void> {
    this.trickleTo(socketId);
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await this.send(socketId, { type: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  private async onSignal(from: string, signal: any): Promise<void> {
    if (signal.type === 'offer') {
      this.trickleTo(from);
      await this.pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp });
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      await this.send(from, { type: 'answer', sdp: this.pc.localDescription!.sdp });
    } else if (signal.type === 'answer') {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
    } else if (signal.candidate) {
      await this.pc.addIceCandidate(signal.candidate);
    }
  }

  private trickleTo(socketId: string): void {
    this.pc.onicecandidate = ({ candidate }) => {
      const init = candidate ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null } : null;
      void this.send(socketId, { type: 'candidate', candidate: init });
    };
  }

  private async send(toSocketId: string, signal: object): Promise<void> {
    const ack: Ack = await this.socket.timeout(10_000).emitWithAck('huddle:signal', { channelId: this.channelId, toSocketId, signal });
    if (!ack.ok) throw new Error(`signal ${JSON.stringify(signal).slice(0, 40)}: ${JSON.stringify(ack.error)}`);
  }

  /** 20 ms Opus-sized packets, as a microphone would send. */
  startAudio(): void {
    let n = 0;
    this.timer = setInterval(() => {
      const header = new RtpHeader({ payloadType: OPUS_PT, sequenceNumber: n & 0xffff, timestamp: n * 960, marker: n === 0, ssrc: 0 });
      this.track.writeRtp(new RtpPacket(header, marker(this.name, n)));
      n++;
    }, 20);
  }

  /** The nominated pair's local and remote candidates, from getStats. */
  async selectedPair(): Promise<{ local: any; remote: any } | null> {
    const stats = [...(await this.pc.getStats()).values()] as any[];
    const pair = stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    if (!pair) return null;
    return { local: stats.find((s) => s.id === pair.localCandidateId), remote: stats.find((s) => s.id === pair.remoteCandidateId) };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.pc?.close();
    this.socket.close();
  }
}

describeWithCoturn('huddles: WebRTC audio through coturn, signaled across two API nodes', () => {
  let turn: Coturn;
  let nodes: TestServer[];
  const peers: Peer[] = [];

  beforeAll(async () => {
    turn = await startCoturn();
    const env = { TURN_URLS: turn.url, TURN_SECRET: turn.secret, STUN_URLS: '' };
    nodes = await Promise.all([startServer(env), startServer(env)]);
  });
  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await turn?.stop();
  });

  it('two headless peers get TURN credentials from Pigeon and exchange RTP over relay candidates', async () => {
    const api = new Api(nodes[0].url);
    const team = await createWorkspace(api);
    const bob = await addMember(api, team, 'bob');
    const alice = new Peer('alice', await rawSocket(nodes[0].url, team.owner.accessToken), team.generalId);
    const bobPeer = new Peer('bob', await rawSocket(nodes[1].url, bob.accessToken), team.generalId);
    peers.push(alice, bobPeer);

    expect(await alice.join()).toEqual([]);
    const others = await bobPeer.join();
    expect(others.map((p) => p.socketId)).toEqual([alice.socket.id]);
    expect(bobPeer.iceServers).toEqual([{ urls: [turn.url], username: expect.stringMatching(new RegExp(`^\\d+:${bob.id}$`)), credential: expect.any(String) }]);

    await bobPeer.offerTo(alice.socket.id!);
    await waitFor(() => alice.pc.connectionState === 'connected' && bobPeer.pc.connectionState === 'connected', 30_000, 'both peers connected');
    alice.startAudio();
    bobPeer.startAudio();
    await waitFor(() => alice.received.length >= 50 && bobPeer.received.length >= 50, 20_000, '50 RTP packets each way');
    expect([...alice.errors, ...bobPeer.errors]).toEqual([]);

    // The audio is each other's packets, not something else on the port.
    expect(alice.received.slice(0, 50).every((p) => p.toString().startsWith('pigeon-rtp:bob:'))).toBe(true);
    expect(bobPeer.received.slice(0, 50).every((p) => p.toString().startsWith('pigeon-rtp:alice:'))).toBe(true);

    // The selected candidates are TURN relays allocated by this coturn (its relay range on loopback).
    for (const peer of [alice, bobPeer]) {
      const pair = await peer.selectedPair();
      expect(pair).not.toBeNull();
      for (const candidate of [pair!.local, pair!.remote]) {
        expect({ peer: peer.name, type: candidate.candidateType, address: candidate.address }).toEqual({ peer: peer.name, type: 'relay', address: '127.0.0.1' });
        expect(candidate.port).toBeGreaterThanOrEqual(turn.relayPorts[0]);
        expect(candidate.port).toBeLessThanOrEqual(turn.relayPorts[1]);
      }
    }
    // coturn itself authenticated both allocations with the REST credentials Pigeon handed out.
    for (const userId of [team.owner.id, bob.id]) {
      expect(turn.output()).toMatch(new RegExp(`user <\\d+:${userId}>: incoming packet ALLOCATE processed, success`));
    }
  });

  it('coturn refuses a credential not made with its secret, so relay-only ICE cannot connect', async () => {
    const api = new Api(nodes[0].url);
    const team = await createWorkspace(api);
    const socket = await rawSocket(nodes[0].url, team.owner.accessToken);
    const ack: Ack = await socket.timeout(10_000).emitWithAck('huddle:join', { channelId: team.generalId });
    socket.close();
    const [server] = ack.data.iceServers as IceServer[];
    const forged = { ...server, credential: Buffer.from('not-the-hmac-of-the-username').toString('base64') };
    const pc = new RTCPeerConnection({ iceServers: [forged], iceTransportPolicy: 'relay' });
    const candidates: string[] = [];
    pc.onicecandidate = ({ candidate }) => candidate && candidates.push(candidate.candidate);
    pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    await waitFor(() => pc.iceGatheringState === 'complete', 20_000, 'gathering done');
    await pc.close();
    expect(candidates.filter((c) => c.includes('typ relay'))).toEqual([]);
    expect(turn.output()).toMatch(new RegExp(`user <\\d+:${team.owner.id}>: incoming packet message processed, error 401`));
  });
});
