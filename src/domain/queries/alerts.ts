import type {
  AlertFrequency,
  NotificationType,
  OutboxRecord,
  QueryAlertFields,
  QueryAlertRecord,
} from '../../store/catalog/queries.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { invalidInput, notFound } from '../errors.ts';
import { accountNumber } from './queries.ts';

export const NOTIFICATION_TYPES = ['email', 'webhook'] as const satisfies readonly NotificationType[];
export const FREQUENCIES = [
  'immediate',
  'hourly',
  'daily',
  'weekly',
] as const satisfies readonly AlertFrequency[];

/** How long after a run the next one of each frequency is due; `immediate` runs on every tick. */
export const FREQUENCY_MS: Readonly<Record<AlertFrequency, number>> = {
  immediate: 0,
  hourly: 3_600_000,
  daily: 86_400_000,
  weekly: 604_800_000,
};

/** An alert as the API returns it (C0.5 plus threatdesk's delivery fields). */
export interface QueryAlertView {
  id: number;
  account_id: number;
  query_id: number;
  notification_type: NotificationType;
  frequency: AlertFrequency;
  enabled: boolean;
  webhook_url: string | null;
  /** The secret itself is never answered. */
  has_webhook_secret: boolean;
  recipient: string | null;
  user_email: string;
  last_sent_at: string | null;
  created_at: string;
  updated_at: string;
}

/** E33 body. */
export interface QueryAlertInput {
  query_id: number;
  notification_type: NotificationType;
  frequency?: AlertFrequency | undefined;
  enabled?: boolean | undefined;
  webhook_url?: string | null | undefined;
  webhook_secret?: string | null | undefined;
  recipient?: string | null | undefined;
}

/** E35/E36 body: any of E33's fields. */
export type QueryAlertEdit = Partial<QueryAlertInput>;

/** One message of an alert's delivery log. */
export interface DeliveryView {
  id: number;
  created_at: string;
  status: OutboxRecord['status'];
  attempts: number;
  event_count: number;
  event_uuids: string[];
  error: string | null;
  idempotency_key: string;
  delivered_at: string | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

export function toAlertView(ctx: Ctx, a: QueryAlertRecord): QueryAlertView {
  return {
    id: a.id,
    account_id: accountNumber(ctx.accountId),
    query_id: a.queryId,
    notification_type: a.notificationType,
    frequency: a.frequency,
    enabled: a.enabled,
    webhook_url: a.webhookUrl,
    has_webhook_secret: a.webhookSecret !== null,
    recipient: a.recipient,
    user_email: a.userEmail,
    last_sent_at: a.lastSentAt === null ? null : iso(a.lastSentAt),
    created_at: iso(a.createdAt),
    updated_at: iso(a.updatedAt),
  };
}

function mustGet(ctx: Ctx, id: number): QueryAlertRecord {
  const found = ctx.stores.queries(ctx.accountId).getAlert(id);
  if (!found) throw notFound('query alert', id);
  return found;
}

/** Checks the merged fields of an alert; answers them with the recipient resolved. */
function checkAlert(ctx: Ctx, fields: QueryAlertFields): QueryAlertFields {
  const issues: string[] = [];
  if (!ctx.stores.queries(ctx.accountId).getQuery(fields.queryId)) {
    issues.push(`query_id: no saved query ${fields.queryId} in this account`);
  }
  const out = { ...fields };
  if (fields.notificationType === 'webhook') {
    if (!fields.webhookUrl) {
      issues.push('webhook_url: required when notification_type is "webhook"');
    } else {
      let url: URL | undefined;
      try {
        url = new URL(fields.webhookUrl);
      } catch {
        issues.push(`webhook_url: not a URL: ${JSON.stringify(fields.webhookUrl)}`);
      }
      if (url && url.protocol !== 'http:' && url.protocol !== 'https:') {
        issues.push(`webhook_url: must be an http or https URL, got ${url.protocol.replace(/:$/, '')}`);
      }
    }
    out.recipient = null;
  } else {
    out.recipient = fields.recipient ?? ctx.email;
    if (!out.recipient) {
      issues.push('recipient: required for email alerts when the API token has no email');
    } else if (!EMAIL.test(out.recipient)) {
      issues.push(`recipient: not an email address: ${JSON.stringify(out.recipient)}`);
    }
    out.webhookUrl = null;
    out.webhookSecret = null;
  }
  if (issues.length > 0) throw invalidInput(issues);
  return out;
}

/** E32: every alert of the account. */
export function listQueryAlerts(ctx: Ctx): QueryAlertView[] {
  return ctx.stores
    .queries(ctx.accountId)
    .listAlerts()
    .map((a) => toAlertView(ctx, a));
}

/** E34 */
export function getQueryAlert(ctx: Ctx, id: number): QueryAlertView {
  return toAlertView(ctx, mustGet(ctx, id));
}

/**
 * E33: subscribes to a saved query. The alert delivers events created from now on (its mark
 * starts at the creation time); `immediate` alerts run on the scheduler's next tick, the others
 * one period after creation.
 */
export function createQueryAlert(ctx: Ctx, input: QueryAlertInput): QueryAlertView {
  requireWrite(ctx);
  const frequency = input.frequency ?? 'immediate';
  const fields = checkAlert(ctx, {
    queryId: input.query_id,
    notificationType: input.notification_type,
    frequency,
    enabled: input.enabled ?? true,
    webhookUrl: input.webhook_url ?? null,
    webhookSecret: input.webhook_secret ?? null,
    recipient: input.recipient ?? null,
  });
  const now = ctx.clock.now();
  const store = ctx.stores.queries(ctx.accountId);
  const id = store.insertAlert(
    fields,
    {
      userEmail: ctx.email ?? '',
      mark: { createdMs: now, uuid: '' },
      nextRunAt: now + FREQUENCY_MS[frequency],
    },
    now,
  );
  return toAlertView(ctx, mustGet(ctx, id));
}

/** E35/E36: changes the fields given. A new frequency counts its period from now. */
export function editQueryAlert(ctx: Ctx, id: number, input: QueryAlertEdit): QueryAlertView {
  requireWrite(ctx);
  const current = mustGet(ctx, id);
  const pick = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value);
  const fields = checkAlert(ctx, {
    queryId: pick(input.query_id, current.queryId),
    notificationType: pick(input.notification_type, current.notificationType),
    frequency: pick(input.frequency, current.frequency),
    enabled: pick(input.enabled, current.enabled),
    webhookUrl: pick(input.webhook_url, current.webhookUrl),
    webhookSecret: pick(input.webhook_secret, current.webhookSecret),
    recipient: pick(input.recipient, current.recipient),
  });
  const now = ctx.clock.now();
  const nextRunAt =
    fields.frequency === current.frequency ? current.nextRunAt : now + FREQUENCY_MS[fields.frequency];
  ctx.stores.queries(ctx.accountId).updateAlert(id, fields, nextRunAt, now);
  return toAlertView(ctx, mustGet(ctx, id));
}

/** E37: deletes the alert and its undelivered messages. */
export function deleteQueryAlert(ctx: Ctx, id: number): Record<string, never> {
  requireWrite(ctx);
  mustGet(ctx, id);
  ctx.stores.queries(ctx.accountId).deleteAlert(id);
  return {};
}

/** threatdesk extension: the alert's messages, newest first. */
export function listAlertDeliveries(ctx: Ctx, id: number, limit = 100): DeliveryView[] {
  mustGet(ctx, id);
  return ctx.stores
    .queries(ctx.accountId)
    .deliveries(id, limit)
    .map((d) => ({
      id: d.id,
      created_at: iso(d.createdAt),
      status: d.status,
      attempts: d.attempts,
      event_count: d.eventUuids.length,
      event_uuids: d.eventUuids,
      error: d.error,
      idempotency_key: d.idempotencyKey,
      delivered_at: d.deliveredAt === null ? null : iso(d.deliveredAt),
    }));
}
