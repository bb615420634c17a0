import { app } from '@azure/functions';
import { photoUploadUrlsRoute } from '../shared/contracts/photos.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { checkDeviceAccess } from '../shared/usecases/device-access.js';
import { issueUploadUrls, photoDeps } from '../shared/usecases/photos.js';

export const photoUploadUrls = endpoint(
  photoUploadUrlsRoute,
  async ({ app: fieldsync, tenant, principal, body }) => {
    // Photos are recorded for the device (its status counts them): only as one's own device, as for push.
    if (body.deviceId) {
      await checkDeviceAccess(fieldsync.devices, tenant, principal, body.deviceId, 'act');
    }
    return {
      status: 200,
      body: await issueUploadUrls(photoDeps(fieldsync), tenant, principal, body),
    };
  },
);

app.http(photoUploadUrlsRoute.name, httpOptions(photoUploadUrlsRoute, photoUploadUrls));
