import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { describeError } from './auth-screen';
import { HuddleBar } from './huddle-bar';
import { MembersPanel } from './members-panel';
import { MessageList, type MessageActions } from './message-list';
import { createSocket, PigeonError, type Message, type PigeonApi, type PigeonClient, type Topic, type User, type Workspace } from './pigeon';
import { floorView, useFloor, type FloorView } from './floor';
import { ChatStore } from './store';
import { LivePlayer, LiveRecording, microphoneMessage, Playback } from './voice';

interface Props {
  api: PigeonApi;
  user: User;
  workspaces: Workspace[];
  workspaceId: string | null;
  notice: string | null;
  onNotice(notice: string | null): void;
  onOpenWorkspace(id: string): void;
  onWorkspaces(list: Workspace[]): void;
  onSignOut(): void;
}

const PAGE = 200;
const DM_NAMES = 'pigeon.dmNames';

function heardKey(userId: string): string {
  return `pigeon.heard.${userId}`;
}

/** Performance figures the e2e suite reads. */
export const metrics: { firstChunkRecordedAt: number[]; firstChunkReceivedAt: number[]; firstPlayedAt: number[] } = { firstChunkRecordedAt: [], firstChunkReceivedAt: [], firstPlayedAt: [] };
(window as unknown as { pigeonMetrics: typeof metrics }).pigeonMetrics = metrics;

export function ChatScreen(props: Props) {
  const { api, user, workspaces, workspaceId } = props;
  if (!workspaceId) return <CreateWorkspace {...props} />;
  return <Workspace_ key={workspaceId} {...props} workspaceId={workspaceId} workspace={workspaces.find((w) => w.id === workspaceId)!} api={api} user={user} />;
}

function CreateWorkspace({ api, onWorkspaces, onOpenWorkspace, onSignOut, notice }: Props) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 39);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    try {
      const workspace = await api.workspaces.create({ name, slug: slug.length >= 2 ? slug : `${slug}-team` });
      onWorkspaces(await api.workspaces.list());
      onOpenWorkspace(workspace.id);
    } catch (failure) {
      setError(describeError(failure));
    }
  };
  return (
    <main className="centered">
      <form className="card" onSubmit={(e) => void submit(e)} aria-labelledby="create-title">
        <h1 id="create-title">Create a workspace</h1>
        {notice && <p role="status">{notice}</p>}
        <p className="muted">Or open an invite link from a teammate to join theirs.</p>
        <label>
          Workspace name
          <input name="workspace" value={name} onChange={(e) => setName(e.target.value)} required maxLength={80} />
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary">
          Create workspace
        </button>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </form>
    </main>
  );
}

function Workspace_({ api, user, workspaces, workspace, workspaceId, notice, onNotice, onOpenWorkspace, onSignOut }: Props & { workspaceId: string; workspace: Workspace }) {
  const store = useMemo(() => new ChatStore(user.id), [user.id]);
  const client = useMemo<PigeonClient>(() => createSocket(api), [api]);
  useSyncExternalStore(store.subscribe, store.snapshot);
  const [active, setActive] = useState<string | null>(null);
  const [topicId, setTopicId] = useState<string>('');
  const [connection, setConnection] = useState<'connecting' | 'online' | 'offline'>('connecting');
  const [panel, setPanel] = useState<'none' | 'members' | 'new-channel' | 'new-dm'>('none');
  const [heard, setHeard] = useState<Set<string>>(() => new Set(JSON.parse(localStorage.getItem(heardKey(user.id)) ?? '[]') as string[]));
  const liveContainer = useRef<HTMLDivElement>(null);
  const players = useRef(new Map<string, LivePlayer>());
  const activeRef = useRef<string | null>(null);
  activeRef.current = active;
  const canModerate = workspace.role === 'owner' || workspace.role === 'admin';

  const markHeard = useCallback(
    (message: Message) => {
      setHeard((previous) => {
        if (!previous.has(message.id) && message.channelId && message.authorId !== user.id) store.heard(message.channelId);
        const next = new Set(previous).add(message.id);
        localStorage.setItem(heardKey(user.id), JSON.stringify([...next].slice(-2000)));
        return next;
      });
      void client.voiceListened(message.id).catch(() => undefined);
    },
    [client, user.id],
  );
  const [playback, setPlayback] = useState<Playback | null>(null);

  const refreshChannels = useCallback(async () => {
    store.setChannels(await api.channels.list(workspaceId));
  }, [api, store, workspaceId]);
  // Events of a channel we do not know yet (joined elsewhere) come in bursts: one list refresh per burst.
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshChannelsSoon = useCallback(() => {
    refreshTimer.current ??= setTimeout(() => {
      refreshTimer.current = undefined;
      void refreshChannels();
    }, 500);
  }, [refreshChannels]);

  const refreshMembers = useCallback(async () => {
    store.members = new Map((await api.workspaces.members(workspaceId)).map((m) => [m.userId, m]));
    store.bump();
  }, [api, store, workspaceId]);

  // Socket and live events for this workspace.
  useEffect(() => {
    setPlayback(new Playback(api, markHeard, liveContainer.current!));
    const inWorkspace = (id: string) => id === workspaceId;
    client.on('event', (event) => {
      if (!inWorkspace(event.workspaceId)) return;
      if (!store.channels.has(event.channelId)) {
        refreshChannelsSoon();
        return;
      }
      const message = store.apply(event, activeRef.current);
      if (message?.voice && message.voice.status !== 'recording') {
        const player = players.current.get(message.voice.id);
        player?.end();
      }
      if (event.type === 'member.joined' || event.type === 'member.left') void refreshMembers();
      if (event.channelId === activeRef.current && message && document.visibilityState === 'visible') void client.channelRead(event.channelId, event.seq).catch(() => undefined);
    });
    client.on('read', (event) => {
      if (event.userId === user.id && inWorkspace(event.workspaceId)) store.markedRead(event.channelId, event.seq);
    });
    client.on('typing', (event) => {
      if (!inWorkspace(event.workspaceId)) return;
      store.setTyping(event.channelId, event.userId);
      setTimeout(() => store.bump(), 4100);
    });
    client.on('presence', (event) => {
      if (!inWorkspace(event.workspaceId)) return;
      for (const { userId, status } of event.users) {
        const member = store.members.get(userId);
        // Someone who joined after our members list was read: read it again.
        if (member) store.members.set(userId, { ...member, presence: status });
        else void refreshMembers();
      }
      store.bump();
    });
    client.on('voice:chunk', (event) => {
      if (!store.channels.has(event.channelId) || !LivePlayer.supported()) return;
      let player = players.current.get(event.voiceId);
      if (!player) {
        // Joined mid-recording: without chunk 0 (the header) the stream cannot be decoded.
        if (event.index !== 0) return;
        player = new LivePlayer(event.messageId, liveContainer.current!);
        player.audio.addEventListener('timeupdate', function once() {
          if (player!.firstPlayedAt) {
            metrics.firstChunkReceivedAt.push(player!.firstChunkAt);
            metrics.firstPlayedAt.push(player!.firstPlayedAt);
            player!.audio.removeEventListener('timeupdate', once);
          }
        });
        // Live chunks never reach their speaker: this is someone else's message.
        player.audio.addEventListener('ended', () => markHeard({ id: event.messageId, channelId: event.channelId, authorId: '' } as Message));
        players.current.set(event.voiceId, player);
      }
      player.push(event);
    });
    client.on('disconnect', () => setConnection('offline'));
    client.on('ready', () => {
      setConnection('online');
      // Channels joined or created while away.
      void refreshChannels();
    });
    const onOffline = () => setConnection('offline');
    window.addEventListener('offline', onOffline);
    void (async () => {
      try {
        await Promise.all([refreshChannels(), refreshMembers()]);
        await client.connect();
        setConnection('online');
      } catch (error) {
        onNotice(`Real-time connection failed: ${describeError(error)}`);
        setConnection('offline');
      }
    })();
    const livePlayers = players.current;
    return () => {
      window.removeEventListener('offline', onOffline);
      client.disconnect();
      for (const player of livePlayers.values()) player.dispose();
    };
  }, [client]);

  // Open the first channel (general) once the list is in.
  const channelList = [...store.channels.values()];
  useEffect(() => {
    if (!active && channelList.length > 0) setActive((channelList.find((c) => c.item.name === 'general') ?? channelList[0]).item.id);
  }, [active, channelList]);

  const state = active ? store.channels.get(active) : undefined;

  const loadOlder = useCallback(async (): Promise<number> => {
    if (!state || !state.hasMore || state.loadingOlder) return 0;
    state.loadingOlder = true;
    try {
      const before = state.messages[0]?.seq;
      const page = await api.messages.list(workspaceId, state.item.id, { before, limit: PAGE });
      store.merge(state.item.id, page.messages);
      state.hasMore = page.hasMore;
      state.loaded = true;
      store.bump();
      return page.messages.length;
    } finally {
      state.loadingOlder = false;
    }
  }, [api, state, store, workspaceId]);

  // First page and topics of the opened channel; join public channels on open.
  useEffect(() => {
    if (!state) return;
    setTopicId('');
    void (async () => {
      try {
        if (!state.item.isMember) {
          await api.channels.join(workspaceId, state.item.id);
          client.trackChannel(state.item.id, state.item.headSeq);
          await refreshChannels();
        }
        if (!state.loaded) await loadOlder();
        state.topics = await api.topics.list(workspaceId, state.item.id);
        store.bump();
        const last = state.messages.at(-1);
        if (last && last.seq > state.item.lastReadSeq) await client.channelRead(state.item.id, state.item.headSeq).catch(() => undefined);
        store.markedRead(state.item.id, state.item.headSeq);
      } catch (error) {
        onNotice(describeError(error));
      }
    })();
  }, [active]);

  const actions: MessageActions = {
    reply: (message) => setReplyTo(message),
    edit: async (message, body) => {
      await client.editMessage(message.id, body).catch((e: unknown) => onNotice(describeError(e)));
    },
    remove: async (message) => {
      await client.deleteMessage(message.id).catch((e: unknown) => onNotice(describeError(e)));
    },
    react: async (message, emoji, mine) => {
      await (mine ? client.removeReaction(message.id, emoji) : client.addReaction(message.id, emoji)).catch((e: unknown) => onNotice(describeError(e)));
    },
  };
  const [replyTo, setReplyTo] = useState<Message | null>(null);

  const dmNames = JSON.parse(localStorage.getItem(DM_NAMES) ?? '{}') as Record<string, string>;
  const channelName = (id: string): string => {
    const channel = store.channels.get(id);
    if (!channel) return '';
    if (channel.item.kind !== 'direct') return `#${channel.item.name ?? ''}`;
    if (dmNames[id]) return dmNames[id];
    const other = channel.messages.find((m) => m.authorId !== user.id);
    return other ? store.name(other.authorId) : 'Direct message';
  };

  const visible = state ? state.messages.filter((m) => !topicId || m.topicId === topicId) : [];
  const unheard = visible.filter((m) => m.kind === 'voice' && m.voice?.status === 'ready' && !m.deletedAt && m.authorId !== user.id && !heard.has(m.id));
  const typists = active ? store.typists(active).filter((id) => id !== user.id) : [];
  const rooms = channelList.filter((c) => c.item.kind !== 'direct');
  const dms = channelList.filter((c) => c.item.kind === 'direct');

  const channelButton = (id: string) => {
    const channel = store.channels.get(id)!;
    const unread = channel.item.unreadCount;
    return (
      <li key={id}>
        <button type="button" className={id === active ? 'channel active' : 'channel'} aria-current={id === active ? 'page' : undefined} onClick={() => setActive(id)} data-channel={channel.item.name ?? id}>
          <span className={unread > 0 ? 'name unread' : 'name'}>{channelName(id)}</span>
          {channel.mentions > 0 && (
            <span className="badge mention" aria-label={`${channel.mentions} mentions`}>
              @{channel.mentions}
            </span>
          )}
          {unread > 0 && (
            <span className="badge" aria-label={`${unread} unread`} data-unread={unread}>
              {unread}
            </span>
          )}
          {channel.item.unheardCount > 0 && (
            <span className="badge unheard" aria-label={`${channel.item.unheardCount} unheard voice messages`} data-unheard={channel.item.unheardCount}>
              ♪ {channel.item.unheardCount}
            </span>
          )}
          {channel.item.mode === 'ptt' && (
            <span className="ptt-tag" aria-label="push-to-talk channel">
              PTT
            </span>
          )}
        </button>
      </li>
    );
  };

  return (
    <div className="app">
      <nav className="sidebar" aria-label="Workspace">
        <div className="workspace-switcher">
          <label htmlFor="workspace-select" className="sr-only">
            Workspace
          </label>
          <select id="workspace-select" value={workspaceId} onChange={(e) => onOpenWorkspace(e.target.value)}>
            {workspaces.map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
          <span className={`connection ${connection}`} role="status" aria-label={`Connection ${connection}`}>
            {connection === 'online' ? '● online' : connection === 'offline' ? '○ offline, catching up when back' : '… connecting'}
          </span>
        </div>
        <h2 id="channels-heading">Channels</h2>
        <ul aria-labelledby="channels-heading" className="channel-list">
          {rooms.map((c) => channelButton(c.item.id))}
        </ul>
        <button type="button" className="link" onClick={() => setPanel(panel === 'new-channel' ? 'none' : 'new-channel')}>
          + New channel
        </button>
        <h2 id="dms-heading">Direct messages</h2>
        <ul aria-labelledby="dms-heading" className="channel-list">
          {dms.map((c) => channelButton(c.item.id))}
        </ul>
        <button type="button" className="link" onClick={() => setPanel(panel === 'new-dm' ? 'none' : 'new-dm')}>
          + New direct message
        </button>
        <div className="sidebar-footer">
          <button type="button" onClick={() => setPanel(panel === 'members' ? 'none' : 'members')} aria-expanded={panel === 'members'}>
            Members{canModerate ? ' & invites' : ''}
          </button>
          <span className="me">{user.displayName}</span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="conversation" aria-label={active ? channelName(active) : 'Conversation'}>
        {notice && (
          <div role="status" className="notice">
            {notice}{' '}
            <button type="button" onClick={() => onNotice(null)} aria-label="Dismiss notice">
              ✕
            </button>
          </div>
        )}
        {state && (
          <>
            <header className="channel-header">
              <h1>{channelName(state.item.id)}</h1>
              <TopicPicker api={api} workspaceId={workspaceId} channelId={state.item.id} topics={state.topics} value={topicId} onChange={setTopicId} onCreated={(t) => { state.topics = [t, ...state.topics.filter((x) => x.id !== t.id)]; store.bump(); }} />
              <button type="button" disabled={unheard.length === 0 || !playback} onClick={() => playback?.playAll(unheard)}>
                ▶ Play unheard ({unheard.length})
              </button>
              {playback && <SpeedPicker playback={playback} />}
              <HuddleBar client={client} channelId={state.item.id} nameOf={(id) => store.name(id)} meId={user.id} />
            </header>
            {playback && <MessageList messages={visible} hasMore={state.hasMore} store={store} actions={actions} playback={playback} heard={heard} canModerate={canModerate} loadOlder={loadOlder} />}
            <p className="typing" aria-live="polite">
              {typists.length > 0 ? `${typists.map((id) => store.name(id)).join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…` : '\u00a0'}
            </p>
            <Composer
              key={state.item.id}
              api={api}
              client={client}
              store={store}
              workspaceId={workspaceId}
              channelId={state.item.id}
              topicId={topicId || undefined}
              replyTo={replyTo}
              onCancelReply={() => setReplyTo(null)}
              onNotice={onNotice}
              placeholder={`Message ${channelName(state.item.id)}`}
            />
          </>
        )}
        <div ref={liveContainer} className="sr-only" aria-hidden="true" />
      </main>
      {panel !== 'none' && (
        <aside className="panel" aria-label="Details">
          <button type="button" className="close" onClick={() => setPanel('none')} aria-label="Close panel">
            ✕
          </button>
          {panel === 'members' && <MembersPanel api={api} store={store} workspaceId={workspaceId} canModerate={canModerate} onChanged={() => void refreshMembers()} onNotice={onNotice} />}
          {panel === 'new-channel' && (
            <NewChannel
              onCreate={async (name, kind) => {
                const channel = await api.channels.create(workspaceId, { name, kind });
                client.trackChannel(channel.id, 0);
                await refreshChannels();
                setActive(channel.id);
                setPanel('none');
              }}
            />
          )}
          {panel === 'new-dm' && (
            <div>
              <h2>New direct message</h2>
              <ul className="member-list">
                {[...store.members.values()]
                  .filter((m) => m.userId !== user.id)
                  .map((m) => (
                    <li key={m.userId}>
                      <button
                        type="button"
                        onClick={() =>
                          void (async () => {
                            const channel = await api.channels.openDm(workspaceId, m.userId);
                            localStorage.setItem(DM_NAMES, JSON.stringify({ ...dmNames, [channel.id]: m.displayName }));
                            client.trackChannel(channel.id, 0);
                            await refreshChannels();
                            setActive(channel.id);
                            setPanel('none');
                          })().catch((e: unknown) => onNotice(describeError(e)))
                        }
                      >
                        {m.displayName}
                      </button>
                    </li>
                  ))}
              </ul>
            </div>
          )}
        </aside>
      )}
    </div>
  );
}

function SpeedPicker({ playback }: { playback: Playback }) {
  const [speed, setSpeed] = useState(playback.speed);
  return (
    <div className="speed" role="group" aria-label="Playback speed">
      {[1, 1.5, 2].map((value) => (
        <button
          type="button"
          key={value}
          aria-pressed={speed === value}
          onClick={() => {
            playback.setSpeed(value);
            setSpeed(value);
          }}
        >
          {value}×
        </button>
      ))}
    </div>
  );
}

function TopicPicker({ api, workspaceId, channelId, topics, value, onChange, onCreated }: { api: PigeonApi; workspaceId: string; channelId: string; topics: { id: string; title: string }[]; value: string; onChange(id: string): void; onCreated(topic: Topic): void }) {
  return (
    <div className="topics">
      <label htmlFor="topic-select">Topic</label>
      <select
        id="topic-select"
        value={value}
        onChange={(e) => {
          if (e.target.value !== '__new') return onChange(e.target.value);
          const title = window.prompt('New topic title');
          if (!title) return;
          void api.topics.create(workspaceId, channelId, { title }).then((topic) => {
            onCreated(topic);
            onChange(topic.id);
          });
        }}
      >
        <option value="">All topics</option>
        {topics.map((t) => (
          <option key={t.id} value={t.id}>
            {t.title}
          </option>
        ))}
        <option value="__new">+ New topic…</option>
      </select>
    </div>
  );
}

function NewChannel({ onCreate }: { onCreate(name: string, kind: 'public' | 'private'): Promise<void> }) {
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'public' | 'private'>('public');
  const [error, setError] = useState<string | null>(null);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onCreate(name, kind).catch((failure: unknown) => setError(describeError(failure)));
      }}
    >
      <h2>New channel</h2>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value.toLowerCase())} pattern="[a-z0-9][a-z0-9_\-]{0,79}" required title="Lowercase letters, digits, - and _" />
      </label>
      <label>
        <input type="checkbox" checked={kind === 'private'} onChange={(e) => setKind(e.target.checked ? 'private' : 'public')} /> Private
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" className="primary">
        Create
      </button>
    </form>
  );
}

function isTextField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

function Composer({
  api,
  client,
  store,
  workspaceId,
  channelId,
  topicId,
  replyTo,
  onCancelReply,
  onNotice,
  placeholder,
}: {
  api: PigeonApi;
  client: PigeonClient;
  store: ChatStore;
  workspaceId: string;
  channelId: string;
  topicId?: string;
  replyTo: Message | null;
  onCancelReply(): void;
  onNotice(notice: string | null): void;
  placeholder: string;
}) {
  const [body, setBody] = useState('');
  const [recording, setRecording] = useState(false);
  const ptt = store.channels.get(channelId)?.item.mode === 'ptt';
  const floor = useFloor(api, client, workspaceId, channelId, ptt);
  /** Queued position from floor:request's ack, until a floor event says more. */
  const [queuedAt, setQueuedAt] = useState<number | null>(null);
  /** The button is held (or V): when the floor comes our way, recording starts. */
  const holding = useRef(false);
  const view = ptt ? floorView(floor, store.userId, queuedAt) : ({ kind: 'free' } as const);
  const [voiceNotice, setVoiceNotice] = useState<string | null>(null);
  const lastTyping = useRef(0);
  const current = useRef<LiveRecording | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  /** `@Display Name` of a member becomes `<@userId>`, longest names first. */
  const withMentions = (text: string): string => {
    let result = text;
    const members = [...store.members.values()].sort((a, b) => b.displayName.length - a.displayName.length);
    for (const member of members) result = result.split(`@${member.displayName}`).join(`<@${member.userId}>`);
    return result;
  };

  const send = async (event?: FormEvent): Promise<void> => {
    event?.preventDefault();
    const text = body.trim();
    if (!text) return;
    setBody('');
    onCancelReply();
    try {
      await client.send({ channelId, body: withMentions(text), ...(topicId ? { topicId } : {}), ...(replyTo ? { replyToId: replyTo.id } : {}) });
    } catch (error) {
      setBody(text);
      onNotice(`Not sent: ${describeError(error)}`);
    }
  };

  /** Push-to-talk: ask for the floor first; queued, the recording starts when our turn comes. */
  const pressTalk = async (): Promise<void> => {
    holding.current = true;
    if (!ptt) return startTalking();
    setVoiceNotice(null);
    try {
      const answer = await client.request('floor:request', { channelId });
      if (answer.state === 'granted') {
        setQueuedAt(null);
        if (holding.current) await startTalking();
        else void client.request('floor:release', { channelId }).catch(() => undefined);
      } else {
        setQueuedAt(answer.position ?? null);
      }
    } catch (error) {
      setVoiceNotice(describeError(error));
    }
  };

  const releaseTalk = async (): Promise<void> => {
    holding.current = false;
    if (!ptt) return stopTalking();
    if (current.current) {
      // voice:end passes the floor on.
      await stopTalking();
      return;
    }
    // Let go while waiting: leave the queue.
    setQueuedAt(null);
    if (view.kind === 'queued' || view.kind === 'mine') void client.request('floor:release', { channelId }).catch(() => undefined);
  };

  // Our turn came while holding: talk. Lost the floor while talking (revoked, pre-empted): stop.
  useEffect(() => {
    if (!ptt) return;
    if (view.kind === 'mine') setQueuedAt(null);
    if (view.kind === 'mine' && holding.current && !current.current) void startTalking();
    if (view.kind !== 'mine' && floor && current.current) void stopTalking();
  }, [ptt, view.kind, floor?.rev]);

  const startTalking = async (): Promise<void> => {
    if (current.current) return;
    setVoiceNotice(null);
    const recording = new LiveRecording(api, client, workspaceId, channelId, topicId);
    current.current = recording;
    setRecording(true);
    try {
      await recording.start();
    } catch (error) {
      current.current = null;
      setRecording(false);
      setVoiceNotice(error instanceof PigeonError ? describeError(error) : microphoneMessage(error));
    }
  };

  const stopTalking = async (): Promise<void> => {
    const recording = current.current;
    if (!recording) return;
    current.current = null;
    setRecording(false);
    const result = await recording.stop();
    if (recording.firstChunkAt) metrics.firstChunkRecordedAt.push(recording.firstChunkAt);
    if (result.notice) setVoiceNotice(result.notice);
  };

  // Hold V anywhere outside a text field to talk (Space stays free for scrolling and buttons).
  useEffect(() => {
    const down = (event: KeyboardEvent) => {
      if (event.repeat || isTextField(event.target) || event.key.toLowerCase() !== 'v' || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      void pressTalk();
    };
    const up = (event: KeyboardEvent) => {
      if (event.key.toLowerCase() === 'v') void releaseTalk();
    };
    window.addEventListener('keydown', down);
    window.addEventListener('keyup', up);
    return () => {
      window.removeEventListener('keydown', down);
      window.removeEventListener('keyup', up);
    };
  });

  const talkKeys = (event: ReactKeyboardEvent, pressed: boolean): void => {
    if (event.key !== ' ' && event.key !== 'Enter') return;
    event.preventDefault();
    if (pressed && !event.repeat) void pressTalk();
    if (!pressed) void releaseTalk();
  };

  return (
    <div className="composer">
      {replyTo && (
        <div className="replying">
          Replying to {store.name(replyTo.authorId)}: {replyTo.body.slice(0, 60) || 'voice message'}{' '}
          <button type="button" onClick={onCancelReply} aria-label="Cancel reply">
            ✕
          </button>
        </div>
      )}
      {voiceNotice && (
        <p role="alert" className="error">
          {voiceNotice}
        </p>
      )}
      <form onSubmit={(e) => void send(e)}>
        <button
          type="button"
          className={recording ? 'talk recording' : `talk floor-${view.kind}`}
          aria-pressed={recording}
          data-floor={ptt ? view.kind : undefined}
          aria-label={recording ? 'Recording: release to send' : talkLabel(view, store)}
          onPointerDown={(e) => {
            e.currentTarget.setPointerCapture(e.pointerId);
            void pressTalk();
          }}
          onPointerUp={() => void releaseTalk()}
          onPointerCancel={() => void releaseTalk()}
          onKeyDown={(e) => talkKeys(e, true)}
          onKeyUp={(e) => talkKeys(e, false)}
          onContextMenu={(e) => e.preventDefault()}
        >
          {recording ? '● Release to send' : talkText(view, store)}
        </button>
        <label htmlFor="composer-input" className="sr-only">
          {placeholder}
        </label>
        <textarea
          id="composer-input"
          ref={input}
          rows={1}
          value={body}
          placeholder={placeholder}
          title="Enter sends, Shift+Enter adds a line, @Name mentions someone"
          maxLength={4000}
          onChange={(e) => {
            setBody(e.target.value);
            if (Date.now() - lastTyping.current > 2000) {
              lastTyping.current = Date.now();
              void client.typing(channelId, topicId).catch(() => undefined);
            }
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) void send(e);
          }}
        />
        <button type="submit" className="primary" disabled={!body.trim()}>
          Send
        </button>
      </form>
    </div>
  );
}

/** The hold-to-talk button in a push-to-talk channel: free, busy (someone talks), queued, your turn. */
function talkText(view: FloorView, store: ChatStore): string {
  switch (view.kind) {
    case 'busy':
      return `● ${store.name(view.holder)} is talking`;
    case 'queued':
      return `… Queued #${view.position}`;
    case 'mine':
      return '▶ Your turn: hold to talk';
    default:
      return '🎙 Hold to talk';
  }
}

function talkLabel(view: FloorView, store: ChatStore): string {
  switch (view.kind) {
    case 'busy':
      return `${store.name(view.holder)} is talking: hold to queue for the floor`;
    case 'queued':
      return `Queued for the floor, position ${view.position}: keep holding to talk when your turn comes`;
    case 'mine':
      return 'Your turn: hold to talk (or hold V)';
    default:
      return 'Hold to talk (or hold V)';
  }
}
