/** Public types of the local Functions host (re-exported by local/host.ts). */

export interface HostOptions {
  /** 0 = pick a free port. */
  port: number;
  /** Default '127.0.0.1'. */
  hostname?: string;
  /** Absolute path (or file URL) of the module that registers every function; the host imports it. */
  functionsEntry: string;
  /** App settings, used to resolve binding expressions like '%SYNC_QUEUE_NAME%'. */
  settings: Record<string, string | undefined>;
  /** Default 'api' (host.json extensions.http.routePrefix). */
  routePrefix?: string;
  /**
   * Browser origins answered with CORS headers, preflights included (`*`, `https://app.example.com`, or
   * `http://localhost:*` for any port): what the Function App's platform CORS does in Azure. None when absent.
   */
  corsAllowedOrigins?: readonly string[];
  /** Delivers messages to Service Bus triggers; without it those functions are listed but not run. */
  queue?: QueueSubscriber;
  /**
   * Timer functions the caller runs itself, by name, with how often (e.g. `sweepOutbox: 'every minute'`):
   * listed with an info entry instead of the warning the host gives for a trigger it does not run.
   */
  timersRunByCaller?: Readonly<Record<string, string>>;
  /** One structured entry per invocation and lifecycle event; default writes JSON lines to stdout. */
  log?: (entry: Record<string, unknown>) => void;
}

/** One message handed to a Service Bus trigger. */
export interface QueueDelivery {
  body: unknown;
  messageId: string;
  deliveryCount: number;
  enqueuedTimeUtc: Date;
  applicationProperties: Record<string, unknown>;
  correlationId?: string;
  contentType?: string;
}

export interface QueueSubscriber {
  /**
   * Calls onMessage for each message of the queue; a resolved promise completes the message, a rejected
   * one abandons it (redelivery).
   */
  subscribe(
    queueName: string,
    onMessage: (message: QueueDelivery) => Promise<void>,
  ): Promise<{ stop(): Promise<void> }>;
}

export interface RegisteredFunction {
  name: string;
  trigger: 'http' | 'serviceBus' | string;
  /** Resolved route template (http), without the route prefix. */
  route?: string;
  /** Upper-case methods (http). */
  methods?: string[];
  /** Resolved queue name (serviceBus). */
  queueName?: string;
}

export interface FunctionsHost {
  /** e.g. http://127.0.0.1:7071/api */
  url: string;
  port: number;
  functions: RegisteredFunction[];
  stop(): Promise<void>;
}

export type HostLog = (entry: Record<string, unknown>) => void;
