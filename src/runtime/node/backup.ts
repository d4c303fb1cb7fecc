import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** What a backup folder holds, written last: a backup without it is incomplete. */
export interface BackupManifest {
  format: 'threatdesk-backup';
  version: 1;
  createdAt: string;
  files: { path: string; bytes: number }[];
}

const MANIFEST = 'threatdesk-backup.json';
const LOCK = 'server.lock';

/** Every SQLite database under a data directory, as paths relative to it. */
function databases(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.db')) out.push(path.relative(dataDir, full));
    }
  };
  if (fs.existsSync(dataDir)) walk(dataDir);
  return out.sort();
}

/**
 * Takes a consistent online backup of every database while the server keeps serving: SQLite's
 * backup API copies each file as of one moment, readers and writers carry on meanwhile.
 */
export async function backup(
  dataDir: string,
  target: string,
  log: (line: string) => void = () => {},
): Promise<BackupManifest> {
  if (fs.existsSync(target) && fs.readdirSync(target).length > 0) {
    throw new Error(`backup: ${target} is not empty; give a new or empty folder`);
  }
  const files = databases(dataDir);
  if (files.length === 0) throw new Error(`backup: no databases under ${dataDir}`);
  fs.mkdirSync(target, { recursive: true });
  const manifest: BackupManifest = {
    format: 'threatdesk-backup',
    version: 1,
    createdAt: new Date().toISOString(),
    files: [],
  };
  // system.db first and shards last: a token or dataset is never newer than the data it guards.
  const ordered = [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const rel of ordered) {
    const dest = path.join(target, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const db = new Database(path.join(dataDir, rel), { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 10000');
      await db.backup(dest);
    } finally {
      db.close();
    }
    manifest.files.push({ path: rel, bytes: fs.statSync(dest).size });
    log(`backed up ${rel}`);
  }
  fs.writeFileSync(path.join(target, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function rank(rel: string): number {
  if (rel === 'system.db') return 0;
  if (rel.endsWith('account.db')) return 1;
  return 2;
}

/** The pid of a server running on this data directory, if any. */
export function runningServer(dataDir: string): number | undefined {
  const file = path.join(dataDir, LOCK);
  if (!fs.existsSync(file)) return undefined;
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** Marks a data directory as served by this process (restore refuses to run under a server). */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK);
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${process.pid}\n`);
  return () => {
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
  };
}

/**
 * Restores a backup into the data directory. Refuses while a server runs on it. An existing
 * data directory is kept aside as `<dir>.before-restore-<time>` unless it is empty. Every
 * restored database passes SQLite's integrity check.
 */
export function restore(
  source: string,
  dataDir: string,
  log: (line: string) => void = () => {},
): { movedAside?: string } {
  const manifestFile = path.join(source, MANIFEST);
  if (!fs.existsSync(manifestFile))
    throw new Error(`restore: ${source} has no ${MANIFEST}; not a complete threatdesk backup`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as BackupManifest;
  if (manifest.format !== 'threatdesk-backup' || manifest.version !== 1)
    throw new Error('restore: unknown backup format');
  const pid = runningServer(dataDir);
  if (pid !== undefined)
    throw new Error(`restore: a server (pid ${pid}) is running on ${dataDir}; stop it first`);
  for (const f of manifest.files) {
    const file = path.join(source, f.path);
    if (!fs.existsSync(file) || fs.statSync(file).size !== f.bytes)
      throw new Error(`restore: ${f.path} is missing or damaged`);
    const db = new Database(file, { readonly: true });
    try {
      const check = db.pragma('integrity_check', { simple: true });
      if (check !== 'ok') throw new Error(`restore: ${f.path} fails the integrity check: ${String(check)}`);
    } finally {
      db.close();
    }
  }
  let movedAside: string | undefined;
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    movedAside = `${dataDir.replace(/[\\/]+$/, '')}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(dataDir, movedAside);
    log(`kept the previous data in ${movedAside}`);
  }
  for (const f of manifest.files) {
    const dest = path.join(dataDir, f.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(path.join(source, f.path), dest);
    log(`restored ${f.path}`);
  }
  return movedAside ? { movedAside } : {};
}
