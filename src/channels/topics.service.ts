import { Injectable } from '@nestjs/common';
import { AccessService } from '../access/access.service';
import { AppException } from '../common/app.exception';
import { ChannelLog } from '../messages/channel-log';
import { toTopicView, TopicView } from './channel.view';
import { ChannelsRepository } from './channels.repository';
import { TopicsRepository } from './topics.repository';

/** Topics are threads of a channel; only its members see or start them. */
@Injectable()
export class TopicsService {
  constructor(
    private readonly access: AccessService,
    private readonly log: ChannelLog,
    private readonly channels: ChannelsRepository,
    private readonly topics: TopicsRepository,
  ) {}

  async create(callerId: string, workspaceId: string, channelId: string, title: string): Promise<TopicView> {
    await this.access.requireChannelMember(channelId, callerId, workspaceId);
    return this.log.transaction(async (manager) => {
      // The channel lock comes before the insert, whose foreign key check would otherwise
      // share-lock the channel row and deadlock against a concurrent writer.
      if (!(await this.channels.lock(manager, workspaceId, channelId))) throw AppException.notFound('Channel');
      const topic = await this.topics.insert(manager, { workspaceId, channelId, title, createdBy: callerId });
      if (!topic) throw AppException.notFound('Channel');
      const created = toTopicView(topic);
      await this.log.append(manager, channelId, [{ type: 'topic.created', data: created }]);
      return created;
    });
  }

  /** Latest activity (creation or newest message) first. */
  async list(callerId: string, workspaceId: string, channelId: string): Promise<TopicView[]> {
    await this.access.requireChannelMember(channelId, callerId, workspaceId);
    const topics = await this.topics.listForChannel(workspaceId, channelId);
    return topics.map(toTopicView);
  }
}
