/**
 * The relay of the transactional outbox (docs/architecture.md "Push pipeline"). A push or a retry commits its
 * events together with outbox rows (chunk messages for the queue, the device's push for its status in
 * Cosmos); the relay delivers those rows after the commit and deletes them. `relayOutbox` runs in-process
 * right after the commit; `sweepOutbox` takes the rows a crash or an outage left (their lease ran out).
 * A row delivered twice is harmless: the queue drops a MessageId it has seen (Service Bus duplicate
 * detection, the local queue's dedupe window), the processor applies only PENDING events, and a device's
 * push is a set of fields.
 */
import type { Logger } from '../logger.js';
import type { DeviceStatusStore } from './ports/devices.js';
import type { EventQueue } from './ports/queue.js';
import type { OutboxEntry, OutboxStore } from './ports/event-log.js';
import type { Tenant, TenantRegistry } from './ports/tenancy.js';
import { describeError } from '../redact.js';
import { failedTenants, forEachTenant, type TenantJobResult } from './each-tenant.js';

/** What the relay needs: where chunk messages go, where device pushes go, and the outbox table. */
export interface RelayDeps {
  queue: EventQueue;
  devices: Pick<DeviceStatusStore, 'recordPush'>;
  outbox: OutboxStore;
  log?: Logger;
}

/** How a relay pass went: rows delivered and deleted, and rows left for the sweep. */
export interface RelayCounts {
  delivered: number;
  left: number;
}

/**
 * Delivers `entries` of `tenant` and deletes those delivered. All chunk messages go in one queue send (all or
 * nothing); each device push is its own Cosmos write; they run side by side. Never throws: a row not
 * delivered (or delivered but not deleted) stays, and the sweep delivers it once its lease has run out.
 * With `deleteInBackground` (the push and retry routes) it returns once delivered and deletes afterwards: the
 * delete is bookkeeping, and under load it waits for a pooled connection behind other requests (measured
 * 40–700 ms of a 20-push bench).
 */
export async function relayOutbox(
  deps: RelayDeps,
  tenant: Tenant,
  entries: OutboxEntry[],
  options: { deleteInBackground?: boolean } = {},
): Promise<RelayCounts> {
  if (entries.length === 0) return { delivered: 0, left: 0 };
  const chunks = entries.flatMap((e) =>
    e.entry.kind === 'chunk' ? [{ id: e.id, message: e.entry.message }] : [],
  );
  const pushes = entries.flatMap((e) =>
    e.entry.kind === 'device-push' ? [{ id: e.id, push: e.entry.push }] : [],
  );
  const results = await Promise.allSettled([
    chunks.length
      ? deps.queue.send(chunks.map((c) => c.message)).then(() => chunks.map((c) => c.id))
      : Promise.resolve([]),
    ...pushes.map((p) => deps.devices.recordPush(tenant.id, p.push).then(() => [p.id])),
  ]);
  const delivered = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length) {
    deps.log?.warn(
      { tenantId: tenant.id, left: entries.length - delivered.length, err: describeError(failures[0]) },
      'outbox relay: delivery failed, left for the sweep',
    );
  }
  // Delivered but not deleted (a failure, a crash): the sweep sends them again later, and the copy is dropped.
  const removal = deps.outbox
    .remove(tenant, delivered)
    .catch((error: unknown) =>
      deps.log?.warn({ tenantId: tenant.id, err: describeError(error) }, 'outbox relay: delete failed'),
    );
  if (!options.deleteInBackground) await removal;
  return { delivered: delivered.length, left: entries.length - delivered.length };
}

/** Rows one sweep leases at a time, and how long it holds them while delivering. */
const SWEEP_PAGE = 100;
const SWEEP_LEASE_SECONDS = 60;

/**
 * One tenant's sweep: leases the rows whose lease has run out (a page at a time, one UPDATE … RETURNING each,
 * so two instances never hold the same row), delivers them outside any transaction and deletes them. Stops at
 * a page that delivered nothing (the dependency is still down: the rows wait for the next run) or after
 * `maxPages`. Throws only when Postgres refuses the lease.
 */
export async function sweepOutbox(
  deps: RelayDeps,
  tenant: Tenant,
  options: { maxPages?: number } = {},
): Promise<RelayCounts> {
  const totals: RelayCounts = { delivered: 0, left: 0 };
  for (let page = 0; page < (options.maxPages ?? 50); page += 1) {
    const entries = await deps.outbox.claimStale(tenant, SWEEP_PAGE, SWEEP_LEASE_SECONDS);
    const counts = await relayOutbox(deps, tenant, entries);
    totals.delivered += counts.delivered;
    totals.left += counts.left;
    if (entries.length < SWEEP_PAGE || counts.delivered === 0) break;
  }
  if (totals.delivered || totals.left) deps.log?.info({ tenantId: tenant.id, ...totals }, 'outbox swept');
  return totals;
}

/**
 * Sweeps every tenant's outbox (the timer sweepOutbox, and the local host at start-up), each tenant isolated
 * (forEachTenant): one tenant's failure is logged and the others are still swept.
 */
export async function sweepOutboxes(
  deps: RelayDeps & { tenants: TenantRegistry; log: Logger },
): Promise<RelayCounts & { tenants: TenantJobResult<RelayCounts>[] }> {
  const results = await forEachTenant(deps, 'sweepOutbox', (tenant) => sweepOutbox(deps, tenant));
  const failed = failedTenants(results);
  if (failed.length) deps.log.error({ failed }, 'outbox sweep failed for some tenants');
  const sum = (key: keyof RelayCounts) => results.reduce((n, r) => n + (r.ok ? r.value[key] : 0), 0);
  return { delivered: sum('delivered'), left: sum('left'), tenants: results };
}
