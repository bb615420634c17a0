// The bench's cost counters (issue 17 item 4): Postgres statements, queue operations and Cosmos requests
// with their request charge, counted in the bench's own process(es) by wrapping the libraries' calls. The
// app's code is not changed: the wrappers go on the prototypes of pg.Client, the local queue and the Cosmos
// SDK's Item / Items / QueryIterator before the app makes its first call.
import { Item, Items, QueryIterator } from '@azure/cosmos';
import pg from 'pg';
import { LocalQueue } from '../shared/adapters/local-queue/pg-boss-queue.js';

/** Statements one process sent to one database. */
export interface StatementCounts {
  /** Every round trip that is not transaction control (one `query()` call = one statement). */
  statements: number;
  /** BEGIN / COMMIT / ROLLBACK (and SAVEPOINT): one transaction costs two of these. */
  transactionControl: number;
  /** Of `statements`, those on the local queue's pg-boss tables (Service Bus in Azure, so not a Postgres cost there). */
  queueTables: number;
}

/** Queue operations as Service Bus would bill them: one per message sent, received, completed, abandoned. */
export interface QueueCounts {
  /** send() calls (one batch each) and the messages they carried. */
  sendCalls: number;
  messagesSent: number;
  /** Scheduled (delayed) messages: a retry's back-off. */
  scheduled: number;
  /** Deliveries handed to a processor, and how they were settled. */
  received: number;
  completed: number;
  abandoned: number;
}

/** Cosmos requests of one kind (e.g. `item.read 200`, `items.create 409`) and the request charge reported. */
export interface CosmosCounts {
  requests: number;
  /** Sum of the responses' requestCharge (x-ms-request-charge). The local emulator reports 1 per request. */
  requestCharge: number;
}

/** Everything counted in one process since the last reset. Plain JSON (sent from workers over IPC). */
export interface CostSnapshot {
  /** Keyed by database name. */
  postgres: Record<string, StatementCounts>;
  queue: QueueCounts;
  /** Keyed by `<operation> <status code>`. */
  cosmos: Record<string, CosmosCounts>;
}

/** An empty snapshot. */
export function emptySnapshot(): CostSnapshot {
  return {
    postgres: {},
    queue: { sendCalls: 0, messagesSent: 0, scheduled: 0, received: 0, completed: 0, abandoned: 0 },
    cosmos: {},
  };
}

/** The sum of several snapshots (the main process and every worker). */
export function mergeSnapshots(snapshots: CostSnapshot[]): CostSnapshot {
  const total = emptySnapshot();
  for (const s of snapshots) {
    for (const [db, c] of Object.entries(s.postgres)) {
      const t = (total.postgres[db] ??= { statements: 0, transactionControl: 0, queueTables: 0 });
      t.statements += c.statements;
      t.transactionControl += c.transactionControl;
      t.queueTables += c.queueTables;
    }
    for (const key of Object.keys(total.queue) as (keyof QueueCounts)[]) total.queue[key] += s.queue[key];
    for (const [op, c] of Object.entries(s.cosmos)) {
      const t = (total.cosmos[op] ??= { requests: 0, requestCharge: 0 });
      t.requests += c.requests;
      t.requestCharge += c.requestCharge;
    }
  }
  return total;
}

let current = emptySnapshot();
/** Clients whose statements are not counted (the bench's own polling and baseline). */
const excluded = new WeakSet<object>();
let installed = false;

/** Returns what was counted since the last reset and starts counting from zero. */
export function takeSnapshot(): CostSnapshot {
  const taken = current;
  current = emptySnapshot();
  return taken;
}

/** What was counted since the last reset, without resetting (a live view for the bench's waits). */
export function peekSnapshot(): Readonly<CostSnapshot> {
  return current;
}

/** Deliveries handed to a handler in this process and not settled yet (not reset by takeSnapshot). */
let unsettled = 0;
export function unsettledDeliveries(): number {
  return unsettled;
}

/** A pool whose statements are never counted: for the bench's own queries. */
export function uncountedPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('connect', (client) => excluded.add(client));
  pool.on('error', () => {});
  return pool;
}

function statementText(args: unknown[]): string {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (typeof first === 'object' && first !== null && 'text' in first) return String(first.text);
  return '';
}

type AnyFn = (...args: unknown[]) => unknown;

/** Wraps `proto[name]` so every call reports its awaited outcome (or error) to `observe`. */
function wrapAsync(
  proto: object,
  name: string,
  observe: (self: unknown, args: unknown[], result: unknown, error: unknown) => void,
): void {
  const target = proto as Record<string, AnyFn>;
  const original = target[name];
  if (typeof original !== 'function') return;
  target[name] = function (this: unknown, ...args: unknown[]) {
    const out = original.apply(this, args);
    if (out instanceof Promise) {
      return out.then(
        (result: unknown) => {
          observe(this, args, result, undefined);
          return result;
        },
        (error: unknown) => {
          observe(this, args, undefined, error);
          throw error;
        },
      );
    }
    return out;
  };
}

function recordCosmos(operation: string, result: unknown, error: unknown): void {
  const source = (error ?? result) as
    | {
        statusCode?: number;
        code?: number | string;
        requestCharge?: number;
        headers?: Record<string, unknown>;
      }
    | undefined;
  const status = source?.statusCode ?? source?.code ?? (error ? 'error' : 200);
  const header = source?.headers?.['x-ms-request-charge'];
  const charge = Number(source?.requestCharge ?? header ?? 0);
  const key = `${operation} ${String(status)}`;
  const c = (current.cosmos[key] ??= { requests: 0, requestCharge: 0 });
  c.requests += 1;
  c.requestCharge += Number.isFinite(charge) ? charge : 0;
}

/**
 * Installs the counting wrappers once per process (idempotent). Call before the app makes its first
 * Postgres, queue or Cosmos call. Only the bench calls it.
 */
export function installCounters(): void {
  if (installed) return;
  installed = true;

  const clientProto = pg.Client.prototype as unknown as Record<string, AnyFn>;
  const query = clientProto.query as AnyFn;
  clientProto.query = function (this: pg.Client, ...args: unknown[]) {
    if (!excluded.has(this)) {
      const text = statementText(args).trimStart();
      const c = (current.postgres[this.database ?? '?'] ??= {
        statements: 0,
        transactionControl: 0,
        queueTables: 0,
      });
      if (/^(begin|commit|rollback|savepoint|release)\b/i.test(text)) c.transactionControl += 1;
      else {
        c.statements += 1;
        if (/\bpgboss\./i.test(text)) c.queueTables += 1;
      }
    }
    return query.apply(this, args);
  };

  const queueProto = LocalQueue.prototype as unknown as Record<string, AnyFn>;
  wrapAsync(LocalQueue.prototype, 'send', (_self, args, _result, error) => {
    if (error) return;
    const messages = args[0] as unknown[];
    if (messages.length === 0) return;
    current.queue.sendCalls += 1;
    current.queue.messagesSent += messages.length;
  });
  wrapAsync(LocalQueue.prototype, 'schedule', (_self, _args, _result, error) => {
    if (!error) current.queue.scheduled += 1;
  });
  const subscribe = queueProto.subscribe as AnyFn;
  queueProto.subscribe = function (this: unknown, path: unknown, onMessage: unknown) {
    const handler = onMessage as (message: unknown) => Promise<void>;
    return subscribe.call(this, path, async (message: unknown) => {
      current.queue.received += 1;
      unsettled += 1;
      try {
        await handler(message);
        current.queue.completed += 1;
      } catch (error) {
        current.queue.abandoned += 1;
        throw error;
      } finally {
        unsettled -= 1;
      }
    });
  };

  for (const name of ['read', 'replace', 'patch', 'delete']) {
    wrapAsync(Item.prototype, name, (_s, _a, result, error) => recordCosmos(`item.${name}`, result, error));
  }
  for (const name of ['create', 'upsert', 'batch']) {
    wrapAsync(Items.prototype, name, (_s, _a, result, error) => recordCosmos(`items.${name}`, result, error));
  }
  for (const name of ['fetchAll', 'fetchNext']) {
    wrapAsync(QueryIterator.prototype, name, (_s, _a, result, error) =>
      recordCosmos(`query.${name}`, result, error),
    );
  }
}

const per1000 = (n: number, events: number) => (events > 0 ? (n * 1000) / events : 0);
const one = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * The cost lines the bench prints for a snapshot: per 1,000 events, Postgres statements per database
 * (labels give the tenant and control database names a role), queue operations, Cosmos requests and
 * request charge by operation. Pure: the shape is checked by a unit test.
 */
export function formatCosts(
  snapshot: CostSnapshot,
  events: number,
  labels: Record<string, string>,
  heading: string,
): string[] {
  const lines = [`cost per 1,000 events, ${heading} (${events.toLocaleString('en-US')} events counted):`];
  const dbs = Object.entries(snapshot.postgres).sort(([a], [b]) => a.localeCompare(b));
  for (const [db, c] of dbs) {
    const queue = c.queueTables > 0 ? ` (${one(per1000(c.queueTables, events))} on the queue's tables)` : '';
    lines.push(
      `  postgres ${labels[db] ?? db}: ${one(per1000(c.statements, events))} statements${queue} + ${one(per1000(c.transactionControl, events))} BEGIN/COMMIT`,
    );
  }
  if (dbs.length === 0) lines.push('  postgres: none');
  const q = snapshot.queue;
  lines.push(
    `  queue: ${one(per1000(q.messagesSent, events))} messages sent in ${one(per1000(q.sendCalls, events))} send calls, ${one(per1000(q.scheduled, events))} scheduled, ${one(per1000(q.received, events))} received, ${one(per1000(q.completed, events))} completed, ${one(per1000(q.abandoned, events))} abandoned`,
  );
  const ops = Object.entries(snapshot.cosmos).sort(([a], [b]) => a.localeCompare(b));
  const total = ops.reduce((sum, [, c]) => sum + c.requests, 0);
  const charge = ops.reduce((sum, [, c]) => sum + c.requestCharge, 0);
  lines.push(
    `  cosmos: ${one(per1000(total, events))} requests, ${one(per1000(charge, events))} RU reported` +
      (ops.length > 0
        ? ` — ${ops.map(([op, c]) => `${op} ×${one(per1000(c.requests, events))}`).join(', ')}`
        : ''),
  );
  return lines;
}
