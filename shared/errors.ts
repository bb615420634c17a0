/**
 * Domain and application errors. Each names what went wrong in the caller's terms; the single mapping to
 * HTTP problem+json lives in shared/http/problem.ts, so nothing below the HTTP layer knows status codes.
 */

export interface FieldError {
  /** JSON path of the offending value, e.g. `events[3].payload.oilVolume`. */
  path: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly kind: AppErrorKind;
  /** A stable machine-readable code clients can branch on (e.g. RESYNC_REQUIRED). */
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export type AppErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'gone'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'unprocessable'
  | 'rate-limited'
  | 'dependency-unavailable';

export class ValidationError extends AppError {
  readonly kind = 'validation';
  constructor(
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message, 'VALIDATION_FAILED');
  }
}

export class UnauthenticatedError extends AppError {
  readonly kind = 'unauthenticated';
}

export class ForbiddenError extends AppError {
  readonly kind = 'forbidden';
}

export class NotFoundError extends AppError {
  readonly kind = 'not-found';
}

export class MethodNotAllowedError extends AppError {
  readonly kind = 'method-not-allowed';
}

export class ConflictError extends AppError {
  readonly kind = 'conflict';
  constructor(
    message: string,
    code?: string,
    readonly retryAfterSeconds?: number,
    /** What conflicts, by JSON path (e.g. the incompatibilities of a refused schema change). */
    readonly errors: FieldError[] = [],
  ) {
    super(message, code);
  }
}

export class GoneError extends AppError {
  readonly kind = 'gone';
}

export class PayloadTooLargeError extends AppError {
  readonly kind = 'payload-too-large';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly kind = 'unsupported-media-type';
}

export class UnprocessableError extends AppError {
  readonly kind = 'unprocessable';
}

export class RateLimitedError extends AppError {
  readonly kind = 'rate-limited';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, 'RATE_LIMITED');
  }
}

/** A backing service (Postgres, Cosmos, Blob, queue) did not answer; the client should retry later. */
export class DependencyUnavailableError extends AppError {
  readonly kind = 'dependency-unavailable';
  constructor(
    readonly dependency: string,
    readonly retryAfterSeconds = 5,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable`, 'DEPENDENCY_UNAVAILABLE');
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}
