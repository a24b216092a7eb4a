/**
 * A channel's huddle in the browser: a WebRTC mesh (one RTCPeerConnection per other participant),
 * signaled through Pigeon's `huddle:*` socket events. The joiner offers to everyone already there;
 * the others answer. Media goes peer to peer or through the TURN server from the join ack.
 */
import type { Socket } from 'socket.io-client';
import type { PigeonClient } from './pigeon';

export interface HuddleParticipant {
  userId: string;
  socketId: string;
  muted: boolean;
  speaking: boolean;
}

export interface HuddleView {
  /** This tab is in the huddle. */
  joined: boolean;
  busy: boolean;
  muted: boolean;
  participants: HuddleParticipant[];
  error: string | null;
}

interface HuddleEvent {
  channelId: string;
  huddleId: string;
  rev: number;
  participants: HuddleParticipant[];
}

type Signal = { type: 'offer' | 'answer'; sdp: string } | { type: 'candidate'; candidate: RTCIceCandidateInit | null };

interface Peer {
  pc: RTCPeerConnection;
  audio: HTMLAudioElement;
  /** Signals of this peer applied one at a time: a candidate must not overtake its description. */
  chain: Promise<void>;
}

/** Figures the e2e suite reads: per remote socket, bytes of audio received and the ICE state. */
export const huddleMetrics: { peers: Record<string, { state: string; audioBytesReceived: number }> } = { peers: {} };
(window as unknown as { pigeonHuddle: typeof huddleMetrics }).pigeonHuddle = huddleMetrics;

const SPEAKING_LEVEL = 0.02;
const SPEAKING_POLL_MS = 150;

export class HuddleCall {
  private view: HuddleView = { joined: false, busy: false, muted: false, participants: [], error: null };
  private readonly peers = new Map<string, Peer>();
  private iceServers: RTCIceServer[] = [];
  private stream: MediaStream | null = null;
  private socket: Socket | undefined;
  private huddle: { id: string; rev: number } | null = null;
  private audioContext: AudioContext | null = null;
  private speakingTimer: ReturnType<typeof setInterval> | undefined;
  private speaking = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly client: PigeonClient,
    readonly channelId: string,
    private readonly audioContainer: HTMLElement,
  ) {
    client.on('ready', this.onReady);
    if (client.isReady) this.onReady();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): HuddleView => this.view;

  async join(): Promise<void> {
    this.update({ busy: true, error: null });
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
      const ack = await this.client.request<{ huddleId: string; participants: HuddleParticipant[]; iceServers: RTCIceServer[] }>('huddle:join', { channelId: this.channelId });
      this.iceServers = ack.iceServers;
      this.huddle = { id: ack.huddleId, rev: 0 };
      this.update({ joined: true, busy: false, muted: false, participants: ack.participants });
      const me = this.client.socket?.id;
      for (const p of ack.participants) if (p.socketId !== me) void this.offer(p.socketId);
      this.watchSpeaking();
    } catch (error) {
      this.teardown();
      this.update({ joined: false, busy: false, error: describe(error) });
    }
  }

  async leave(): Promise<void> {
    this.update({ busy: true });
    await this.client.request('huddle:leave', { channelId: this.channelId }).catch(() => undefined);
    this.teardown();
    await this.refresh();
    this.update({ joined: false, busy: false, muted: false });
  }

  async setMuted(muted: boolean): Promise<void> {
    this.stream?.getAudioTracks().forEach((track) => (track.enabled = !muted));
    this.update({ muted });
    await this.client.request('huddle:mute', { channelId: this.channelId, muted }).catch((error: unknown) => this.update({ error: describe(error) }));
  }

  dispose(): void {
    if (this.view.joined) void this.client.request('huddle:leave', { channelId: this.channelId }).catch(() => undefined);
    this.teardown();
    this.client.off('ready', this.onReady);
    this.detach();
    this.listeners.clear();
  }

  // ---------------------------------------------------------------- socket

  /** Every (re)connect: listen on the current socket and read the huddle as it is now. */
  private onReady = (): void => {
    if (this.client.socket !== this.socket) {
      this.detach();
      this.socket = this.client.socket;
      this.socket?.on('huddle', this.onHuddle);
      this.socket?.on('huddle:signal', this.onSignal);
    }
    // A reconnect is a new socket id: the old participant is gone, so is this tab's call.
    if (this.view.joined) {
      this.teardown();
      this.update({ joined: false, muted: false });
    }
    void this.refresh();
  };

  private detach(): void {
    this.socket?.off('huddle', this.onHuddle);
    this.socket?.off('huddle:signal', this.onSignal);
    this.socket = undefined;
  }

  private async refresh(): Promise<void> {
    try {
      const state = await this.client.request<{ huddleId: string | null; rev: number; participants: HuddleParticipant[] }>('huddle:get', { channelId: this.channelId });
      this.huddle = state.huddleId ? { id: state.huddleId, rev: state.rev } : null;
      this.update({ participants: state.participants });
    } catch {
      /* not a member (yet): no huddle shown */
    }
  }

  private onHuddle = (event: HuddleEvent): void => {
    if (event.channelId !== this.channelId) return;
    // Events from two nodes may cross: within one huddle keep the newest revision.
    if (this.huddle?.id === event.huddleId && event.rev < this.huddle.rev) return;
    this.huddle = event.participants.length > 0 ? { id: event.huddleId, rev: event.rev } : null;
    const present = new Set(event.participants.map((p) => p.socketId));
    for (const socketId of [...this.peers.keys()]) if (!present.has(socketId)) this.closePeer(socketId);
    const me = this.client.socket?.id;
    if (this.view.joined && me && !present.has(me)) {
      // Dropped by the server (removed from the channel, or our node lost its lease).
      this.teardown();
      this.update({ joined: false, muted: false, participants: event.participants, error: 'You left the huddle.' });
      return;
    }
    this.update({ participants: event.participants });
  };

  private onSignal = (message: { channelId: string; fromSocketId: string; signal: Signal }): void => {
    if (message.channelId !== this.channelId || !this.view.joined) return;
    const peer = this.peer(message.fromSocketId);
    peer.chain = peer.chain.then(() => this.apply(message.fromSocketId, peer, message.signal)).catch(() => undefined);
  };

  // ---------------------------------------------------------------- WebRTC

  private async offer(socketId: string): Promise<void> {
    const peer = this.peer(socketId);
    peer.chain = peer.chain.then(async () => {
      await peer.pc.setLocalDescription(await peer.pc.createOffer());
      await this.signal(socketId, { type: 'offer', sdp: peer.pc.localDescription!.sdp });
    });
    await peer.chain.catch(() => undefined);
  }

  private async apply(socketId: string, peer: Peer, signal: Signal): Promise<void> {
    if (signal.type === 'offer') {
      await peer.pc.setRemoteDescription(signal);
      await peer.pc.setLocalDescription(await peer.pc.createAnswer());
      await this.signal(socketId, { type: 'answer', sdp: peer.pc.localDescription!.sdp });
    } else if (signal.type === 'answer') {
      await peer.pc.setRemoteDescription(signal);
    } else if (signal.type === 'candidate' && signal.candidate) {
      await peer.pc.addIceCandidate(signal.candidate);
    }
  }

  private peer(socketId: string): Peer {
    const existing = this.peers.get(socketId);
    if (existing) return existing;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    for (const track of this.stream?.getAudioTracks() ?? []) pc.addTrack(track, this.stream!);
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.huddlePeer = socketId;
    this.audioContainer.appendChild(audio);
    pc.ontrack = ({ streams }) => {
      audio.srcObject = streams[0] ?? null;
    };
    pc.onicecandidate = ({ candidate }) => void this.signal(socketId, { type: 'candidate', candidate: candidate ? candidate.toJSON() : null });
    const metrics = (huddleMetrics.peers[socketId] = { state: 'new', audioBytesReceived: 0 });
    pc.onconnectionstatechange = () => {
      metrics.state = pc.connectionState;
    };
    const peer: Peer = { pc, audio, chain: Promise.resolve() };
    this.peers.set(socketId, peer);
    return peer;
  }

  private async signal(toSocketId: string, signal: Signal): Promise<void> {
    await this.client.request('huddle:signal', { channelId: this.channelId, toSocketId, signal }).catch(() => undefined);
  }

  private closePeer(socketId: string): void {
    const peer = this.peers.get(socketId);
    if (!peer) return;
    peer.pc.close();
    peer.audio.srcObject = null;
    peer.audio.remove();
    this.peers.delete(socketId);
    delete huddleMetrics.peers[socketId];
  }

  /** Our own voice activity, from the microphone's level: `huddle:speaking` on each change. */
  private watchSpeaking(): void {
    if (!this.stream || typeof AudioContext === 'undefined') return;
    this.audioContext = new AudioContext();
    const analyser = this.audioContext.createAnalyser();
    analyser.fftSize = 512;
    this.audioContext.createMediaStreamSource(this.stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    this.speakingTimer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      const level = Math.sqrt(samples.reduce((sum, x) => sum + x * x, 0) / samples.length);
      const speaking = !this.view.muted && level > SPEAKING_LEVEL;
      if (speaking !== this.speaking) {
        this.speaking = speaking;
        void this.client.request('huddle:speaking', { channelId: this.channelId, speaking }).catch(() => undefined);
      }
      void this.countBytes();
    }, SPEAKING_POLL_MS);
  }

  private async countBytes(): Promise<void> {
    for (const [socketId, peer] of this.peers) {
      const stats = await peer.pc.getStats();
      stats.forEach((report: { type: string; kind?: string; bytesReceived?: number }) => {
        const metrics = huddleMetrics.peers[socketId];
        if (report.type === 'inbound-rtp' && report.kind === 'audio' && metrics) metrics.audioBytesReceived = report.bytesReceived ?? 0;
      });
    }
  }

  private teardown(): void {
    for (const socketId of [...this.peers.keys()]) this.closePeer(socketId);
    clearInterval(this.speakingTimer);
    void this.audioContext?.close().catch(() => undefined);
    this.audioContext = null;
    this.speaking = false;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }

  private update(patch: Partial<HuddleView>): void {
    this.view = { ...this.view, ...patch };
    this.listeners.forEach((listener) => listener());
  }
}

function describe(error: unknown): string {
  if (error instanceof DOMException && (error.name === 'NotAllowedError' || error.name === 'NotFoundError')) return 'No microphone available for the huddle.';
  const code = (error as { code?: string }).code;
  if (code === 'LIMIT_REACHED') return 'The huddle is full.';
  return error instanceof Error ? error.message : String(error);
}
