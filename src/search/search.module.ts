import { Module } from '@nestjs/common';
import { MessagesModule } from '../messages/messages.module';
import { SearchRateLimiter } from './search-rate-limiter';
import { SearchController } from './search.controller';
import { SearchRepository } from './search.repository';
import { SearchService } from './search.service';

/** Full-text search over messages and voice transcripts (the index itself is kept by database triggers). */
@Module({
  imports: [MessagesModule],
  controllers: [SearchController],
  providers: [SearchRepository, SearchService, SearchRateLimiter],
})
export class SearchModule {}
