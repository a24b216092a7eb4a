import { Module } from '@nestjs/common';
import { InvitesRepository } from './invites.repository';
import { WorkspaceMembersRepository } from './workspace-members.repository';
import { WorkspacesRepository } from './workspaces.repository';

/**
 * The workspaces feature's repositories. They need nothing but the data source, so channels and
 * the access cache import them without an import cycle through the services.
 */
@Module({
  providers: [WorkspacesRepository, WorkspaceMembersRepository, InvitesRepository],
  exports: [WorkspacesRepository, WorkspaceMembersRepository, InvitesRepository],
})
export class WorkspacesDataModule {}
