import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Message } from './pigeon';
import type { ChatStore } from './store';
import type { Playback } from './voice';

const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉'];

export interface MessageActions {
  reply(message: Message): void;
  edit(message: Message, body: string): Promise<void>;
  remove(message: Message): Promise<void>;
  react(message: Message, emoji: string, mine: boolean): Promise<void>;
}

/** `<@userId>` shown as @name. */
function renderBody(body: string, store: ChatStore) {
  const parts = body.split(/(<@[0-9a-f-]{36}>)/g);
  return parts.map((part, index) => {
    const match = /^<@([0-9a-f-]{36})>$/.exec(part);
    if (!match) return part;
    return (
      <span key={index} className={match[1] === store.userId ? 'mention me' : 'mention'}>
        @{store.name(match[1])}
      </span>
    );
  });
}

function formatDuration(ms: number | null | undefined): string {
  if (!ms) return '0:00';
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function VoiceBody({ message, playback, heard }: { message: Message; playback: Playback; heard: boolean }) {
  useSyncExternalStore(
    (listener) => playback.subscribe(listener),
    () => `${playback.current}:${playback.audio.paused}:${Math.floor(playback.audio.currentTime * 10)}:${playback.speed}`,
  );
  const voice = message.voice!;
  if (voice.status === 'recording') return <p className="voice-status live">● Speaking live…</p>;
  if (voice.status === 'processing') return <p className="voice-status">Processing voice message…</p>;
  if (voice.status === 'failed') return <p className="voice-status error">This voice message could not be processed.</p>;
  const playing = playback.current === message.id && !playback.audio.paused;
  const progress = playback.progress(message.id);
  const waveform = voice.waveform ?? new Array<number>(64).fill(10);
  return (
    <div className="voice" data-voice-ready={message.id} data-duration-ms={voice.durationMs ?? 0}>
      <button type="button" className="play" onClick={() => void playback.play(message)} aria-label={`${playing ? 'Pause' : 'Play'} voice message, ${formatDuration(voice.durationMs)}`}>
        {playing ? '❚❚' : '▶'}
      </button>
      <div className="waveform" role="img" aria-label="Waveform">
        {waveform.map((level, index) => (
          <span key={index} className={index / waveform.length < progress ? 'bar played' : 'bar'} style={{ height: `${Math.max(8, level)}%` }} />
        ))}
      </div>
      <span className="duration">{formatDuration(voice.durationMs)}</span>
      {!heard && <span className="badge small" title="Not heard yet">new</span>}
    </div>
  );
}

function MessageRow({
  message,
  store,
  actions,
  playback,
  heard,
  canModerate,
}: {
  message: Message;
  store: ChatStore;
  actions: MessageActions;
  playback: Playback;
  heard: boolean;
  canModerate: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.body);
  const mine = message.authorId === store.userId;
  const replied = message.replyToId ? store.channels.get(message.channelId)?.messages.find((m) => m.id === message.replyToId) : undefined;
  const time = new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (message.kind === 'system') return <div className="system">{message.body}</div>;
  return (
    <article className="message" data-message={message.id} data-seq={message.seq} aria-label={`${store.name(message.authorId)} at ${time}`}>
      <header>
        <strong>{store.name(message.authorId)}</strong> <time dateTime={message.createdAt}>{time}</time>
        {message.editedAt && !message.deletedAt && <span className="muted"> (edited)</span>}
      </header>
      {replied && <blockquote className="reply-quote">↪ {store.name(replied.authorId)}: {replied.deletedAt ? 'deleted message' : replied.body.slice(0, 80) || 'voice message'}</blockquote>}
      {message.deletedAt ? (
        <p className="muted deleted">This message was deleted.</p>
      ) : editing ? (
        <form
          className="edit"
          onSubmit={(event) => {
            event.preventDefault();
            void actions.edit(message, draft).then(() => setEditing(false));
          }}
        >
          <label className="sr-only" htmlFor={`edit-${message.id}`}>
            Edit message
          </label>
          <input id={`edit-${message.id}`} value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus onKeyDown={(e) => e.key === 'Escape' && setEditing(false)} />
          <button type="submit">Save</button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : message.kind === 'voice' && message.voice ? (
        <VoiceBody message={message} playback={playback} heard={heard || mine} />
      ) : (
        <p className="body">{renderBody(message.body, store)}</p>
      )}
      {message.reactions.length > 0 && (
        <div className="reactions">
          {message.reactions.map((reaction) => {
            const reacted = reaction.userIds.includes(store.userId);
            return (
              <button
                type="button"
                key={reaction.emoji}
                className={reacted ? 'reaction mine' : 'reaction'}
                aria-pressed={reacted}
                aria-label={`${reaction.emoji} ${reaction.count}`}
                onClick={() => void actions.react(message, reaction.emoji, reacted)}
              >
                {reaction.emoji} {reaction.count}
              </button>
            );
          })}
        </div>
      )}
      {!message.deletedAt && (
        <div className="actions">
          {QUICK_REACTIONS.map((emoji) => (
            <button type="button" key={emoji} aria-label={`React ${emoji}`} onClick={() => void actions.react(message, emoji, message.reactions.some((r) => r.emoji === emoji && r.userIds.includes(store.userId)))}>
              {emoji}
            </button>
          ))}
          <button type="button" onClick={() => actions.reply(message)}>
            Reply
          </button>
          {mine && message.kind === 'text' && (
            <button
              type="button"
              onClick={() => {
                setDraft(message.body);
                setEditing(true);
              }}
            >
              Edit
            </button>
          )}
          {(mine || canModerate) && (
            <button type="button" onClick={() => window.confirm('Delete this message?') && void actions.remove(message)}>
              Delete
            </button>
          )}
        </div>
      )}
    </article>
  );
}

/**
 * The channel's messages, virtualized: only the rows near the viewport are in the DOM, so a
 * channel with thousands of loaded messages stays light. Scrolling to the top loads older pages.
 */
export function MessageList({
  messages,
  hasMore,
  store,
  actions,
  playback,
  heard,
  canModerate,
  loadOlder,
}: {
  messages: Message[];
  hasMore: boolean;
  store: ChatStore;
  actions: MessageActions;
  playback: Playback;
  heard: Set<string>;
  canModerate: boolean;
  loadOlder: () => Promise<number>;
}) {
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: messages.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 72,
    overscan: 8,
    getItemKey: (index) => messages[index].id,
  });
  const atBottom = useRef(true);
  const lastId = messages.at(-1)?.id;
  const firstId = messages[0]?.id;
  const previousFirst = useRef<{ id?: string; count: number }>({ count: 0 });

  // Follow new messages while the reader is at the bottom.
  useLayoutEffect(() => {
    if (atBottom.current && messages.length > 0) virtualizer.scrollToIndex(messages.length - 1, { align: 'end' });
  }, [lastId, messages.length]);

  // A row that grows (voice turning ready, a reaction) must not push the newest out of view.
  useEffect(() => {
    if (!atBottom.current || messages.length === 0) return;
    const frame = requestAnimationFrame(() => virtualizer.scrollToIndex(messages.length - 1, { align: 'end' }));
    return () => cancelAnimationFrame(frame);
  });

  // Older page prepended: keep the message that was on top where it was.
  useLayoutEffect(() => {
    const before = previousFirst.current;
    if (before.id && before.id !== firstId) {
      const index = messages.findIndex((m) => m.id === before.id);
      if (index > 0) virtualizer.scrollToIndex(index, { align: 'start' });
    }
    previousFirst.current = { id: firstId, count: messages.length };
  }, [firstId]);

  const loading = useRef(false);
  const onScroll = (): void => {
    const element = parent.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
    if (element.scrollTop < 200 && hasMore && !loading.current) {
      loading.current = true;
      void loadOlder().finally(() => (loading.current = false));
    }
  };
  useEffect(() => {
    onScroll();
  }, [messages.length, hasMore]);

  return (
    <div ref={parent} className="message-list" onScroll={onScroll} role="log" aria-label="Messages" aria-live="polite" tabIndex={0} data-loaded-count={messages.length} data-has-more={hasMore}>
      {messages.length === 0 && !hasMore && <p className="empty muted">No messages yet. Say hello, or hold the talk button.</p>}
      <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
        {virtualizer.getVirtualItems().map((item) => (
          <div key={item.key} data-index={item.index} ref={virtualizer.measureElement} style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}>
            <MessageRow message={messages[item.index]} store={store} actions={actions} playback={playback} heard={heard.has(messages[item.index].id)} canModerate={canModerate} />
          </div>
        ))}
      </div>
    </div>
  );
}
