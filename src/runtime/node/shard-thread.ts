import { Worker } from 'node:worker_threads';
import type { NewEvent } from '../../domain/events/model.ts';
import { toBatch } from '../../store/shard/batch.ts';
import type { ShardClient } from '../../store/shard/client.ts';
import type { Durability } from './sqlite.ts';

/** What the storage thread needs to open the shards (shard-thread-host.ts). */
export interface ShardThreadOptions {
  dataDir: string;
  durability: Durability;
  journal: boolean;
  /** WAL size of a shard, in MiB, past which a write asks the checkpointer thread for a checkpoint. */
  checkpointAtMiB: number;
}

/** A call from the server thread to the storage thread. */
export interface ShardCall {
  id: number;
  method: string;
  args: unknown[];
}

/** The storage thread's answer to one call. */
export type ShardReply =
  | { id: number; value: unknown }
  | { id: number; error: { name: string; message: string; stack?: string } };

/** A ShardClient whose shards live in a storage thread, with the stop of that thread. */
export interface ThreadShardClient extends ShardClient {
  /** Lets the calls in flight finish, closes the shard databases, ends the thread. */
  close(): Promise<void>;
}

/**
 * Runs every shard of the server in one storage thread, so SQLite work (inserts, index
 * upkeep, commits) uses the second core while the server thread parses and validates the
 * next requests. Calls are messages with structured-cloned arguments and answers; the thread
 * handles them one at a time, in order, like a Durable Object does, and the domain's group
 * commit (storeEvents) writes the requests that queue up meanwhile in one transaction.
 */
export function startShardThread(
  options: ShardThreadOptions,
  onFailure: (err: Error) => void,
): ThreadShardClient {
  const worker = new Worker(new URL('./shard-thread-entry.mjs', import.meta.url), {
    workerData: options,
    // A bulk batch allocates several MiB of short-lived objects; a larger young generation
    // scavenges less often (200,000-event ingest: about +2 %).
    resourceLimits: { maxYoungGenerationSizeMb: 64 },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const failAll = (err: Error) => {
    failure ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (reply: ShardReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if ('error' in reply) {
      const err = new Error(reply.error.message);
      err.name = reply.error.name;
      if (reply.error.stack) err.stack = reply.error.stack;
      p.reject(err);
    } else p.resolve(reply.value);
  });
  worker.on('error', (err) => {
    failAll(err);
    onFailure(err);
  });
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      failAll(new Error(`the storage thread has stopped (exit code ${code})`));
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (failure) return Promise.reject(failure);
    if (closing) return Promise.reject(new Error('the storage thread is closing'));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args } satisfies ShardCall);
    });
  };
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // The thread answers in order, so once this call is answered the earlier ones are too.
      if (!failure) {
        const id = nextId++;
        await new Promise((resolve, reject) => {
          pending.set(id, { resolve, reject });
          worker.postMessage({ id, method: '$close', args: [] } satisfies ShardCall);
        }).catch(() => undefined);
      }
      await exited;
    })();
    return closing;
  };
  return new Proxy({} as ThreadShardClient, {
    get(_target, method) {
      if (method === 'close') return close;
      if (typeof method !== 'string' || method === 'then') return undefined;
      // New events cross as a flat batch: cheaper to post than objects (store/shard/batch.ts).
      if (method === 'insertMany')
        return (at: unknown, events: readonly NewEvent[]) => call('insertBatch', [at, toBatch(events)]);
      return (...args: unknown[]) => call(method, args);
    },
  });
}
