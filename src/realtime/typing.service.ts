import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { AccessService } from '../access/access.service';
import { AppConfigService } from '../config/app-config.service';
import { channelRoom, FanoutService, userRoom } from '../fanout/fanout.service';
import { REDIS } from '../redis/redis.module';

/** `typing`: relayed to the channel except the typist's own sockets; never stored. */
@Injectable()
export class TypingService {
  constructor(
    private readonly access: AccessService,
    private readonly fanout: FanoutService,
    private readonly config: AppConfigService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async typing(userId: string, channelId: string, topicId: string | null): Promise<void> {
    const access = await this.access.requireChannelMember(channelId, userId);
    // One relay per user and channel per interval, across nodes; extras are dropped silently.
    const first = await this.redis.set(`typing:${userId}:${channelId}`, '1', 'PX', this.config.get('TYPING_INTERVAL_MS'), 'NX');
    if (!first) return;
    this.fanout.emit(
      channelRoom(channelId),
      'typing',
      { workspaceId: access.workspaceId, channelId, topicId, userId },
      { except: userRoom(userId) },
    );
  }
}
