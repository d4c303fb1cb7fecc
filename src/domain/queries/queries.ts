import type { SavedQueryFields, SavedQueryRecord } from '../../store/catalog/queries.ts';
import { type Ctx, requireWrite } from '../context.ts';
import { resolveDatasets } from '../datasets/datasets.ts';
import { ApiError, conflict, invalidInput, notFound } from '../errors.ts';
import { type ListEventsInput, MAX_PAGE_SIZE } from '../events/list.ts';
import { SORT_FIELDS } from '../events/model.ts';
import { MAX_CONDITIONS, type RawCondition, validateConditions } from '../events/search.ts';

/** A saved query as the API returns it (C0.4). */
export interface SavedQueryView {
  id: number;
  account_id: number;
  name: string;
  query_json: string;
  alert_enabled: boolean;
  alert_rollup_enabled: boolean;
  rule_enabled: boolean;
  rule_scope?: string;
  created_at: string;
  updated_at: string;
  user_email: string;
  custom_threat_feed_id: number | null;
  rule_list_id?: string;
}

/** E27 body. */
export interface SavedQueryInput {
  name: string;
  query_json: string;
  alert_enabled: boolean;
  alert_rollup_enabled: boolean;
  rule_enabled: boolean;
  rule_scope?: string | undefined;
  custom_threat_feed_id?: number | null | undefined;
  rule_list_id?: string | undefined;
}

/** E29/E30 body: any of E27's fields. */
export type SavedQueryEdit = Partial<SavedQueryInput>;

/** The events-list parameters a saved query may hold. */
export type SavedQueryParams = Pick<
  ListEventsInput,
  'datasetId' | 'search' | 'order' | 'orderBy' | 'pageSize'
>;

/** Alerts add two conditions of their own (createdAt after the mark, before the settle time). */
export const MAX_SAVED_CONDITIONS = MAX_CONDITIONS - 2;

const QUERY_KEYS = ['datasetId', 'search', 'order', 'orderBy', 'pageSize'] as const;

/** The API types `account_id` as a number; ours are hex strings, so answer a stable number from them. */
export function accountNumber(accountId: string): number {
  const n = Number.parseInt(accountId.slice(0, 12), 16);
  return Number.isFinite(n) ? n : 0;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function toSavedQueryView(ctx: Ctx, q: SavedQueryRecord): SavedQueryView {
  const view: SavedQueryView = {
    id: q.id,
    account_id: accountNumber(ctx.accountId),
    name: q.name,
    query_json: q.queryJson,
    alert_enabled: q.alertEnabled,
    alert_rollup_enabled: q.alertRollupEnabled,
    rule_enabled: q.ruleEnabled,
    created_at: iso(q.createdAt),
    updated_at: iso(q.updatedAt),
    user_email: q.userEmail,
    custom_threat_feed_id: q.customThreatFeedId,
  };
  if (q.ruleScope !== null) view.rule_scope = q.ruleScope;
  if (q.ruleListId !== null) view.rule_list_id = q.ruleListId;
  return view;
}

/**
 * Reads `query_json` as events-list (E01) parameters: a JSON object with optional
 * `datasetId` (string or string[]), `search` ({field, op, value}[]), `order`, `orderBy` and
 * `pageSize`. Every problem is reported, each prefixed with `query_json.`.
 */
export function parseQueryJson(text: string, where = 'query_json'): SavedQueryParams {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput(`${where}: not valid JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidInput(
      `${where}: expected a JSON object of events-list parameters (${QUERY_KEYS.join(', ')})`,
    );
  }
  const o = parsed as Record<string, unknown>;
  const issues: string[] = [];
  for (const key of Object.keys(o)) {
    if (!(QUERY_KEYS as readonly string[]).includes(key)) {
      issues.push(`${where}.${key}: unknown parameter; expected one of ${QUERY_KEYS.join(', ')}`);
    }
  }
  const out: SavedQueryParams = {};
  if (o.datasetId !== undefined) {
    const d = o.datasetId;
    if (typeof d === 'string') out.datasetId = [d];
    else if (Array.isArray(d) && d.every((x) => typeof x === 'string')) out.datasetId = d as string[];
    else issues.push(`${where}.datasetId: expected a dataset id or a list of them`);
  }
  if (o.order !== undefined) {
    if (o.order === 'asc' || o.order === 'desc') out.order = o.order;
    else issues.push(`${where}.order: must be "asc" or "desc", got ${JSON.stringify(o.order)}`);
  }
  if (o.orderBy !== undefined) {
    if (typeof o.orderBy === 'string' && (SORT_FIELDS as readonly string[]).includes(o.orderBy)) {
      out.orderBy = o.orderBy;
    } else {
      issues.push(
        `${where}.orderBy: unknown field ${JSON.stringify(o.orderBy)}; expected one of ${SORT_FIELDS.join(', ')}`,
      );
    }
  }
  if (o.pageSize !== undefined) {
    const n = o.pageSize;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_PAGE_SIZE) out.pageSize = n;
    else issues.push(`${where}.pageSize: must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  if (o.search !== undefined) {
    if (!Array.isArray(o.search)) {
      issues.push(`${where}.search: expected a list of {field, op, value} conditions`);
    } else {
      const bad = o.search.findIndex((c) => !c || typeof c !== 'object' || Array.isArray(c));
      if (o.search.length > MAX_SAVED_CONDITIONS) {
        // Alerts add two createdAt conditions of their own to the saved ones.
        issues.push(
          `${where}.search: at most ${MAX_SAVED_CONDITIONS} conditions in a saved query, got ${o.search.length}`,
        );
      } else if (bad >= 0) {
        issues.push(`${where}.search[${bad}]: expected an object {field, op, value}`);
      } else {
        try {
          validateConditions(o.search as RawCondition[], `${where}.search`);
          out.search = o.search as RawCondition[];
        } catch (err) {
          if (err instanceof ApiError) issues.push(...err.details.map((d) => d.message));
          else throw err;
        }
      }
    }
  }
  if (issues.length > 0) throw invalidInput(issues);
  return out;
}

/** Checks that the datasets a query names exist now (a 400 naming them, not a 404). */
function checkDatasets(ctx: Ctx, params: SavedQueryParams): void {
  try {
    resolveDatasets(ctx, params.datasetId, 'query_json.datasetId');
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      throw invalidInput(err.details.map((d) => `query_json.datasetId: ${d.message}`));
    }
    throw err;
  }
}

function mustGet(ctx: Ctx, id: number): SavedQueryRecord {
  const found = ctx.stores.queries(ctx.accountId).getQuery(id);
  if (!found) throw notFound('saved query', id);
  return found;
}

function checkName(ctx: Ctx, name: string, self?: number): void {
  const existing = ctx.stores.queries(ctx.accountId).queryByName(name);
  if (existing && existing.id !== self)
    throw conflict(`a saved query named ${JSON.stringify(name)} already exists`);
}

/** E26: every saved query of the account. */
export function listSavedQueries(ctx: Ctx): SavedQueryView[] {
  return ctx.stores
    .queries(ctx.accountId)
    .listQueries()
    .map((q) => toSavedQueryView(ctx, q));
}

/** E28 */
export function getSavedQuery(ctx: Ctx, id: number): SavedQueryView {
  return toSavedQueryView(ctx, mustGet(ctx, id));
}

/** E27: saves a query; its name is unique in the account. */
export function createSavedQuery(ctx: Ctx, input: SavedQueryInput): SavedQueryView {
  requireWrite(ctx);
  checkDatasets(ctx, parseQueryJson(input.query_json));
  checkName(ctx, input.name);
  const store = ctx.stores.queries(ctx.accountId);
  const id = store.insertQuery(
    {
      name: input.name,
      queryJson: input.query_json,
      alertEnabled: input.alert_enabled,
      alertRollupEnabled: input.alert_rollup_enabled,
      ruleEnabled: input.rule_enabled,
      ruleScope: input.rule_scope ?? null,
      customThreatFeedId: input.custom_threat_feed_id ?? null,
      ruleListId: input.rule_list_id ?? null,
    },
    ctx.email ?? '',
    ctx.clock.now(),
  );
  return toSavedQueryView(ctx, mustGet(ctx, id));
}

/** E29/E30: changes the fields given; the others keep their values. */
export function editSavedQuery(ctx: Ctx, id: number, input: SavedQueryEdit): SavedQueryView {
  requireWrite(ctx);
  const current = mustGet(ctx, id);
  if (input.query_json !== undefined) checkDatasets(ctx, parseQueryJson(input.query_json));
  if (input.name !== undefined) checkName(ctx, input.name, id);
  const fields: SavedQueryFields = {
    name: input.name ?? current.name,
    queryJson: input.query_json ?? current.queryJson,
    alertEnabled: input.alert_enabled ?? current.alertEnabled,
    alertRollupEnabled: input.alert_rollup_enabled ?? current.alertRollupEnabled,
    ruleEnabled: input.rule_enabled ?? current.ruleEnabled,
    ruleScope: input.rule_scope !== undefined ? input.rule_scope : current.ruleScope,
    customThreatFeedId:
      input.custom_threat_feed_id !== undefined ? input.custom_threat_feed_id : current.customThreatFeedId,
    ruleListId: input.rule_list_id !== undefined ? input.rule_list_id : current.ruleListId,
  };
  ctx.stores.queries(ctx.accountId).updateQuery(id, fields, ctx.clock.now());
  return toSavedQueryView(ctx, mustGet(ctx, id));
}

/** E31: deletes a saved query and the alerts on it. */
export function deleteSavedQuery(ctx: Ctx, id: number): Record<string, never> {
  requireWrite(ctx);
  mustGet(ctx, id);
  ctx.stores.queries(ctx.accountId).deleteQuery(id);
  return {};
}
