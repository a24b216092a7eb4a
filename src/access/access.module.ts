import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AccessRepository } from './access.repository';
import { AccessService } from './access.service';
import { MembershipBus } from './membership-bus.service';

/** Infrastructure: the per-node membership cache and the membership-change path behind it. */
@Global()
@Module({ imports: [DiscoveryModule], providers: [AccessRepository, AccessService, MembershipBus], exports: [AccessService, MembershipBus] })
export class AccessModule {}
