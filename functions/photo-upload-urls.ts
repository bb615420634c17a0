import { app } from '@azure/functions';
import { photoUploadUrlsRoute } from '../shared/contracts/photos.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { issueUploadUrls, photoDeps } from '../shared/usecases/photos.js';

export const photoUploadUrls = endpoint(
  photoUploadUrlsRoute,
  async ({ app: fieldsync, tenant, principal, body }) => ({
    status: 200,
    body: await issueUploadUrls(photoDeps(fieldsync), tenant, principal, body),
  }),
);

app.http(photoUploadUrlsRoute.name, httpOptions(photoUploadUrlsRoute, photoUploadUrls));
