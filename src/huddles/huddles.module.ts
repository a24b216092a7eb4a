import { Module } from '@nestjs/common';
import { WsAckInterceptor } from '../realtime/ws-ack.interceptor';
import { HuddleMembershipListener } from './huddle-membership.listener';
import { HuddleStore } from './huddle.store';
import { HuddlesGateway } from './huddles.gateway';
import { HuddlesService } from './huddles.service';

/** Huddles: live calls over WebRTC, signaled on `/rt` (API process only; the worker has no sockets). */
@Module({
  providers: [HuddleStore, HuddlesService, HuddlesGateway, HuddleMembershipListener, WsAckInterceptor],
})
export class HuddlesModule {}
