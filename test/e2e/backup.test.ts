import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, TestServer, tempDataDir } from './server.ts';

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const s of servers) await s.dispose();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function eventFor(batch: number, i: number) {
  return {
    category: 'Backup drill',
    date: new Date(Date.UTC(2025, 0, 1) + batch * 60_000 + i).toISOString(),
    event: `batch ${batch} event ${i}`,
    raw: { data: { batch, i } },
    tlp: 'green',
    attacker: 'Sandworm',
    tags: [`batch-${batch}`],
    indicators: [{ indicatorType: 'domain', value: `b${batch}-e${i}.example` }],
  };
}

async function api(server: TestServer, method: string, p: string, body?: unknown) {
  const res = await fetch(`${server.baseURL}/accounts/${server.account}/cloudforce-one${p}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      result: Record<string, unknown> & unknown[];
      result_info?: { total_count: number };
    },
  };
}

describe('backup and restore', () => {
  it('takes a consistent backup while bulk writes go on, and restores it into a server that serves it', async () => {
    const server = new TestServer();
    servers.push(server);
    await server.start();
    const ds = await api(server, 'POST', '/events/dataset/create', { name: 'Drill', isPublic: false });
    const datasetId = (ds.body.result as unknown as { uuid: string }).uuid;

    // Writers keep going in the background while the backup runs.
    const acked: number[] = [];
    let batch = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const n = batch++;
        const res = await api(server, 'POST', '/events/create/bulk', {
          datasetId,
          data: Array.from({ length: 100 }, (_, i) => eventFor(n, i)),
        });
        if (res.status === 202) acked.push(n);
      }
    })();
    while (acked.length < 5) await new Promise((r) => setTimeout(r, 20));
    const ackedBefore = [...acked];

    const backupDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'threatdesk-backup-')), 'b');
    dirs.push(path.dirname(backupDir));
    const out = await server.cli(['backup', backupDir]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/backup of \d+ database\(s\) written/);
    writing = false;
    await writer;
    expect(acked.length).toBeGreaterThan(ackedBefore.length);

    // Restoring under a running server is refused.
    const refused = await server.cli(['restore', backupDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/running/);

    // Restore into a fresh data directory and serve it.
    const restoredDir = tempDataDir();
    dirs.push(restoredDir);
    const restored = await runCli(restoredDir, ['restore', backupDir]);
    expect(restored.code).toBe(0);
    const second = new TestServer({
      dataDir: restoredDir,
      bootstrap: { account: server.account, token: server.token },
    });
    servers.push(second);
    await second.start();
    const list = await api(second, 'GET', `/events?datasetId=${datasetId}&pageSize=25000`);
    expect(list.status).toBe(200);
    const events = list.body.result as unknown as { tags: string[]; event: string }[];
    const perBatch = new Map<string, number>();
    for (const e of events) perBatch.set(e.tags[0] as string, (perBatch.get(e.tags[0] as string) ?? 0) + 1);
    // Every request acknowledged before the backup began is there; no request is half there.
    for (const n of ackedBefore) expect(perBatch.get(`batch-${n}`)).toBe(100);
    for (const count of perBatch.values()) expect(count).toBe(100);
    expect(list.body.result_info?.total_count).toBe(events.length);
    const search = await api(
      second,
      'GET',
      `/events?datasetId=${datasetId}&search.field=indicator&search.op=equals&search.value=b0-e7.example`,
    );
    expect((search.body.result as unknown as { event: string }[]).map((e) => e.event)).toEqual([
      'batch 0 event 7',
    ]);
    expect(second.stderr).toBe('');
  });

  it('keeps the previous data aside when restoring over it, and rejects a folder that is not a backup', async () => {
    const notBackup = tempDataDir();
    dirs.push(notBackup);
    const target = tempDataDir();
    dirs.push(target);
    const bad = await runCli(target, ['restore', notBackup]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not a complete threatdesk backup/);

    // A data directory with one token, backed up (no server needed), restored over another one.
    const source = tempDataDir();
    dirs.push(source);
    const made = await runCli(source, ['token', 'create', '--account', 'drill']);
    expect(made.code).toBe(0);
    const backupDir = path.join(tempDataDir(), 'b');
    dirs.push(path.dirname(backupDir));
    expect((await runCli(source, ['backup', backupDir])).code).toBe(0);
    expect((await runCli(target, ['token', 'create', '--account', 'other'])).code).toBe(0);
    const restored = await runCli(target, ['restore', backupDir]);
    expect(restored.code).toBe(0);
    const aside = /previous data kept in (\S+)\)/.exec(restored.stdout)?.[1];
    expect(aside).toBeDefined();
    dirs.push(aside as string);
    expect(fs.existsSync(path.join(aside as string, 'system.db'))).toBe(true);
    const listed = await runCli(target, ['token', 'list']);
    expect(listed.stdout).toMatch(/account=drill/);
    expect(listed.stdout).not.toMatch(/account=other/);
  });
});
