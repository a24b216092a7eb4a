/**
 * The one module through which the web app reaches the server: the SDK's PigeonApi (REST) and
 * PigeonClient (socket), with the session kept in localStorage and shared by the tabs.
 */
import { PigeonApi, PigeonClient, PigeonError } from '@pigeon/client';
import type { Session } from '@pigeon/client';

export { PigeonApi, PigeonClient, PigeonError };
export type {
  Channel,
  ChannelListItem,
  EventEnvelope,
  FloorEvent,
  Member,
  Message,
  MessagePage,
  PresenceEvent,
  ReadEvent,
  Role,
  Session,
  Topic,
  TypingEvent,
  User,
  VoiceChunkEvent,
  Workspace,
} from '@pigeon/client';

const SESSION_KEY = 'pigeon.session';

function storedSession(): Session | null {
  try {
    const value = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null;
    return value && typeof value.accessToken === 'string' && typeof value.refreshToken === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** The app's API, its session kept in localStorage and shared by every tab of this browser. */
export function createApi(onSignedOut: () => void): PigeonApi {
  const api = new PigeonApi({
    baseUrl: location.origin,
    session: storedSession() ?? undefined,
    onSession: (session) => {
      if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session));
      else {
        localStorage.removeItem(SESSION_KEY);
        onSignedOut();
      }
    },
    // One refresh at a time across tabs (a refresh token is spent once); a tab that waited adopts
    // the session the other one stored.
    refreshGate: (refresh) =>
      typeof navigator !== 'undefined' && navigator.locks ? (navigator.locks.request('pigeon-refresh', refresh) as ReturnType<typeof refresh>) : refresh(),
    loadSession: storedSession,
  });
  window.addEventListener('storage', (event) => {
    if (event.key !== SESSION_KEY) return;
    const session = storedSession();
    api.adopt(session);
    if (!session) onSignedOut();
  });
  return api;
}

export function createSocket(api: PigeonApi): PigeonClient {
  return new PigeonClient({ url: location.origin, getToken: () => api.accessToken(), backoff: { initialDelayMs: 300, maxDelayMs: 3000 } });
}
