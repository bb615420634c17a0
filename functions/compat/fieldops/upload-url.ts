import { randomUUID } from 'node:crypto';
import { app } from '@azure/functions';
import { deviceIdFor, uploadContentType } from '../../../shared/compat/fieldops/mapping.js';
import { fieldopsUploadUrlRoute } from '../../../shared/compat/fieldops/routes.js';
import { encodeUploadToken } from '../../../shared/compat/fieldops/upload-token.js';
import { renderFieldopsError } from '../../../shared/compat/fieldops/wire.js';
import { MAX_PHOTO_BYTES } from '../../../shared/contracts/events.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { checkDeviceAccess } from '../../../shared/usecases/device-access.js';
import { issueUploadUrls, photoDeps, requireLiveEquipment } from '../../../shared/usecases/photos.js';

/**
 * Document 003 `POST /equipment/:id/photos/upload-url` over POST /v1/photos/upload-urls' use case: one new
 * photo id, recorded for the device, and an upload URL of
 * ours (PUT uploads/{token}, ./upload.ts) that takes the document's plain PUT. The document declares no size: the limit (10 MiB) is
 * recorded, and the attach declares the size really uploaded (docs/compat/fieldops.md). Unknown or deleted
 * equipment: 404, no URL.
 */
export const fieldopsUploadUrl = endpoint(
  fieldopsUploadUrlRoute,
  async ({ app: fieldsync, tenant, principal, params, query, request }) => {
    const deviceId = deviceIdFor(principal, request.headers.get('x-device-id'));
    const contentType = uploadContentType(query);
    await checkDeviceAccess(fieldsync.devices, tenant, principal, deviceId, 'act');
    // No SAS for equipment that does not exist (404 in the document's Nest body): nothing recorded, nothing signed.
    await requireLiveEquipment(fieldsync, tenant, params.id);
    const photoId = randomUUID();
    const { uploads } = await issueUploadUrls(photoDeps(fieldsync), tenant, principal, {
      deviceId,
      photos: [{ photoId, contentType, sizeBytes: MAX_PHOTO_BYTES }],
    });
    const upload = uploads[0];
    if (!upload) throw new Error('a new photo id got no upload URL');
    // The client PUTs only Content-Type: Blob Storage would refuse that (no x-ms-blob-type), so the URL is ours,
    // signed for this one blob until the SAS would have expired (upload-token.ts; docs/compat/fieldops.md).
    const token = encodeUploadToken(
      {
        v: 1,
        t: tenant.id,
        p: upload.photoId,
        b: upload.blobName,
        c: contentType,
        e: Date.parse(upload.expiresAt),
      },
      await fieldsync.pull.cursorKey(tenant),
    );
    return {
      status: 200,
      body: {
        uploadUrl: new URL(`/api/compat/fieldops/uploads/${token}`, request.url).toString(),
        blobName: upload.blobName,
        expiresAt: upload.expiresAt,
        photoId: upload.photoId,
        method: upload.method,
        headers: { 'content-type': contentType },
      },
    };
  },
  { renderError: renderFieldopsError },
);

app.http(fieldopsUploadUrlRoute.name, httpOptions(fieldopsUploadUrlRoute, fieldopsUploadUrl));
