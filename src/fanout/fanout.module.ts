import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventsCommittedBus } from './events-committed';
import { FanoutService } from './fanout.service';

/** Infrastructure: emits to socket rooms on every node and runs the committed-events handlers. */
@Global()
@Module({ imports: [DiscoveryModule], providers: [FanoutService, EventsCommittedBus], exports: [FanoutService] })
export class FanoutModule {}
