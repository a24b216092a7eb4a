import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { AppException, FieldError } from './app.exception';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const error of errors) {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) out.push({ field, message });
    if (error.children?.length) out.push(...flatten(error.children, field));
  }
  return out;
}

export function validationException(errors: ValidationError[]): AppException {
  const details = flatten(errors);
  const fields = [...new Set(details.map((d) => d.field))];
  return AppException.validation(`Invalid field${fields.length > 1 ? 's' : ''}: ${fields.join(', ')}`, details);
}

/**
 * The path of the first string holding a NUL character: Postgres text cannot store one, so such
 * input is refused as VALIDATION instead of failing deep in a query.
 */
export function findNulString(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'payload' : null;
  if (value === null || typeof value !== 'object' || depth > 16 || ArrayBuffer.isView(value)) return null;
  for (const [key, child] of Object.entries(value)) {
    const found = findNulString(child, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return null;
}

export function rejectNulStrings(value: unknown): void {
  const field = findNulString(value);
  if (field) throw AppException.validation(`Invalid field: ${field}`, [{ field, message: `${field} must not contain NUL characters` }]);
}

class RestValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' || metadata.type === 'query') rejectNulStrings(value);
    return super.transform(value, metadata);
  }
}

/** One pipe for REST input: strips nothing silently, unknown fields are errors. */
export function createValidationPipe(): ValidationPipe {
  return new RestValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    exceptionFactory: validationException,
  });
}
