import { io, Socket } from 'socket.io-client';
import { PigeonClient } from '../../client/src/pigeon-client';
import { Api, registerUser, TestUser, uniqueSlug } from './api';

export interface TestWorkspace {
  id: string;
  generalId: string;
  owner: TestUser;
}

/** A workspace with its `general` channel, made through the REST API. */
export async function createWorkspace(api: Api, owner?: TestUser): Promise<TestWorkspace> {
  const user = owner ?? (await registerUser(api, 'owner'));
  const created = await api.post('/api/workspaces', { name: 'Test team', slug: uniqueSlug() }, user.accessToken);
  if (created.status !== 201) throw new Error(`workspace: ${created.status} ${JSON.stringify(created.body)}`);
  const channels = await api.get(`/api/workspaces/${created.body.id}/channels`, user.accessToken);
  const general = (channels.body as { id: string; name: string }[]).find((c) => c.name === 'general');
  if (!general) throw new Error('no general channel');
  return { id: created.body.id, generalId: general.id, owner: user };
}

/** Registers a user and joins them to the workspace through an invite (which joins `general`). */
export async function addMember(api: Api, workspace: TestWorkspace, name = 'member', role = 'member'): Promise<TestUser> {
  const user = await registerUser(api, name);
  const invite = await api.post(`/api/workspaces/${workspace.id}/invites`, { role }, workspace.owner.accessToken);
  if (invite.status !== 201) throw new Error(`invite: ${invite.status} ${JSON.stringify(invite.body)}`);
  const accepted = await api.post(`/api/invites/${invite.body.code}/accept`, undefined, user.accessToken);
  if (accepted.status !== 200) throw new Error(`accept: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return user;
}

/** A raw socket.io client on /rt, connected (rejects with the connect_error). */
export type ReadySocket = Socket & { ready?: any };

export function rawSocket(url: string, token: string | undefined, extra: Record<string, unknown> = {}): Promise<ReadySocket> {
  const socket = io(`${url}/rt`, { auth: token === undefined ? {} : { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...extra });
  return new Promise((resolve, reject) => {
    socket.once('ready', (payload: unknown) => resolve(Object.assign(socket, { ready: payload })));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export function sdkClient(url: string, token: string, options: Partial<ConstructorParameters<typeof PigeonClient>[0]> = {}) {
  return new PigeonClient({ url, token, gapWindowMs: 100, requestTimeoutMs: 5000, ...options });
}

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
