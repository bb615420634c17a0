import { api } from './api.js';
import { h } from './dom.js';
import type { Photo, PhotoSummary } from './types.js';

/**
 * Thumbnails of attached photos, each opened through its read URL (GET /v1/photos/{photoId}: a read-only SAS
 * valid ≤ 15 minutes). The image loads from the storage account (allowed by the CSP's img-src).
 *
 * Why paced (docs/console.md "Photos and the rate limit"): every read URL is one request of the manager's
 * "other" budget (10 a second by default). A page with 20 photos that asked for all of them at once got 429s
 * and blank thumbnails. So a read URL is asked for only when its thumbnail comes near the viewport, at most
 * PHOTO_READS_IN_FLIGHT at a time and at most PHOTO_READS_PER_SECOND started in any second (half the default
 * budget, leaving the rest to the page's other calls); a 429 that still happens is retried once (api.ts).
 */

/** Read-URL requests in flight at most. */
export const PHOTO_READS_IN_FLIGHT = 4;
/** Read-URL requests started in any 1000 ms at most. */
export const PHOTO_READS_PER_SECOND = 5;

/**
 * A small scheduler: runs tasks in order, at most `inFlight` at a time and at most `perSecond` started
 * within any 1000 ms (a sliding window, so no fixed one-second window on the server sees more).
 */
export function pacer(inFlight: number, perSecond: number): <T>(task: () => Promise<T>) => Promise<T> {
  const queue: (() => void)[] = [];
  const starts: number[] = [];
  let running = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = () => {
    timer = undefined;
    while (queue.length > 0 && running < inFlight) {
      const now = performance.now();
      while (starts.length > 0 && now - (starts[0] ?? 0) >= 1000) starts.shift();
      if (starts.length >= perSecond) {
        timer ??= setTimeout(pump, 1000 - (now - (starts[0] ?? now)) + 5);
        return;
      }
      starts.push(now);
      running += 1;
      queue.shift()?.();
    }
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            running -= 1;
            pump();
          });
      });
      pump();
    });
}

/** One pacer for the whole console: pages replace each other, the budget is the user's. */
const paced = pacer(PHOTO_READS_IN_FLIGHT, PHOTO_READS_PER_SECOND);

/** Loads one thumbnail into its list item (through the pacer). */
function load(item: HTMLElement, photo: PhotoSummary, target: string): void {
  item.replaceChildren(h('span', { class: 'muted' }, 'Loading photo…'));
  void paced(() => api<Photo>('GET', `v1/photos/${photo.photoId}`))
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
          h('img', { src: found.readUrl, alt: `Photo ${photo.photoId} on ${target}` }),
        ),
      );
    })
    .catch((error: unknown) => {
      item.replaceChildren(
        h('span', { class: 'muted' }, `Photo ${photo.photoId}: ${String(error)} `),
        h(
          'button',
          { type: 'button', class: 'secondary', onclick: () => load(item, photo, target) },
          'Try again',
        ),
      );
    });
}

export function thumbnails(photos: PhotoSummary[], label: string): HTMLElement {
  const attached = photos.filter((p) => p.status === 'ATTACHED');
  const list = h('div', { class: 'thumbs', role: 'list', 'aria-label': label });
  if (attached.length === 0) list.append(h('p', { class: 'muted' }, 'No photos attached.'));
  // Lazy: a thumbnail asks for its read URL when it comes within 200 px of the viewport.
  const observer =
    typeof IntersectionObserver === 'undefined'
      ? undefined
      : new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (!entry.isIntersecting) continue;
              observer?.unobserve(entry.target);
              (entry.target as HTMLElement & { fieldsyncLoad?: () => void }).fieldsyncLoad?.();
            }
          },
          { rootMargin: '200px' },
        );
  for (const photo of attached) {
    const target = photo.target ? `${photo.target.type} ${photo.target.id}` : 'no target';
    const item = h(
      'div',
      { role: 'listitem', class: 'thumb', 'data-photo-item': photo.photoId },
      h('span', { class: 'muted' }, 'Photo (loads when shown)'),
    );
    list.append(item);
    if (observer) {
      (item as HTMLElement & { fieldsyncLoad?: () => void }).fieldsyncLoad = () => load(item, photo, target);
      observer.observe(item);
    } else {
      load(item, photo, target);
    }
  }
  return list;
}
