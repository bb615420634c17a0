import { app } from '@azure/functions';
import { fieldopsUploadRoute } from '../../../shared/compat/fieldops/routes.js';
import { peekUploadToken, verifyUploadToken } from '../../../shared/compat/fieldops/upload-token.js';
import { renderFieldopsError } from '../../../shared/compat/fieldops/wire.js';
import { MAX_PHOTO_BYTES } from '../../../shared/contracts/events.js';
import {
  ConflictError,
  ForbiddenError,
  PayloadTooLargeError,
  UnprocessableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { HEAD_BYTES, matchesContentType, photoDeps } from '../../../shared/usecases/photos.js';

/**
 * PUT compat/fieldops/uploads/{token}: where the document-003 client PUTs a photo's bytes (Sprint 6 "Photo
 * Upload Flow": the bytes, at most a Content-Type, no Authorization). The signed token (upload-token.ts) is the capability: one
 * tenant, one photo, one blob, one type, 15 minutes. The bytes get the checks of any uploaded photo (type as
 * issued, 1..10 MiB, magic number) and go to the photo's blob through the blob adapter (a BlockBlob). 201 as
 * Blob Storage answers a Put Blob. A second PUT before the attach replaces the blob (as a SAS PUT would);
 * after the attach the blob is locked: 409. Errors in the dialect's Nest body (docs/compat/fieldops.md).
 */
export const fieldopsUpload = endpoint(
  fieldopsUploadRoute,
  async ({ app: fieldsync, params, request }) => {
    const refused = 'this upload URL is not valid (altered, or not issued by this server)';
    const claimed = peekUploadToken(params.token);
    if (!claimed) throw new ForbiddenError(refused, 'UPLOAD_URL_INVALID');
    // The tenant named in the token only chooses the key to check it with: a forged name fails the signature.
    const tenant = await fieldsync.tenants.find(claimed.t);
    if (tenant?.status !== 'ACTIVE') throw new ForbiddenError(refused, 'UPLOAD_URL_INVALID');
    const token = verifyUploadToken(params.token, await fieldsync.pull.cursorKey(tenant));
    if (!token) throw new ForbiddenError(refused, 'UPLOAD_URL_INVALID');
    if (token === 'expired') {
      throw new ForbiddenError('this upload URL has expired: ask for a new one', 'UPLOAD_URL_EXPIRED');
    }
    // The document's PUT is "Body: <image binary>": no type, or a generic one, is taken as the type issued (the
    // magic number below still decides); another image type is not this URL's.
    const given = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    const contentType = !given || given === 'application/octet-stream' ? token.c : given;
    if (contentType !== token.c) {
      throw new UnsupportedMediaTypeError(
        `this URL takes Content-Type ${token.c} (got ${contentType || 'none'})`,
      );
    }
    // Checked on the declared length first, so an oversized upload is refused before it is read.
    const declared = Number(request.headers.get('content-length') ?? Number.NaN);
    const tooLarge = (n: number) => new PayloadTooLargeError(`the photo has ${n} bytes: over 10 MiB`);
    if (Number.isFinite(declared) && declared > MAX_PHOTO_BYTES) throw tooLarge(declared);
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > MAX_PHOTO_BYTES) throw tooLarge(bytes.length);
    if (bytes.length === 0) throw new ValidationError('the photo has no bytes');
    if (!matchesContentType(bytes.subarray(0, HEAD_BYTES), token.c)) {
      throw new UnprocessableError(`the bytes are not ${token.c}`, 'PHOTO_CONTENT_MISMATCH');
    }
    const deps = photoDeps(fieldsync);
    // The photo was recorded AWAITING_UPLOAD when the URL was issued; a row that names another blob is no upload.
    const record = await deps.photoRecords.get(tenant, token.p);
    if (record?.blobName !== token.b) throw new ForbiddenError(refused, 'UPLOAD_URL_INVALID');
    const put = await deps.photoStore.put(token.b, bytes, token.c);
    if (put === 'locked') {
      throw new ConflictError(
        'this photo is attached already: its blob cannot change',
        'PHOTO_ALREADY_ATTACHED',
      );
    }
    return { status: 201 };
  },
  { renderError: renderFieldopsError },
);

app.http(fieldopsUploadRoute.name, httpOptions(fieldopsUploadRoute, fieldopsUpload));
