import type {
  AlertMark,
  NewOutboxMessage,
  OutboxRecord,
  QueryAlertRecord,
  QueryStore,
  SavedQueryRecord,
} from '../../store/catalog/queries.ts';
import type { Stores } from '../../store/stores.ts';
import type { Clock } from '../clock.ts';
import type { Config, Ctx } from '../context.ts';
import type { ThreatEventView } from '../events/events.ts';
import { type ListEventsInput, listEvents } from '../events/list.ts';
import type { IdGenerator } from '../ids.ts';
import { FREQUENCY_MS } from './alerts.ts';
import { parseQueryJson } from './queries.ts';

/** A webhook POST about to be sent. */
export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** An email about to be sent. The idempotency key also makes its Message-ID. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  idempotencyKey: string;
}

/**
 * How alert messages leave the process. Each method resolves once the receiver accepted the
 * message (2xx, or SMTP 250 after DATA) and throws otherwise. Webhooks can go through web
 * `fetch` (`fetchWebhook`); email needs a runtime-specific SMTP client.
 */
export interface AlertTransport {
  webhook(request: WebhookRequest, signal: AbortSignal): Promise<void>;
  email(message: EmailMessage, signal: AbortSignal): Promise<void>;
}

/** Tunables of delivery. */
export interface DeliveryOptions {
  /** Attempts per message before it is marked failed. */
  maxAttempts: number;
  /** Delay before the second attempt; doubled for each one after. */
  retryBaseMs: number;
  /**
   * Only events created at least this long ago are picked up, so an event whose write was
   * still in flight (stamped earlier, committed later) is not skipped by the mark.
   */
  settleMs: number;
  /** Events in one rollup message at most (a larger batch becomes several messages). */
  maxEventsPerMessage: number;
  /** Events one alert picks up per run at most; the rest follow on the next tick. */
  maxEventsPerRun: number;
}

export const defaultDeliveryOptions: DeliveryOptions = {
  maxAttempts: 5,
  retryBaseMs: 2_000,
  settleMs: 1_000,
  maxEventsPerMessage: 500,
  maxEventsPerRun: 10_000,
};

export interface DeliveryDeps {
  stores: Stores;
  clock: Clock;
  ids: IdGenerator;
  config: Config;
  transport: AlertTransport;
  options?: Partial<DeliveryOptions>;
  /** Where problems of a run are reported (a run never throws for one alert's trouble). */
  log?: (entry: Record<string, unknown>) => void;
}

/** What one run did. */
export interface RunSummary {
  /** Messages written to the outbox. */
  queued: number;
  /** Messages a receiver accepted. */
  delivered: number;
  /** Attempts that failed (the message is retried later, or marked failed after the last). */
  failedAttempts: number;
}

/** The JSON body of a webhook, and what an email carries. */
export interface AlertPayload {
  alert_id: number;
  query_id: number;
  query_name: string;
  events: ThreatEventView[];
}

/** How long an alert whose query cannot run waits before the next try. */
const QUERY_FAILURE_DELAY_MS = 60_000;

const hex = (bytes: ArrayBuffer): string => {
  let out = '';
  for (const b of new Uint8Array(bytes)) out += b.toString(16).padStart(2, '0');
  return out;
};

/** `sha256=<hex HMAC-SHA256 of body keyed with secret>`, the X-Threatdesk-Signature value. */
export async function signBody(secret: string, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    enc.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return `sha256=${hex(await crypto.subtle.sign('HMAC', key, enc.encode(body)))}`;
}

/** Sends webhooks with web `fetch`; a non-2xx answer or a network error throws. */
export function fetchWebhook(timeoutMs: number): AlertTransport['webhook'] {
  return async (request, signal) => {
    const res = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    await res.body?.cancel();
    if (res.status < 200 || res.status > 299) throw new Error(`webhook answered HTTP ${res.status}`);
  };
}

/** (createdAt, uuid) order: the order events are delivered in. */
function after(a: AlertMark, b: AlertMark): boolean {
  return a.createdMs > b.createdMs || (a.createdMs === b.createdMs && a.uuid > b.uuid);
}

/**
 * Delivers saved-query alerts. Each run, per alert: first resend the messages still pending in
 * the outbox (same idempotency key, same bytes); then, when the alert is due, find the events
 * created after its mark that match the saved query, write them as messages to the outbox and
 * move the mark in the same transaction, and send them. A message is marked delivered only
 * after the receiver accepted it, so a crash or stop at any point loses nothing and a resend
 * carries the key the receiver already saw.
 *
 * Runs of one instance never overlap: a call made while one is going waits for it.
 */
export class AlertDelivery {
  private readonly options: DeliveryOptions;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: DeliveryDeps) {
    this.options = { ...defaultDeliveryOptions, ...deps.options };
  }

  /** Runs every due alert of every account (or of the accounts named). */
  runDueAlerts(options: { signal?: AbortSignal; accountIds?: readonly string[] } = {}): Promise<RunSummary> {
    const run = this.running.then(() => this.runAll(options));
    this.running = run.catch(() => undefined);
    return run;
  }

  private async runAll(options: {
    signal?: AbortSignal;
    accountIds?: readonly string[];
  }): Promise<RunSummary> {
    const signal = options.signal ?? new AbortController().signal;
    const summary: RunSummary = { queued: 0, delivered: 0, failedAttempts: 0 };
    const accounts = options.accountIds ?? this.deps.stores.system.accountIds();
    for (const accountId of accounts) {
      if (signal.aborted) break;
      const store = this.deps.stores.queries(accountId);
      const alerts = store.listAlerts();
      // Alerts of one account run side by side, so one slow receiver does not hold up the others.
      await Promise.all(
        alerts.map(async (alert) => {
          try {
            await this.runAlert(accountId, store, alert, summary, signal);
          } catch (err) {
            this.deps.log?.({
              msg: 'alert run failed',
              accountId,
              alertId: alert.id,
              error: err instanceof Error ? err.message : String(err),
            });
          }
        }),
      );
    }
    return summary;
  }

  private async runAlert(
    accountId: string,
    store: QueryStore,
    alert: QueryAlertRecord,
    summary: RunSummary,
    signal: AbortSignal,
  ): Promise<void> {
    const query = store.getQuery(alert.queryId);
    if (!query) return;
    if (!(await this.sendPending(store, alert, summary, signal))) return;
    const now = this.deps.clock.now();
    if (!alert.enabled || !query.alertEnabled || now < alert.nextRunAt || signal.aborted) return;

    const ctx = this.ctx(accountId);
    let found: { events: ThreatEventView[]; complete: boolean };
    try {
      found = await this.collect(ctx, query, alert.mark, now - this.options.settleMs);
    } catch (err) {
      // E.g. a dataset the query names was deleted: report it, and try again later rather than every tick.
      store.enqueue(
        alert.id,
        alert.mark,
        { mark: alert.mark, nextRunAt: now + QUERY_FAILURE_DELAY_MS },
        [],
        now,
      );
      throw err;
    }
    const { events, complete } = found;
    const last = events[events.length - 1];
    const mark = last ? { createdMs: Date.parse(last.createdAt), uuid: last.uuid } : alert.mark;
    const nextRunAt = complete ? now + FREQUENCY_MS[alert.frequency] : now;
    const messages = this.plan(accountId, alert, query, events);
    if (!store.enqueue(alert.id, alert.mark, { mark, nextRunAt }, messages, now)) return;
    summary.queued += messages.length;
    if (messages.length > 0) await this.sendPending(store, alert, summary, signal);
  }

  private ctx(accountId: string): Ctx {
    const { stores, clock, ids, config } = this.deps;
    return {
      accountId,
      permission: 'read',
      tokenId: 'alert-delivery',
      email: null,
      clock,
      ids,
      stores,
      config,
    };
  }

  /** The query's events created after the mark and before `upTo`, in (createdAt, uuid) order. */
  private async collect(
    ctx: Ctx,
    query: SavedQueryRecord,
    mark: AlertMark,
    upTo: number,
  ): Promise<{ events: ThreatEventView[]; complete: boolean }> {
    const params = parseQueryJson(query.queryJson);
    const pageSize = Math.min(1_000, this.options.maxEventsPerRun);
    const first: ListEventsInput = {
      datasetId: params.datasetId,
      search: [
        ...(params.search ?? []),
        { field: 'createdAt', op: 'gte', value: new Date(mark.createdMs).toISOString() },
        { field: 'createdAt', op: 'lte', value: new Date(upTo).toISOString() },
      ],
      order: 'asc',
      orderBy: 'createdAt',
      pageSize,
    };
    const out: ThreatEventView[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await listEvents(ctx, cursor === undefined ? first : { cursor, pageSize });
      for (const e of page.events) {
        if (after({ createdMs: Date.parse(e.createdAt), uuid: e.uuid }, mark)) out.push(e);
        if (out.length >= this.options.maxEventsPerRun) return { events: out, complete: false };
      }
      cursor = page.resultInfo.cursor;
      if (!cursor || page.events.length === 0) return { events: out, complete: true };
    }
  }

  /** One message per event, or rollups of up to maxEventsPerMessage when the query says so. */
  private plan(
    accountId: string,
    alert: QueryAlertRecord,
    query: SavedQueryRecord,
    events: readonly ThreatEventView[],
  ): NewOutboxMessage[] {
    const groups: ThreatEventView[][] = [];
    if (query.alertRollupEnabled) {
      for (let i = 0; i < events.length; i += this.options.maxEventsPerMessage) {
        groups.push(events.slice(i, i + this.options.maxEventsPerMessage));
      }
    } else {
      for (const e of events) groups.push([e]);
    }
    return groups.flatMap((group) => {
      const head = group[0];
      if (!head) return [];
      const payload: AlertPayload = {
        alert_id: alert.id,
        query_id: query.id,
        query_name: query.name,
        events: group,
      };
      // Derived from the content, so the key of a message never depends on when it was planned.
      const kind = query.alertRollupEnabled ? 'rollup' : 'event';
      return [
        {
          idempotencyKey: `${accountId}-alert${alert.id}-${kind}-${head.uuid}`,
          eventUuids: group.map((e) => e.uuid),
          payload: JSON.stringify(payload),
        },
      ];
    });
  }

  /**
   * Sends the alert's pending messages in order. Answers true when none is left pending; stops
   * at the first that fails (it is retried with backoff) or is not due yet.
   */
  private async sendPending(
    store: QueryStore,
    alert: QueryAlertRecord,
    summary: RunSummary,
    signal: AbortSignal,
  ): Promise<boolean> {
    for (const message of store.pending(alert.id)) {
      if (signal.aborted || message.nextAttemptAt > this.deps.clock.now()) return false;
      const attempts = message.attempts + 1;
      try {
        await this.send(alert, message, signal);
      } catch (err) {
        // A stop in the middle is not the receiver's fault: the message stays pending as it was.
        if (signal.aborted) return false;
        summary.failedAttempts++;
        const giveUp = attempts >= this.options.maxAttempts;
        store.markAttempt(message.id, {
          attempts,
          error: err instanceof Error ? err.message : String(err),
          status: giveUp ? 'failed' : 'pending',
          nextAttemptAt: this.deps.clock.now() + this.options.retryBaseMs * 2 ** (attempts - 1),
        });
        if (!giveUp) return false;
        continue;
      }
      store.markDelivered(message.id, alert.id, attempts, this.deps.clock.now());
      summary.delivered++;
    }
    return true;
  }

  private async send(alert: QueryAlertRecord, message: OutboxRecord, signal: AbortSignal): Promise<void> {
    if (alert.notificationType === 'webhook') {
      if (!alert.webhookUrl) throw new Error('the alert has no webhook_url');
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'idempotency-key': message.idempotencyKey,
        'user-agent': 'threatdesk-alerts',
      };
      if (alert.webhookSecret)
        headers['x-threatdesk-signature'] = await signBody(alert.webhookSecret, message.payload);
      await this.deps.transport.webhook({ url: alert.webhookUrl, body: message.payload, headers }, signal);
      return;
    }
    if (!alert.recipient) throw new Error('the alert has no recipient');
    const payload = JSON.parse(message.payload) as AlertPayload;
    await this.deps.transport.email(
      {
        to: alert.recipient,
        subject: `threatdesk alert: ${payload.query_name} (${payload.events.length} new event${payload.events.length === 1 ? '' : 's'})`,
        text: renderEmail(payload, message.idempotencyKey),
        idempotencyKey: message.idempotencyKey,
      },
      signal,
    );
  }
}

/** The plain-text body of an alert email: a line per event, then the events as JSON. */
export function renderEmail(payload: AlertPayload, idempotencyKey: string): string {
  const lines = [
    `Saved query "${payload.query_name}" (id ${payload.query_id}) matched ${payload.events.length} new event(s).`,
    '',
    ...payload.events.map((e) => `- ${e.createdAt}  ${e.uuid}  ${e.event}`),
    '',
    `Alert ${payload.alert_id}, message ${idempotencyKey}.`,
    '',
    'The events as JSON:',
    JSON.stringify(payload.events, null, 2),
    '',
  ];
  return lines.join('\n');
}
