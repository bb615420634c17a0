import { api } from './api.js';
import { h } from './dom.js';
import type { Photo, PhotoSummary } from './types.js';

/**
 * Thumbnails of attached photos, each opened through its read URL (GET /v1/photos/{photoId}: a read-only SAS
 * valid ≤ 15 minutes). The image loads from the storage account (allowed by the CSP's img-src).
 */
export function thumbnails(photos: PhotoSummary[], label: string): HTMLElement {
  const attached = photos.filter((p) => p.status === 'ATTACHED');
  const list = h('div', { class: 'thumbs', role: 'list', 'aria-label': label });
  if (attached.length === 0) list.append(h('p', { class: 'muted' }, 'No photos attached.'));
  for (const photo of attached) {
    const target = photo.target ? `${photo.target.type} ${photo.target.id}` : 'no target';
    const item = h('div', { role: 'listitem' }, h('span', { class: 'muted' }, 'Loading photo…'));
    list.append(item);
    void api<Photo>('GET', `v1/photos/${photo.photoId}`)
      .then((found) => {
        item.replaceChildren(
          h(
            'a',
            {
              href: found.readUrl,
              target: '_blank',
              rel: 'noopener noreferrer',
              'data-photo': photo.photoId,
            },
            h('img', { src: found.readUrl, alt: `Photo ${photo.photoId} on ${target}`, loading: 'lazy' }),
          ),
        );
      })
      .catch((error: unknown) => {
        item.replaceChildren(h('span', { class: 'muted' }, `Photo ${photo.photoId}: ${String(error)}`));
      });
  }
  return list;
}
