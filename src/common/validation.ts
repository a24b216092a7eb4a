import { ValidationError, ValidationPipe } from '@nestjs/common';
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

/** One pipe for REST and socket payloads: strips nothing silently, unknown fields are errors. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    exceptionFactory: validationException,
  });
}
