import { Injectable } from '@nestjs/common';
import { AppException } from '../common/app.exception';
import { AccessRepository } from './access.repository';
import type { ChannelKind } from '../channels/channel.entity';
import type { WorkspaceRole } from '../workspaces/workspace-member.entity';
import { runAsSystem } from '../tenancy/tenant-context';

export interface ChannelAccess {
  channelId: string;
  workspaceId: string;
  kind: ChannelKind;
  role: WorkspaceRole;
}

interface CachedChannel {
  workspaceId: string;
  kind: ChannelKind;
  members: Set<string>;
  loadedAt: number;
}

const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX_CHANNELS = 50_000;

export const isAdminRole = (role: WorkspaceRole) => role === 'owner' || role === 'admin';

/**
 * Who may see what. Anything the caller may not see answers NOT_FOUND, never FORBIDDEN.
 * Channel membership is cached per node (one query per channel, not per message) and
 * invalidated through MembershipBus (its one `apply` path) on every node when membership changes.
 */
@Injectable()
export class AccessService {
  private readonly channels = new Map<string, CachedChannel>();
  private readonly workspaceRoles = new Map<string, { role: WorkspaceRole | null; loadedAt: number }>();
  /** Bumped on invalidation so a load that raced a change is not cached. */
  private generation = 0;

  constructor(private readonly repository: AccessRepository) {}

  async workspaceRole(workspaceId: string, userId: string): Promise<WorkspaceRole | null> {
    const key = `${workspaceId}:${userId}`;
    const cached = this.workspaceRoles.get(key);
    if (cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached.role;
    const generation = this.generation;
    // The cache is shared by every caller on this node: it is filled with the truth, not with what
    // the current caller's row-level security would show (a negative answer would stick for others).
    const role = await runAsSystem('access.lookup', () => this.repository.workspaceRole(workspaceId, userId));
    if (generation === this.generation) this.workspaceRoles.set(key, { role, loadedAt: Date.now() });
    return role;
  }

  async requireWorkspaceMember(workspaceId: string, userId: string): Promise<WorkspaceRole> {
    const role = await this.workspaceRole(workspaceId, userId);
    if (!role) throw AppException.notFound('Workspace');
    return role;
  }

  async requireWorkspaceAdmin(workspaceId: string, userId: string): Promise<WorkspaceRole> {
    const role = await this.requireWorkspaceMember(workspaceId, userId);
    if (!isAdminRole(role)) throw AppException.forbidden('Only owners and admins may do this');
    return role;
  }

  /** The caller must be a member of the channel (public channels: joined). */
  async requireChannelMember(channelId: string, userId: string, workspaceId?: string): Promise<ChannelAccess> {
    const channel = await this.channel(channelId);
    if (!channel || (workspaceId !== undefined && channel.workspaceId !== workspaceId) || !channel.members.has(userId)) {
      throw AppException.notFound('Channel');
    }
    const role = await this.workspaceRole(channel.workspaceId, userId);
    if (!role) throw AppException.notFound('Channel');
    return { channelId, workspaceId: channel.workspaceId, kind: channel.kind, role };
  }

  /** The caller may see the channel: a member, or any non-guest workspace member for a public channel. */
  async requireChannelVisible(
    channelId: string,
    userId: string,
    workspaceId: string,
  ): Promise<ChannelAccess & { isMember: boolean }> {
    const role = await this.requireWorkspaceMember(workspaceId, userId);
    const channel = await this.channel(channelId);
    if (!channel || channel.workspaceId !== workspaceId) throw AppException.notFound('Channel');
    const isMember = channel.members.has(userId);
    if (!isMember && !(channel.kind === 'public' && role !== 'guest')) throw AppException.notFound('Channel');
    return { channelId, workspaceId, kind: channel.kind, role, isMember };
  }

  /** Whether the user could read the channel's history now (the rule of requireChannelVisible). */
  async canReadChannel(channelId: string, userId: string, workspaceId: string): Promise<boolean> {
    const role = await this.workspaceRole(workspaceId, userId);
    if (!role) return false;
    const channel = await this.channel(channelId);
    if (!channel || channel.workspaceId !== workspaceId) return false;
    return channel.members.has(userId) || (channel.kind === 'public' && role !== 'guest');
  }

  async isChannelMember(channelId: string, userId: string): Promise<boolean> {
    const channel = await this.channel(channelId);
    return !!channel && channel.members.has(userId);
  }

  /** Called on every node when a channel's membership or a user's workspace role changes. */
  invalidate(change: { channelId?: string; workspaceId?: string; userId?: string }): void {
    this.generation++;
    if (change.channelId) this.channels.delete(change.channelId);
    if (change.workspaceId) {
      if (change.userId) this.workspaceRoles.delete(`${change.workspaceId}:${change.userId}`);
      else for (const key of this.workspaceRoles.keys()) if (key.startsWith(change.workspaceId)) this.workspaceRoles.delete(key);
      if (!change.channelId) {
        for (const [id, c] of this.channels) if (c.workspaceId === change.workspaceId) this.channels.delete(id);
      }
    }
  }

  invalidateAll(): void {
    this.generation++;
    this.channels.clear();
    this.workspaceRoles.clear();
  }

  private async channel(channelId: string): Promise<CachedChannel | null> {
    if (!/^[0-9a-f-]{36}$/i.test(channelId)) return null;
    const cached = this.channels.get(channelId);
    if (cached && Date.now() - cached.loadedAt < CACHE_TTL_MS) return cached;
    const generation = this.generation;
    const loaded = await runAsSystem('access.lookup', () => this.repository.channelWithMembers(channelId));
    if (!loaded) return null;
    const entry: CachedChannel = { workspaceId: loaded.workspaceId, kind: loaded.kind, members: new Set(loaded.memberIds), loadedAt: Date.now() };
    if (generation === this.generation) {
      if (this.channels.size >= CACHE_MAX_CHANNELS) this.channels.delete(this.channels.keys().next().value as string);
      this.channels.set(channelId, entry);
    }
    return entry;
  }
}
