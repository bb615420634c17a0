/**
 * A tiny DOM builder: elements from tag, attributes and children, text always as text nodes (never HTML),
 * so nothing the API returns can inject markup. Attributes `on<event>` take listeners.
 */
type Child = Node | string | number | null | undefined | false;
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
  return element;
}

/** Replaces a container's content. */
export const mount = (container: Element, ...nodes: Node[]): void => container.replaceChildren(...nodes);

/**
 * A date-time for people, compact for tables: the time alone today, else with day and month (and year when
 * not this year); `seconds` adds seconds (batch and event times, where order within a minute matters);
 * '—' when absent.
 */
export function when(iso: string | null | undefined, options: { seconds?: boolean } = {}): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const now = new Date();
  const today = date.toDateString() === now.toDateString();
  const time: Intl.DateTimeFormatOptions = {
    hour: 'numeric',
    minute: '2-digit',
    ...(options.seconds ? { second: '2-digit' } : {}),
  };
  return today
    ? date.toLocaleTimeString(undefined, time)
    : date.toLocaleString(undefined, {
        ...(date.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
        month: 'short',
        day: 'numeric',
        ...time,
      });
}

/** A count with its noun in the right number: `plural(1, 'batch', 'batches')` → "1 batch". */
export const plural = (count: number, one: string, many = `${one}s`): string =>
  `${count} ${count === 1 ? one : many}`;

/** A value of a record field as text: JSON for objects, '—' for null/absent. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A labelled definition list. */
export const facts = (pairs: [string, Child][]): HTMLDListElement =>
  h('dl', { class: 'facts' }, pairs.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]).flat());

/** The page's status line (an ARIA live region): progress, results and errors are announced. */
export function say(message: string, kind: 'info' | 'error' = 'info'): void {
  const status = document.getElementById('status');
  if (!status) return;
  status.textContent = message;
  status.classList.toggle('error', kind === 'error');
}

/** A page title (h1), also set as the document title for screen readers and tabs. */
export function title(text: string): HTMLHeadingElement {
  document.title = `${text} · fieldsync console`;
  return h('h1', {}, text);
}
