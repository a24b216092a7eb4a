import { Module } from '@nestjs/common';
import { ChannelsModule } from '../channels/channels.module';
import { MessagesModule } from '../messages/messages.module';
import { InvitesController } from './invites.controller';
import { InvitesService } from './invites.service';
import { MembersService } from './members.service';
import { WorkspacesDataModule } from './workspaces-data.module';
import { WorkspacesController } from './workspaces.controller';
import { WorkspacesService } from './workspaces.service';

/** Workspaces, their members and roles, and invites. */
@Module({
  imports: [ChannelsModule, MessagesModule, WorkspacesDataModule],
  controllers: [WorkspacesController, InvitesController],
  providers: [WorkspacesService, MembersService, InvitesService],
})
export class WorkspacesModule {}
