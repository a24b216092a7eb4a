import { createParamDecorator, ExecutionContext, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppException } from '../common/app.exception';
import { rejectNulStrings, validationException } from '../common/validation';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function hasForbiddenKey(value: unknown, depth = 0): boolean {
  if (depth > 8 || value === null || typeof value !== 'object') return depth > 8;
  // Binary (a voice chunk's Buffer) has no keys of its own, only indexes: walking them would cost a string per byte.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false;
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return true;
    if (hasForbiddenKey((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * Socket payloads get the same DTO rules as REST bodies, plus what JSON bodies never carry:
 * non-object payloads, binary, and prototype keys (socket.io's JSON.parse makes `__proto__` an own key).
 */
@Injectable()
export class PayloadPipe<T extends object> implements PipeTransform<unknown, T> {
  constructor(private readonly dto: new () => T) {}

  transform(payload: unknown): T {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || Object.getPrototypeOf(payload) !== Object.prototype) {
      throw AppException.validation('Payload must be a JSON object');
    }
    if (hasForbiddenKey(payload)) throw AppException.validation('Payload contains a forbidden key or is nested too deeply');
    rejectNulStrings(payload);
    const instance = plainToInstance(this.dto, payload);
    const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
    if (errors.length > 0) throw validationException(errors);
    return instance;
  }
}

const RawPayload = createParamDecorator((_data: unknown, context: ExecutionContext) => context.switchToWs().getData<unknown>());

/**
 * A socket payload validated against `dto`. A custom decorator, so Nest's global (REST)
 * ValidationPipe leaves it alone and PayloadPipe sees the raw payload.
 */
export const WsPayload = <T extends object>(dto: new () => T) => RawPayload(undefined, new PayloadPipe(dto));
