/**
 * An example bot on @pigeon/client: logs in (registering on first run), follows every channel it
 * is in, answers a mention of itself in the same channel, and when the mention says "voice",
 * posts the voice file from PIGEON_BOT_VOICE_FILE. Run: `npm run example:bot` (see README.md).
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { randomUUID } from 'node:crypto';
import { PigeonApi, PigeonClient, PigeonError, type EventEnvelope } from '@pigeon/client';

const url = process.env.PIGEON_URL ?? 'http://localhost:3000';
const email = required('PIGEON_BOT_EMAIL');
const password = required('PIGEON_BOT_PASSWORD');
const displayName = process.env.PIGEON_BOT_NAME ?? 'Pigeon bot';
const voiceFile = process.env.PIGEON_BOT_VOICE_FILE;
const inviteCode = process.env.PIGEON_BOT_INVITE;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

async function logIn(api: PigeonApi): Promise<string> {
  try {
    return (await api.auth.login({ email, password })).user.id;
  } catch (error) {
    if (!(error instanceof PigeonError) || error.code !== 'UNAUTHORIZED') throw error;
    return (await api.auth.register({ email, password, displayName })).user.id;
  }
}

async function main(): Promise<void> {
  const api = new PigeonApi({ baseUrl: url });
  const botId = await logIn(api);
  if (inviteCode) {
    const joined = await api.invites.accept(inviteCode);
    console.log(`joined workspace ${joined.workspaceId}`);
  }
  // The token provider keeps the socket authenticated across access-token renewals.
  const socket = new PigeonClient({ url, token: () => api.accessToken() });
  const mention = `<@${botId}>`;

  socket.on('event', (event: EventEnvelope) => {
    if (event.type !== 'message.created' || event.data.authorId === botId || !event.data.body.includes(mention)) return;
    void answer(api, event).catch((error: unknown) => console.error('answer failed:', error));
  });
  socket.on('rate-limited', ({ retryAfterMs }) => console.error(`rate limited, retrying in ${retryAfterMs ?? '?'} ms`));
  socket.on('error', (error) => console.error('socket:', error.message));

  const ready = await socket.connect();
  // One line the launcher (and the example's test) can wait for.
  console.log(`bot ready ${botId} in ${ready.workspaces.length} workspace(s)`);

  const stop = () => {
    socket.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

async function answer(api: PigeonApi, event: EventEnvelope & { type: 'message.created' }): Promise<void> {
  const message = event.data;
  const wantsVoice = /\bvoice\b/i.test(message.body);
  // clientMsgId derived from the message answered: a retried answer is never posted twice.
  await api.messages.send(message.workspaceId, message.channelId, {
    clientMsgId: `bot-reply-${message.id}`,
    body: `Hi <@${message.authorId}>, you said: ${message.body.replace(/<@[^>]+>/g, '').trim() || '(nothing)'}`,
    replyToId: message.id,
  });
  if (wantsVoice && voiceFile) {
    const size = statSync(voiceFile).size;
    await api.voice.upload(
      message.workspaceId,
      message.channelId,
      { file: createReadStream(voiceFile), clientMsgId: `bot-voice-${message.id}`, filename: basename(voiceFile) },
      { onProgress: (sent) => sent === size && console.log(`voice uploaded (${size} bytes)`) },
    );
  }
  console.log(`answered ${message.id}${wantsVoice ? ' with voice' : ''} (${randomUUID().slice(0, 8)})`);
}

main().catch((error: unknown) => {
  console.error(error instanceof PigeonError ? `${error.code}: ${error.message}` : error);
  process.exit(1);
});
