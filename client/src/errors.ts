/** An RFC 9457 problem body as the server answers errors (SPEC "Errors"). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  /** A machine-readable code some problems carry (RESYNC_REQUIRED, DEVICE_NOT_OWNED, IDEMPOTENCY_IN_FLIGHT…). */
  code?: string;
  errors?: { path: string; message: string }[];
}

/** Base class of every error the client throws. */
export class FieldsyncError extends Error {
  override name = 'FieldsyncError';
}

/**
 * The server answered with an error status the client does not handle itself (e.g. 400, 403, or 429/503
 * still answered after every retry). `retryAfterMs` is the server's Retry-After, when it sent one.
 */
export class HttpError extends FieldsyncError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    readonly retryAfterMs?: number,
  ) {
    super(
      `HTTP ${status}${problem?.detail ? `: ${problem.detail}` : problem?.title ? `: ${problem.title}` : ''}`,
    );
  }
}

/** The token provider's token was refused (401) even after it was asked for a fresh one. */
export class AuthError extends HttpError {
  override name = 'AuthError';
}

/** The server could not be reached (no answer, connection refused, DNS) after every retry. */
export class NetworkError extends FieldsyncError {
  override name = 'NetworkError';
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
