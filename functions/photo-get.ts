import { app } from '@azure/functions';
import { getPhotoRoute } from '../shared/contracts/photos.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { getPhoto, photoDeps } from '../shared/usecases/photos.js';

export const getPhotoById = endpoint(getPhotoRoute, async ({ app: fieldsync, tenant, params }) => ({
  status: 200,
  body: await getPhoto(photoDeps(fieldsync), tenant, params.photoId),
}));

app.http(getPhotoRoute.name, httpOptions(getPhotoRoute, getPhotoById));
