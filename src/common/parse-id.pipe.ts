import { Injectable, PipeTransform } from '@nestjs/common';
import { isUUID } from 'class-validator';
import { AppException } from './app.exception';

/** A path id that is not a UUID names nothing that exists: 404, like any unknown id. */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUUID(value)) throw AppException.notFound();
    // Ids are compared as stored (lower-case), so an upper-case spelling of a real id still finds it.
    return value.toLowerCase();
  }
}
