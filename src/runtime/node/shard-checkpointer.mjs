// The checkpointer thread of the storage thread (shard-thread-host.ts): copies shard WAL files
// into their databases with passive checkpoints on connections of its own, so the copying and
// the fsyncs of a checkpoint run beside the writes instead of inside one of their commits.
// Messages: { file } asks for a checkpoint (repeated asks while one runs coalesce into one more
// run); { close: file, id } and { closeAll: true, id } close connections and answer { id }.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

const open = new Map();
const wanted = new Set();
let running = false;

function connection(file) {
  let db = open.get(file);
  if (!db) {
    db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    open.set(file, db);
  }
  return db;
}

function drain() {
  if (running) return;
  running = true;
  setImmediate(() => {
    for (const file of wanted) {
      wanted.delete(file);
      try {
        connection(file).pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // A checkpoint that cannot run now (busy, file gone) is simply skipped: the writer's own
        // automatic checkpoint remains the backstop.
      }
    }
    running = false;
    if (wanted.size > 0) drain();
  });
}

parentPort.on('message', (message) => {
  if (message.file) {
    wanted.add(message.file);
    drain();
  } else if (message.close) {
    wanted.delete(message.close);
    open.get(message.close)?.close();
    open.delete(message.close);
    parentPort.postMessage({ id: message.id });
  } else if (message.closeAll) {
    wanted.clear();
    for (const db of open.values()) db.close();
    open.clear();
    parentPort.postMessage({ id: message.id });
    parentPort.close();
  }
});
