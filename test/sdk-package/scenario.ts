/**
 * Compiled (strict) and run by test/sdk-package.spec.ts inside a fresh project that installed the
 * packed @pigeon/client tarball: everything here goes through the public package only.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { PigeonApi, PigeonClient, PigeonError, type EventEnvelope, type Message } from '@pigeon/client';

const url = process.env.PIGEON_URL ?? '';
const voiceFile = process.env.VOICE_FILE ?? '';

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function failure(promise: Promise<unknown>): Promise<PigeonError> {
  try {
    await promise;
  } catch (error) {
    check(error instanceof PigeonError, 'a PigeonError');
    return error;
  }
  throw new Error('expected a failure');
}

const suffix = randomUUID().slice(0, 8);
const alice = new PigeonApi({ baseUrl: url });
const bob = new PigeonApi({ baseUrl: url });
const aliceUser = await alice.auth.register({ email: `alice-${suffix}@example.com`, password: 'correct-horse-battery', displayName: 'Alice' });
const bobUser = await bob.auth.register({ email: `bob-${suffix}@example.com`, password: 'correct-horse-battery', displayName: 'Bob' });
check((await bob.me()).id === bobUser.user.id, 'me');

const workspace = await alice.workspaces.create({ name: 'Package test', slug: `pkg-${suffix}` });
const invite = await alice.invites.create(workspace.id, { role: 'member' });
const accepted = await bob.invites.accept(invite.code);
check(accepted.workspaceId === workspace.id, 'invite accepted');
const channel = await alice.channels.create(workspace.id, { name: `pkg-${suffix}`, kind: 'public' });
await bob.channels.join(workspace.id, channel.id);
const wid = workspace.id;
const cid = channel.id;

const aliceSocket = new PigeonClient({ url, token: () => alice.accessToken() });
// From the start, so this run sees the channel's whole log (a new app would load history over REST instead).
const bobSocket = new PigeonClient({ url, token: () => bob.accessToken(), replayFromStart: true });
const seen: EventEnvelope[] = [];
const disconnects: string[] = [];
bobSocket.on('event', (event) => {
  if (event.channelId === cid) seen.push(event);
});
bobSocket.on('disconnect', (reason) => disconnects.push(reason));
await Promise.all([aliceSocket.connect(), bobSocket.connect()]);

// 20 ordered messages over the socket.
const sent: Message[] = [];
for (let i = 0; i < 20; i++) sent.push(await aliceSocket.send({ channelId: cid, body: `message ${i}` }));
const created = () => seen.filter((event) => event.type === 'message.created');
await until(() => created().length === 20, '20 live messages');
check(created().every((event, i) => event.type === 'message.created' && event.data.body === `message ${i}`), 'live order');

// Offline catch-up: bob goes away, alice posts over REST, bob comes back and is caught up once, in order.
bobSocket.disconnect();
check(disconnects.length === 1, 'disconnect event on a manual disconnect');
for (let i = 20; i < 25; i++) sent.push(await alice.messages.send(wid, cid, { clientMsgId: `rest-${i}`, body: `message ${i}` }));
const again = await alice.messages.send(wid, cid, { clientMsgId: 'rest-24', body: 'message 24' });
check(again.id === sent[24].id, 'REST send is idempotent on clientMsgId');
await bobSocket.connect();
await until(() => created().length === 25, 'catch-up after reconnect');
const seqs = seen.map((event) => event.seq);
check(seqs.every((seq, i) => i === 0 || seq === seqs[i - 1] + 1), 'gap-free, duplicate-free seqs');
check(created().every((event, i) => event.type === 'message.created' && event.data.body === `message ${i}`), 'order after catch-up');

// Edit, react, delete over REST and over the socket; bob sees each as an event.
const [m0, m1, m2, m3, m4, m5] = sent;
const edited = await alice.messages.edit(wid, cid, m0.id, 'edited over REST');
check(edited.editedAt !== null && edited.body === 'edited over REST', 'REST edit');
await bob.messages.react(wid, cid, m1.id, '👍');
await alice.messages.delete(wid, cid, m2.id);
await aliceSocket.editMessage(m3.id, 'edited over the socket');
await bobSocket.addReaction(m4.id, '🎉');
await aliceSocket.deleteMessage(m5.id);
await bob.messages.unreact(wid, cid, m1.id, '👍');
const changed = (id: string) => seen.filter((event) => event.type !== 'message.created' && event.type !== 'member.joined' && 'id' in event.data && event.data.id === id);
await until(() => [m0, m1, m2, m3, m4, m5].every((m) => changed(m.id).length > 0) && changed(m1.id).length === 2, 'change events');
const read = await bob.messages.markRead(wid, cid, sent[24].seq);
check(read.lastReadSeq === sent[24].seq, 'REST read mark');

// Errors are typed the same way from REST and from acks.
const restForbidden = await failure(bob.messages.edit(wid, cid, m0.id, 'not mine'));
check(restForbidden.code === 'FORBIDDEN' && restForbidden.status === 403, 'REST FORBIDDEN');
const socketForbidden = await failure(bobSocket.editMessage(m0.id, 'not mine'));
check(socketForbidden.code === 'FORBIDDEN' && socketForbidden.status === 403, 'ack FORBIDDEN');
const invalid = await failure(alice.messages.send(wid, cid, { clientMsgId: 'x', body: '   ' }));
check(invalid.code === 'VALIDATION' && invalid.status === 400 && (invalid.details?.length ?? 0) > 0, 'VALIDATION with details');

// History across pages, newest first.
const history: Message[] = [];
for await (const message of bob.messages.history(wid, cid, { limit: 7 })) history.push(message);
check(history.length === 25 && history[0].id === sent[24].id && history[24].id === m0.id, 'history iterator');
check(history.find((m) => m.id === m2.id)?.body === '', 'deleted message keeps its place');
const events = await bob.messages.events(wid, cid, { after: 0, limit: 500 });
const logged = new Map(events.events.map((event) => [event.seq, event.type]));
check(seen.every((event) => logged.get(event.seq) === event.type) && events.headSeq >= seqs[seqs.length - 1], 'the events page holds what the socket delivered');

// Voice: upload bytes with progress, wait for ready, fetch the audio by its absolute URL.
const progress: number[] = [];
const bytes = readFileSync(voiceFile);
const voiceMessage = await alice.voice.upload(wid, cid, { file: bytes, clientMsgId: `voice-${suffix}`, filename: 'tone.wav' }, { onProgress: (sentBytes) => progress.push(sentBytes) });
check(voiceMessage.voice?.status === 'processing', 'upload answers processing');
check(progress[progress.length - 1] === bytes.byteLength, 'progress reaches the file size');
const voiceUpdate = () =>
  seen.find((event) => event.type === 'message.updated' && event.data.id === voiceMessage.id && event.data.voice?.status === 'ready');
await until(() => voiceUpdate() !== undefined, 'voice ready', 40_000);
const voice = await bob.voice.get(voiceMessage.voice.id);
const audioUrl = bob.voice.audioUrl(voice);
check(audioUrl.startsWith(url) && /^https?:\/\//.test(audioUrl), 'absolute audio URL');
const audio = await fetch(audioUrl);
const audioBytes = new Uint8Array(await audio.arrayBuffer());
check(audio.status === 200 && audioBytes.byteLength > 100 && (audio.headers.get('content-type') ?? '').startsWith('audio/'), 'audio fetched without a header');

// Logout ends the session.
await alice.auth.logout();
check(alice.session() === null, 'session cleared');
const afterLogout = await failure(alice.me());
check(afterLogout.code === 'UNAUTHORIZED', 'UNAUTHORIZED after logout');

aliceSocket.disconnect();
bobSocket.disconnect();
console.log(JSON.stringify({ ok: true, messages: sent.length, events: seen.length, historyPages: Math.ceil(25 / 7), voiceBytes: audioBytes.byteLength, users: [aliceUser.user.id, bobUser.user.id] }));
