import { type z } from 'zod';
import type { EndpointResult } from '../../http/endpoint.js';
import {
  type AppError,
  DependencyUnavailableError,
  ForbiddenError,
  NotFoundError,
  ValidationError,
} from '../../errors.js';
import { jsonPath } from '../../contracts/common.js';
import { type EntityType, type Operation, toDocument } from './mapping.js';
import { arxosOperationCheck, type arxosBatchResponseSchema } from './routes.js';
import type { OperationInput, OperationResult } from './service.js';

/*
 * Use-case results → the document's answers (seed 002 "API Endpoints for Sync"; its client's "Background
 * Sync" and "Conflict Resolution" read the status and `serverVersion`).
 */

type BatchResponse = z.infer<typeof arxosBatchResponseSchema>;
type BatchError = BatchResponse['errors'][number];

/** One raw batch operation checked: the use-case input, or the document's error entry (index kept). */
export function checkOperation(
  raw: unknown,
  index: number,
): { ok: true; input: OperationInput } | { ok: false; error: BatchError } {
  const parsed = arxosOperationCheck.safeParse(raw);
  if (parsed.success) {
    const op = parsed.data;
    return {
      ok: true,
      input: {
        entity: op.entity_type,
        entityId: op.entity_id,
        operation: op.operation,
        payload: op.payload,
        localTime: op.local_time,
        path: `operations[${index}].payload`,
      },
    };
  }
  const item = (raw ?? {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 128) : null);
  return {
    ok: false,
    error: {
      index,
      entity_type: text(item.entity_type),
      entity_id: text(item.entity_id),
      operation: text(item.operation),
      code: 'INVALID_PAYLOAD',
      error: 'the operation is not valid',
      retryable: false,
      errors: parsed.error.issues.map((issue) => ({
        path: jsonPath(issue.path, `operations[${index}]`),
        message: issue.message,
      })),
    },
  };
}

/**
 * The document's BatchSyncResponse: `success` lists, once each, the entity_id of operations applied (or already
 * applied, or whose conflict the client's values won); `conflicts` those whose values did not all win, with the server's
 * entity now; `errors` the refused ones. Operations still pending are in no list (the client sends them again).
 */
export function batchResponse(
  inputs: { index: number; input: OperationInput }[],
  results: OperationResult[],
  refused: BatchError[],
): BatchResponse {
  const out: BatchResponse = { success: [], conflicts: [], errors: [...refused] };
  inputs.forEach(({ index, input }, i) => {
    const result = results[i];
    if (!result) return;
    // An id once: two operations on one entity applied (create, then update) say no more than one.
    if (result.kind === 'success') {
      if (!out.success.includes(input.entityId)) out.success.push(input.entityId);
    } else if (result.kind === 'conflict') {
      out.conflicts.push({
        entity_type: input.entity,
        entity_id: input.entityId,
        operation: input.operation,
        fields: result.fields,
        resolution: result.resolution,
        local_version: input.payload,
        server_version:
          result.server && result.server.deletedAt === null ? toDocument(input.entity, result.server) : null,
      });
    } else if (result.kind === 'error') {
      out.errors.push({
        index,
        entity_type: input.entity,
        entity_id: input.entityId,
        operation: input.operation,
        code: result.code,
        error: result.message,
        retryable: result.retryable,
        ...(result.errors ? { errors: result.errors } : {}),
      });
    }
  });
  out.errors.sort((a, b) => a.index - b.index);
  return out;
}

/** The HTTP error of a refused per-entity operation (one problem mapping: shared/http/problem.ts). */
function errorOf(entity: EntityType, result: Extract<OperationResult, { kind: 'error' }>): AppError {
  switch (result.code) {
    case 'INVALID_PAYLOAD':
    case 'CLOCK_SKEW':
      return new ValidationError(result.message, result.errors ?? []);
    case 'SCOPE_NOT_GRANTED':
      return new ForbiddenError(result.message, result.code);
    case 'RECORD_NOT_FOUND':
    case 'RECORD_DELETED':
      return new NotFoundError(`no ${entity} with this id: ${result.message}`, result.code);
    case 'UNKNOWN_COLLECTION':
      return new NotFoundError(
        `this tenant does not sync ${entity} (it needs the facilities pack): ${result.message}`,
        result.code,
      );
    default:
      // FAILED after the queue's retries (PROCESSING_FAILED), or anything else retryable: try again later.
      return new DependencyUnavailableError('the sync processor');
  }
}

/**
 * A per-entity operation's answer: `okStatus` with the equipment as it is now (none for 204), 409 with
 * `serverVersion` for a conflict it lost, the error's status otherwise; 503 with Retry-After when it was not
 * processed in time (the client retries, and the same request is then a duplicate).
 */
export function entityResponse(
  entity: EntityType,
  operation: Operation,
  result: OperationResult,
  okStatus: 200 | 201 | 204,
  requestId: string,
): EndpointResult {
  switch (result.kind) {
    case 'success':
      if (okStatus === 204) return { status: 204 };
      if (!result.record || result.record.deletedAt !== null) {
        throw new NotFoundError(`no ${entity} with this id`, 'RECORD_NOT_FOUND');
      }
      return { status: okStatus, body: toDocument(entity, result.record) };
    case 'conflict':
      return {
        status: 409,
        headers: { 'content-type': 'application/problem+json' },
        body: {
          type: 'urn:fieldsync:problem:conflict',
          title: 'Conflict',
          status: 409,
          detail:
            `the ${operation} of this ${entity} is based on a stale version and did not win ` +
            `(${result.fields.join(', ')}); send it again with force: true to override`,
          code: 'VERSION_CONFLICT',
          requestId,
          serverVersion:
            result.server && result.server.deletedAt === null ? toDocument(entity, result.server) : null,
          conflict: { fields: result.fields, resolution: result.resolution },
        },
      };
    case 'error':
      throw errorOf(entity, result);
    case 'pending':
      throw new DependencyUnavailableError('the sync processor (not processed in time)');
  }
}
