import { Global, Module } from '@nestjs/common';
import { AccessService } from './access.service';
import { MembershipBus } from './membership-bus.service';

@Global()
@Module({ providers: [AccessService, MembershipBus], exports: [AccessService, MembershipBus] })
export class AccessModule {}
