import type { ChannelListItem, EventEnvelope, Member, Message, Topic } from './pigeon';

export interface ChannelState {
  item: ChannelListItem;
  /** Loaded messages, ascending seq, one per id. */
  messages: Message[];
  hasMore: boolean;
  loaded: boolean;
  loadingOlder: boolean;
  mentions: number;
  topics: Topic[];
}

/**
 * The app's view of one workspace. Order and exactly-once come from the SDK's sequencer; the store
 * only merges by id, so a message seen both in a REST page and as a live event is shown once.
 */
export class ChatStore {
  readonly channels = new Map<string, ChannelState>();
  members = new Map<string, Member>();
  typing = new Map<string, Map<string, number>>();
  private listeners = new Set<() => void>();
  version = 0;

  constructor(readonly userId: string) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): number => this.version;

  bump(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }

  setChannels(items: ChannelListItem[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      seen.add(item.id);
      const state = this.channels.get(item.id);
      if (state) state.item = { ...item, headSeq: Math.max(item.headSeq, state.item.headSeq) };
      else this.channels.set(item.id, { item, messages: [], hasMore: true, loaded: false, loadingOlder: false, mentions: 0, topics: [] });
    }
    for (const id of [...this.channels.keys()]) if (!seen.has(id)) this.channels.delete(id);
    this.bump();
  }

  mentionsMe(message: Message): boolean {
    return message.body.includes(`<@${this.userId}>`);
  }

  /** Merges messages (a page or live changes) by id, keeping ascending seq. */
  merge(channelId: string, messages: Message[]): void {
    const state = this.channels.get(channelId);
    if (!state || messages.length === 0) return;
    const last = state.messages.at(-1);
    // Fast path for the live case: one new message after everything loaded.
    if (messages.length === 1 && (!last || messages[0].seq > last.seq)) {
      state.messages = [...state.messages, messages[0]];
      return;
    }
    const byId = new Map(state.messages.map((m) => [m.id, m]));
    for (const message of messages) byId.set(message.id, message);
    state.messages = [...byId.values()].sort((a, b) => a.seq - b.seq);
  }

  /** A live (ordered, exactly-once) channel event; returns the message it carried, if any. */
  apply(event: EventEnvelope, activeChannelId: string | null): Message | undefined {
    const state = this.channels.get(event.channelId);
    if (!state) return undefined;
    state.item = { ...state.item, headSeq: Math.max(state.item.headSeq, event.seq) };
    let message: Message | undefined;
    if (event.type === 'message.created' || event.type === 'message.updated' || event.type === 'message.deleted') {
      message = event.data;
      if (state.loaded) this.merge(event.channelId, [message]);
      if (event.type === 'message.created' && message.authorId !== this.userId && event.channelId !== activeChannelId) {
        state.item = { ...state.item, unreadCount: state.item.unreadCount + 1 };
        if (this.mentionsMe(message)) state.mentions++;
      }
      if (event.type === 'message.created' && message.kind === 'voice' && message.authorId !== this.userId) {
        state.item = { ...state.item, unheardCount: state.item.unheardCount + 1 };
      }
    } else if (event.type === 'channel.updated') {
      // Settings (mode) changed; the read state is ours and stays.
      state.item = { ...state.item, mode: event.data.mode, name: event.data.name };
    } else if (event.type === 'topic.created') {
      if (!state.topics.some((t) => t.id === event.data.id)) state.topics = [event.data, ...state.topics];
    }
    this.bump();
    return message;
  }

  /** The user finished a voice message of someone else (voice:listened). */
  heard(channelId: string): void {
    const state = this.channels.get(channelId);
    if (!state || state.item.unheardCount === 0) return;
    state.item = { ...state.item, unheardCount: state.item.unheardCount - 1 };
    this.bump();
  }

  markedRead(channelId: string, seq: number): void {
    const state = this.channels.get(channelId);
    if (!state || seq < state.item.lastReadSeq) return;
    const unread = state.loaded ? state.messages.filter((m) => m.seq > seq && m.authorId !== this.userId && m.kind !== 'system').length : 0;
    state.item = { ...state.item, lastReadSeq: seq, unreadCount: seq >= state.item.headSeq ? 0 : Math.min(state.item.unreadCount, unread) };
    state.mentions = 0;
    this.bump();
  }

  setTyping(channelId: string, userId: string): void {
    const users = this.typing.get(channelId) ?? new Map<string, number>();
    users.set(userId, Date.now() + 4000);
    this.typing.set(channelId, users);
    this.bump();
  }

  typists(channelId: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(channelId) ?? new Map<string, number>()).entries()].filter(([, until]) => until > now).map(([id]) => id);
  }

  name(userId: string): string {
    return this.members.get(userId)?.displayName ?? 'Someone';
  }
}
