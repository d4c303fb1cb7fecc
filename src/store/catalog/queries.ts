import type { Sql } from '../sql.ts';

/** A saved event query of one account (C0.4). */
export interface SavedQueryRecord {
  id: number;
  name: string;
  queryJson: string;
  alertEnabled: boolean;
  alertRollupEnabled: boolean;
  ruleEnabled: boolean;
  ruleScope: string | null;
  userEmail: string;
  customThreatFeedId: number | null;
  ruleListId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields of a saved query a client sets. */
export type SavedQueryFields = Omit<SavedQueryRecord, 'id' | 'createdAt' | 'updatedAt' | 'userEmail'>;

interface SavedQueryRow {
  id: number;
  name: string;
  query_json: string;
  alert_enabled: number;
  alert_rollup_enabled: number;
  rule_enabled: number;
  rule_scope: string | null;
  user_email: string;
  custom_threat_feed_id: number | null;
  rule_list_id: string | null;
  created_at: number;
  updated_at: number;
}

const toSavedQuery = (r: SavedQueryRow): SavedQueryRecord => ({
  id: r.id,
  name: r.name,
  queryJson: r.query_json,
  alertEnabled: r.alert_enabled === 1,
  alertRollupEnabled: r.alert_rollup_enabled === 1,
  ruleEnabled: r.rule_enabled === 1,
  ruleScope: r.rule_scope,
  userEmail: r.user_email,
  customThreatFeedId: r.custom_threat_feed_id,
  ruleListId: r.rule_list_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type NotificationType = 'email' | 'webhook';
export type AlertFrequency = 'immediate' | 'hourly' | 'daily' | 'weekly';

/**
 * Where an alert has got to: the createdAt (epoch ms) and uuid of the last event handed to
 * the outbox. Events are delivered in (createdAt, uuid) order, so everything after the mark
 * is still to be sent.
 */
export interface AlertMark {
  createdMs: number;
  uuid: string;
}

/** An alert subscription on a saved query (C0.5 and threatdesk's delivery fields). */
export interface QueryAlertRecord {
  id: number;
  queryId: number;
  notificationType: NotificationType;
  frequency: AlertFrequency;
  enabled: boolean;
  webhookUrl: string | null;
  webhookSecret: string | null;
  recipient: string | null;
  userEmail: string;
  mark: AlertMark;
  nextRunAt: number;
  lastSentAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields of an alert a client sets. */
export type QueryAlertFields = Pick<
  QueryAlertRecord,
  'queryId' | 'notificationType' | 'frequency' | 'enabled' | 'webhookUrl' | 'webhookSecret' | 'recipient'
>;

interface QueryAlertRow {
  id: number;
  query_id: number;
  notification_type: NotificationType;
  frequency: AlertFrequency;
  enabled: number;
  webhook_url: string | null;
  webhook_secret: string | null;
  recipient: string | null;
  user_email: string;
  mark_created_ms: number;
  mark_uuid: string;
  next_run_at: number;
  last_sent_at: number | null;
  created_at: number;
  updated_at: number;
}

const toAlert = (r: QueryAlertRow): QueryAlertRecord => ({
  id: r.id,
  queryId: r.query_id,
  notificationType: r.notification_type,
  frequency: r.frequency,
  enabled: r.enabled === 1,
  webhookUrl: r.webhook_url,
  webhookSecret: r.webhook_secret,
  recipient: r.recipient,
  userEmail: r.user_email,
  mark: { createdMs: r.mark_created_ms, uuid: r.mark_uuid },
  nextRunAt: r.next_run_at,
  lastSentAt: r.last_sent_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One message of an alert, written before it is sent (the outbox). */
export interface OutboxRecord {
  id: number;
  alertId: number;
  idempotencyKey: string;
  status: DeliveryStatus;
  eventUuids: string[];
  /** The message exactly as sent, so a resend after a restart is byte-identical. */
  payload: string;
  attempts: number;
  error: string | null;
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt: number | null;
}

interface OutboxRow {
  id: number;
  alert_id: number;
  idempotency_key: string;
  status: DeliveryStatus;
  event_uuids: string;
  payload: string;
  attempts: number;
  error: string | null;
  next_attempt_at: number;
  created_at: number;
  delivered_at: number | null;
}

const toOutbox = (r: OutboxRow): OutboxRecord => ({
  id: r.id,
  alertId: r.alert_id,
  idempotencyKey: r.idempotency_key,
  status: r.status,
  eventUuids: JSON.parse(r.event_uuids) as string[],
  payload: r.payload,
  attempts: r.attempts,
  error: r.error,
  nextAttemptAt: r.next_attempt_at,
  createdAt: r.created_at,
  deliveredAt: r.delivered_at,
});

/** A message to put in the outbox. */
export interface NewOutboxMessage {
  idempotencyKey: string;
  eventUuids: readonly string[];
  payload: string;
}

/** Saved queries, their alerts and the alerts' outbox, in account.db. */
export class QueryStore {
  constructor(private readonly sql: Sql) {}

  transaction<T>(fn: () => T): T {
    return this.sql.transaction(fn);
  }

  listQueries(): SavedQueryRecord[] {
    return this.sql.all<SavedQueryRow>('SELECT * FROM saved_queries ORDER BY id').map(toSavedQuery);
  }

  getQuery(id: number): SavedQueryRecord | undefined {
    const row = this.sql.one<SavedQueryRow>('SELECT * FROM saved_queries WHERE id = ?', [id]);
    return row ? toSavedQuery(row) : undefined;
  }

  queryByName(name: string): SavedQueryRecord | undefined {
    const row = this.sql.one<SavedQueryRow>('SELECT * FROM saved_queries WHERE name = ?', [name]);
    return row ? toSavedQuery(row) : undefined;
  }

  insertQuery(fields: SavedQueryFields, userEmail: string, now: number): number {
    return this.sql.run(
      `INSERT INTO saved_queries (name, query_json, alert_enabled, alert_rollup_enabled, rule_enabled, rule_scope,
         user_email, custom_threat_feed_id, rule_list_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        fields.name,
        fields.queryJson,
        fields.alertEnabled ? 1 : 0,
        fields.alertRollupEnabled ? 1 : 0,
        fields.ruleEnabled ? 1 : 0,
        fields.ruleScope,
        userEmail,
        fields.customThreatFeedId,
        fields.ruleListId,
        now,
        now,
      ],
    ).lastRowId;
  }

  updateQuery(id: number, fields: SavedQueryFields, now: number): void {
    this.sql.run(
      `UPDATE saved_queries SET name = ?, query_json = ?, alert_enabled = ?, alert_rollup_enabled = ?,
         rule_enabled = ?, rule_scope = ?, custom_threat_feed_id = ?, rule_list_id = ?, updated_at = ?
       WHERE id = ?`,
      [
        fields.name,
        fields.queryJson,
        fields.alertEnabled ? 1 : 0,
        fields.alertRollupEnabled ? 1 : 0,
        fields.ruleEnabled ? 1 : 0,
        fields.ruleScope,
        fields.customThreatFeedId,
        fields.ruleListId,
        now,
        id,
      ],
    );
  }

  /** Deletes a saved query with its alerts and their outbox (ON DELETE CASCADE). */
  deleteQuery(id: number): boolean {
    return this.sql.run('DELETE FROM saved_queries WHERE id = ?', [id]).changes > 0;
  }

  listAlerts(): QueryAlertRecord[] {
    return this.sql.all<QueryAlertRow>('SELECT * FROM query_alerts ORDER BY id').map(toAlert);
  }

  getAlert(id: number): QueryAlertRecord | undefined {
    const row = this.sql.one<QueryAlertRow>('SELECT * FROM query_alerts WHERE id = ?', [id]);
    return row ? toAlert(row) : undefined;
  }

  insertAlert(
    fields: QueryAlertFields,
    extra: { userEmail: string; mark: AlertMark; nextRunAt: number },
    now: number,
  ): number {
    return this.sql.run(
      `INSERT INTO query_alerts (query_id, notification_type, frequency, enabled, webhook_url, webhook_secret,
         recipient, user_email, mark_created_ms, mark_uuid, next_run_at, last_sent_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
      [
        fields.queryId,
        fields.notificationType,
        fields.frequency,
        fields.enabled ? 1 : 0,
        fields.webhookUrl,
        fields.webhookSecret,
        fields.recipient,
        extra.userEmail,
        extra.mark.createdMs,
        extra.mark.uuid,
        extra.nextRunAt,
        now,
        now,
      ],
    ).lastRowId;
  }

  updateAlert(id: number, fields: QueryAlertFields, nextRunAt: number, now: number): void {
    this.sql.run(
      `UPDATE query_alerts SET query_id = ?, notification_type = ?, frequency = ?, enabled = ?, webhook_url = ?,
         webhook_secret = ?, recipient = ?, next_run_at = ?, updated_at = ?
       WHERE id = ?`,
      [
        fields.queryId,
        fields.notificationType,
        fields.frequency,
        fields.enabled ? 1 : 0,
        fields.webhookUrl,
        fields.webhookSecret,
        fields.recipient,
        nextRunAt,
        now,
        id,
      ],
    );
  }

  deleteAlert(id: number): boolean {
    return this.sql.run('DELETE FROM query_alerts WHERE id = ?', [id]).changes > 0;
  }

  /**
   * Puts messages in the outbox and moves the alert's mark past their events, in one
   * transaction, only if the mark is still `expected` (a concurrent run that got there first
   * wins, and this one writes nothing). Answers whether it wrote.
   */
  enqueue(
    alertId: number,
    expected: AlertMark,
    next: { mark: AlertMark; nextRunAt: number },
    messages: readonly NewOutboxMessage[],
    now: number,
  ): boolean {
    return this.sql.transaction(() => {
      const moved = this.sql.run(
        `UPDATE query_alerts SET mark_created_ms = ?, mark_uuid = ?, next_run_at = ?
         WHERE id = ? AND mark_created_ms = ? AND mark_uuid = ?`,
        [next.mark.createdMs, next.mark.uuid, next.nextRunAt, alertId, expected.createdMs, expected.uuid],
      ).changes;
      if (moved === 0) return false;
      for (const m of messages) {
        this.sql.run(
          `INSERT INTO alert_outbox (alert_id, idempotency_key, status, event_uuids, payload, attempts, error,
             next_attempt_at, created_at, delivered_at)
           VALUES (?, ?, 'pending', ?, ?, 0, NULL, ?, ?, NULL)`,
          [alertId, m.idempotencyKey, JSON.stringify(m.eventUuids), m.payload, now, now],
        );
      }
      return true;
    });
  }

  /** The alert's messages still to send, oldest first. */
  pending(alertId: number): OutboxRecord[] {
    return this.sql
      .all<OutboxRow>("SELECT * FROM alert_outbox WHERE alert_id = ? AND status = 'pending' ORDER BY id", [
        alertId,
      ])
      .map(toOutbox);
  }

  /** Records a 2xx answer: the message is delivered and the alert's last_sent_at moves. */
  markDelivered(id: number, alertId: number, attempts: number, now: number): void {
    this.sql.transaction(() => {
      this.sql.run(
        "UPDATE alert_outbox SET status = 'delivered', attempts = ?, error = NULL, delivered_at = ? WHERE id = ?",
        [attempts, now, id],
      );
      this.sql.run('UPDATE query_alerts SET last_sent_at = ? WHERE id = ?', [now, alertId]);
    });
  }

  /** Records a failed attempt: retried at `nextAttemptAt`, or given up (`failed`). */
  markAttempt(
    id: number,
    update: { attempts: number; error: string; status: DeliveryStatus; nextAttemptAt: number },
  ): void {
    this.sql.run(
      'UPDATE alert_outbox SET attempts = ?, error = ?, status = ?, next_attempt_at = ? WHERE id = ?',
      [update.attempts, update.error, update.status, update.nextAttemptAt, id],
    );
  }

  /** The alert's delivery log, newest first. */
  deliveries(alertId: number, limit: number): OutboxRecord[] {
    return this.sql
      .all<OutboxRow>('SELECT * FROM alert_outbox WHERE alert_id = ? ORDER BY id DESC LIMIT ?', [
        alertId,
        limit,
      ])
      .map(toOutbox);
  }
}
