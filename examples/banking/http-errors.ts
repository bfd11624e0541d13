import {
  BadRequestException,
  ConflictException,
  HttpException,
  NotFoundException,
} from '@nestjs/common';

/**
 * Maps a handler's error to an HTTP error by its `name`: through the library the caller gets an
 * error carrying the handler's error name and message, not the handler's own error instance.
 */
export function toHttpException(err: unknown): unknown {
  if (err instanceof HttpException || !(err instanceof Error)) return err;
  switch (err.name) {
    case 'InsufficientFundsError':
      return new ConflictException(err.message);
    case 'AccountNotFoundError':
      return new NotFoundException(err.message);
    default:
      return err;
  }
}

/** The request body as an object: a missing or non-JSON body is a 400, never a crash. */
export function parseBody<T extends object>(body: unknown): Partial<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('Expected a JSON object body (Content-Type: application/json)');
  return body;
}

/** A positive safe integer amount (the bank counts in cents). */
export function parseAmount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new BadRequestException(
      `Expected \`amount\` to be a positive integer, got \`${String(value)}\``,
    );
  return value;
}

const ID = /^[A-Za-z0-9_.~-]{1,100}$/;

/** An account, operation or transfer id: 1–100 of `A-Z a-z 0-9 _ . ~ -`. */
export function parseId(name: string, value: unknown): string {
  if (typeof value !== 'string' || !ID.test(value))
    throw new BadRequestException(
      `Expected \`${name}\` to be 1–100 characters of A-Z a-z 0-9 _ . ~ -, got \`${String(value)}\``,
    );
  return value;
}
