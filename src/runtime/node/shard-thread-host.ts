import fs from 'node:fs';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { systemClock } from '../../domain/clock.ts';
import { LocalShardClient, type ShardAddress } from '../../store/shard/client.ts';
import type { ShardCall, ShardReply, ShardThreadOptions } from './shard-thread.ts';
import { FileDatabases } from './sqlite.ts';

/** The storage thread (shard-thread.ts): the shards of the data directory, answering calls. */
const options = workerData as ShardThreadOptions;
const port = parentPort;
if (!port) throw new Error('shard-thread-host runs only as a worker thread');
const dbs = new FileDatabases(options.dataDir, { durability: options.durability });
const shards = new LocalShardClient(dbs, systemClock, options.journal);
const methods = shards as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

/**
 * Checkpoints (copying a shard's WAL into its database, with the fsyncs) run in a thread of their
 * own (shard-checkpointer.mjs), beside the writes, so commits no longer pay for them (1,000,000-
 * event ingest: 5,280 → 6,783 events/s). A shard is handed over when a write leaves its WAL
 * longer than `checkpointAtMiB`, and every written shard once no write has come for
 * IDLE_CHECKPOINT_MS. The writer's own automatic checkpoint (SHARD_TUNING, every 1 GiB) stays as
 * the backstop.
 */
const CHECKPOINT_AT_BYTES = options.checkpointAtMiB * 1024 * 1024;
const IDLE_CHECKPOINT_MS = 2_000;
const checkpointer = new Worker(new URL('./shard-checkpointer.mjs', import.meta.url));
let checkpointerReplies = 0;
const checkpointerWaiting = new Map<number, () => void>();
checkpointer.on('message', (reply: { id: number }) => {
  checkpointerWaiting.get(reply.id)?.();
  checkpointerWaiting.delete(reply.id);
});
checkpointer.on('error', () => undefined); // its work is optional: the writer checkpoints anyway
const askCheckpointer = (message: Record<string, unknown>): Promise<void> =>
  new Promise((resolve) => {
    const id = ++checkpointerReplies;
    checkpointerWaiting.set(id, resolve);
    checkpointer.postMessage({ ...message, id });
  });

/** Shard methods that write. */
const WRITES = new Set([
  'insertMany',
  'insertBatch',
  'update',
  'updateRaw',
  'setTags',
  'setHasChildren',
  'revertTo',
  'pruneJournal',
  'clearGhosts',
  'compactPostings',
  'removeMany',
]);
/** Files written since the last idle hand-over. */
const written = new Set<string>();
let idleTimer: ReturnType<typeof setTimeout> | undefined;

function afterWrite(file: string): void {
  written.add(file);
  let walBytes = 0;
  try {
    walBytes = fs.statSync(`${file}-wal`).size;
  } catch {
    // no WAL file (yet): nothing to copy
  }
  if (walBytes >= CHECKPOINT_AT_BYTES) checkpointer.postMessage({ file });
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    for (const f of written) checkpointer.postMessage({ file: f });
    written.clear();
  }, IDLE_CHECKPOINT_MS);
  idleTimer.unref();
}

// One call at a time, in arrival order: a shard method runs to its end before the next starts.
let queue: Promise<void> = Promise.resolve();
port.on('message', (call: ShardCall) => schedule(call));

/** Runs a call after every call queued before it (a call may schedule itself again). */
function schedule(call: ShardCall): void {
  queue = queue.then(() => answer(call));
}

/**
 * Rows of the column copy read per turn when an aggregation finds its shard's copy unbuilt
 * (about 10 s for 1,000,000 events in one go): the calls that arrive meanwhile run between turns.
 */
const WARM_ROWS = 50_000;

async function answer(call: ShardCall): Promise<void> {
  if (call.method === '$close') {
    if (idleTimer) clearTimeout(idleTimer);
    await askCheckpointer({ closeAll: true });
    dbs.closeAll();
    port?.postMessage({ id: call.id, value: undefined } satisfies ShardReply);
    port?.close();
    return;
  }
  try {
    const method = methods[call.method];
    if (typeof method !== 'function') throw new Error(`no shard method ${call.method}`);
    const at = call.args[0] as ShardAddress;
    if (call.method === 'aggregate' && !shards.open(at).warmColumns(WARM_ROWS)) {
      schedule(call); // not answered yet: the calls queued meanwhile go first
      return;
    }
    const file = dbs.shardFile(at.accountId, at.shardId);
    if (call.method === 'drop') {
      written.delete(file);
      await askCheckpointer({ close: file });
    }
    const value = await method.apply(shards, call.args);
    if (WRITES.has(call.method)) afterWrite(file);
    port?.postMessage({ id: call.id, value } satisfies ShardReply);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    port?.postMessage({
      id: call.id,
      error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
    } satisfies ShardReply);
  }
}
