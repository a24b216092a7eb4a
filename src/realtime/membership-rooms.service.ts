import { Injectable, Logger } from '@nestjs/common';
import { MembershipChange, MembershipRooms, MembershipRoomsProvider } from '../access/membership-bus.service';
import { AccessService } from '../access/access.service';
import { channelRoom, userRoom, workspaceRoom } from '../fanout/fanout.service';
import { PresenceService } from '../presence/presence.service';
import { runAsSystem } from '../tenancy/tenant-context';
import { RealtimeGateway } from './realtime.gateway';
import { RealtimeRepository } from './realtime.repository';

/** Membership changes in socket rooms: this node's sockets, and the wait for every other node. */
@Injectable()
@MembershipRoomsProvider()
export class MembershipRoomsService implements MembershipRooms {
  private readonly logger = new Logger(MembershipRoomsService.name);

  constructor(
    private readonly gateway: RealtimeGateway,
    private readonly access: AccessService,
    private readonly repository: RealtimeRepository,
    private readonly presence: PresenceService,
  ) {}

  apply(change: MembershipChange): Promise<void> {
    // Another user's membership, possibly of a workspace the caller just left: a named cross-tenant scope.
    return runAsSystem('realtime.membership', () => this.follow(change));
  }

  private async follow(change: MembershipChange): Promise<void> {
    const namespace = this.gateway.namespace;
    if (!change.userId || !namespace) return;
    const sockets = namespace.local.in(userRoom(change.userId));
    if (change.removed) {
      if (change.channelId) {
        sockets.socketsLeave(channelRoom(change.channelId));
        return;
      }
      // Removed from the workspace: leave it and each of its channel rooms.
      const channelIds = await this.repository.workspaceChannelIds(change.workspaceId);
      sockets.socketsLeave([workspaceRoom(change.workspaceId), ...channelIds.map(channelRoom)]);
      return;
    }
    if (change.channelId) {
      if (await this.access.isChannelMember(change.channelId, change.userId)) sockets.socketsJoin(channelRoom(change.channelId));
      return;
    }
    const channelIds = await this.repository.memberChannelIds(change.userId, change.workspaceId);
    sockets.socketsJoin([workspaceRoom(change.workspaceId), ...channelIds.map(channelRoom)]);
    this.presence.joinedWorkspace(change.userId, change.workspaceId);
  }

  broadcastAndWait(change: MembershipChange): Promise<void> {
    const namespace = this.gateway.namespace;
    if (!namespace) return Promise.resolve();
    return new Promise((resolve) => {
      // The Redis adapter times the acknowledgements out after its requestsTimeout (3 s).
      namespace.serverSideEmit('membership', change, (error: Error | null) => {
        if (error) this.logger.warn(`Membership change not acknowledged by every node: ${String(error.message)}`);
        resolve();
      });
    });
  }
}
