import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../../domain/clock.ts';
import { LocalShardClient } from '../../store/shard/client.ts';
import type { ShardCall, ShardReply, ShardThreadOptions } from './shard-thread.ts';
import { FileDatabases } from './sqlite.ts';

/** The storage thread (shard-thread.ts): the shards of the data directory, answering calls. */
const options = workerData as ShardThreadOptions;
const port = parentPort;
if (!port) throw new Error('shard-thread-host runs only as a worker thread');
const dbs = new FileDatabases(options.dataDir, { durability: options.durability });
const shards = new LocalShardClient(dbs, systemClock, options.journal);
const methods = shards as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;

// One call at a time, in arrival order: a shard method runs to its end before the next starts.
let queue: Promise<void> = Promise.resolve();
port.on('message', (call: ShardCall) => {
  queue = queue.then(() => answer(call));
});

async function answer(call: ShardCall): Promise<void> {
  if (call.method === '$close') {
    dbs.closeAll();
    port?.postMessage({ id: call.id, value: undefined } satisfies ShardReply);
    port?.close();
    return;
  }
  try {
    const method = methods[call.method];
    if (typeof method !== 'function') throw new Error(`no shard method ${call.method}`);
    const value = await method.apply(shards, call.args);
    port?.postMessage({ id: call.id, value } satisfies ShardReply);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    port?.postMessage({
      id: call.id,
      error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) },
    } satisfies ShardReply);
  }
}
