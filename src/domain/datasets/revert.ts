import { type Ctx, requireWrite } from '../context.ts';
import { ApiError, invalidInput } from '../errors.ts';
import { addr, withDatasetLock } from '../events/events.ts';
import { parseIsoDate } from '../events/search.ts';
import { getLiveDataset } from './datasets.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A dataset's state: the journal position of each shard at one moment. */
interface Bookmark {
  v: 1;
  d: string;
  t: number;
  s: Record<string, number>;
}

function encode(b: Bookmark): string {
  return btoa(JSON.stringify(b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decode(text: string, datasetId: string): Bookmark {
  let b: Partial<Bookmark>;
  try {
    b = JSON.parse(atob(text.replace(/-/g, '+').replace(/_/g, '/'))) as Partial<Bookmark>;
  } catch {
    throw invalidInput(
      'revertBookmark: not a bookmark this server issued (GET /events/{dataset_id}/bookmark)',
    );
  }
  if (b?.v !== 1 || typeof b.t !== 'number' || typeof b.s !== 'object' || b.s === null) {
    throw invalidInput(
      'revertBookmark: not a bookmark this server issued (GET /events/{dataset_id}/bookmark)',
    );
  }
  if (b.d !== datasetId)
    throw invalidInput(`revertBookmark: the bookmark is of dataset ${b.d}, not ${datasetId}`);
  return b as Bookmark;
}

async function currentBookmark(ctx: Ctx, datasetId: string): Promise<Bookmark> {
  const s: Record<string, number> = {};
  for (const shard of ctx.stores.catalog(ctx.accountId).shardsOf(datasetId)) {
    s[shard.id] = await ctx.stores.shards.bookmark(addr(ctx, shard.id));
  }
  return { v: 1, d: datasetId, t: ctx.clock.now(), s };
}

/** GET /events/{dataset_id}/bookmark: an opaque bookmark of the dataset's current state. */
export async function getBookmark(
  ctx: Ctx,
  datasetId: string,
): Promise<{ datasetId: string; bookmark: string; timestamp: string }> {
  const dataset = getLiveDataset(ctx, datasetId);
  const b = await currentBookmark(ctx, dataset.uuid);
  return { datasetId: dataset.uuid, bookmark: encode(b), timestamp: new Date(b.t).toISOString() };
}

export interface RevertInput {
  minutesAgo?: number | undefined;
  targetTimestamp?: string | undefined;
  revertBookmark?: string | undefined;
}

/**
 * E11: brings every shard of a dataset back to its exact state at a moment (minutesAgo or
 * targetTimestamp) or at a bookmark. Answers an undoBookmark: reverting to it undoes this revert.
 */
export async function revertDataset(ctx: Ctx, datasetId: string, input: RevertInput) {
  requireWrite(ctx);
  const dataset = getLiveDataset(ctx, datasetId);
  const given = [input.minutesAgo, input.targetTimestamp, input.revertBookmark].filter(
    (v) => v !== undefined,
  );
  if (given.length !== 1) {
    throw invalidInput('body: give exactly one of minutesAgo, targetTimestamp or revertBookmark');
  }
  const now = ctx.clock.now();
  const windowStart = now - ctx.config.revertWindowDays * DAY;
  let target: number | undefined;
  let bookmark: Bookmark | undefined;
  if (input.minutesAgo !== undefined) {
    if (!Number.isFinite(input.minutesAgo) || input.minutesAgo < 0)
      throw invalidInput('minutesAgo: a number ≥ 0');
    target = now - input.minutesAgo * MINUTE;
  } else if (input.targetTimestamp !== undefined) {
    target = parseIsoDate(input.targetTimestamp);
    if (target === undefined)
      throw invalidInput(`targetTimestamp: ${JSON.stringify(input.targetTimestamp)} is not ISO 8601`);
    if (target > now) throw invalidInput('targetTimestamp: in the future');
  } else {
    bookmark = decode(input.revertBookmark as string, dataset.uuid);
    target = bookmark.t;
  }
  if (target < windowStart) {
    throw new ApiError(
      'invalidInput',
      `the revert window is ${ctx.config.revertWindowDays} days: ${new Date(target).toISOString()} is before ${new Date(windowStart).toISOString()}`,
    );
  }
  return withDatasetLock(`${ctx.accountId}/${dataset.uuid}`, async () => {
    const shards = ctx.stores.catalog(ctx.accountId).shardsOf(dataset.uuid);
    const undo = await currentBookmark(ctx, dataset.uuid);
    let changed = 0;
    const positions: Record<string, number> = {};
    for (const shard of shards) {
      const at = addr(ctx, shard.id);
      const position = bookmark
        ? (bookmark.s[shard.id] ?? 0)
        : await ctx.stores.shards.positionAt(at, target as number);
      positions[shard.id] = position;
      changed += await ctx.stores.shards.revertTo(at, position);
    }
    return {
      datasetId: dataset.uuid,
      minutesAgo: Math.round(((now - (target as number)) / MINUTE) * 1000) / 1000,
      targetTimestamp: new Date(target as number).toISOString(),
      revertBookmark: encode(bookmark ?? { v: 1, d: dataset.uuid, t: target as number, s: positions }),
      undoBookmark: encode(undo),
      eventsChanged: changed,
    };
  });
}
