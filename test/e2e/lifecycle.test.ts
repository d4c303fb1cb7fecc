import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ThreatEventView } from '../../src/domain/events/events.ts';
import { envelope, result, TestServer } from './server.ts';

interface BulkResult {
  createdEventsCount: number;
  createdEvents?: { eventIndex: number; shardId: string; uuid: string }[];
}

describe('e2e: server lifecycle', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.dispose()));
  });
  const track = (s: TestServer) => {
    servers.push(s);
    return s;
  };

  it.each(['on', 'off'])(
    'keeps events and datasets across a SIGTERM and a new start on the same data dir (storage thread %s)',
    async (thread) => {
      const server = track(
        new TestServer({ env: { THREATDESK_SHARD_MAX_EVENTS: '3', THREATDESK_SHARD_THREAD: thread } }),
      );
      await server.start();
      const account_id = server.account;
      const te = server.client().cloudforceOne.threatEvents;

      const ds = await result<{ uuid: string; name: string }>(
        te.datasets.create({ account_id, name: 'Survives restarts', isPublic: true }),
      );
      const doomed = await result<{ uuid: string }>(
        te.datasets.create({ account_id, name: 'Deleted before restart', isPublic: false }),
      );
      await te.datasets.delete(doomed.uuid, { account_id });
      const data = Array.from({ length: 10 }, (_, i) => ({
        category: 'Malware',
        date: new Date(Date.UTC(2024, 5, 1) + i * 60_000).toISOString(),
        event: `Beacon ${i}`,
        raw: { data: { i } },
        tlp: 'green',
        attacker: i % 2 ? 'Odd Group' : 'Even Group',
        tags: [i % 2 ? 'odd' : 'even'],
      }));
      const bulk = await result<BulkResult>(
        te.bulkCreate({ account_id, datasetId: ds.uuid, includeCreatedEvents: true, data }),
      );
      expect(bulk.createdEventsCount).toBe(10);
      const single = await result<ThreatEventView>(
        te.create({
          account_id,
          category: 'Phishing',
          date: '2024-07-01T00:00:00Z',
          event: 'Lure mail',
          raw: { data: { subject: 'invoice' } },
          tlp: 'amber',
        }),
      );
      const edited = await result<ThreatEventView>(
        te.edit(single.uuid, { account_id, datasetId: single.datasetId, insight: 'edited before restart' }),
      );
      const search = {
        account_id,
        datasetId: [ds.uuid],
        search: [{ field: 'tags' as const, op: 'in' as const, value: ['odd'] }],
        pageSize: 100,
      };
      const before = await result<ThreatEventView[]>(te.list(search));
      expect(before).toHaveLength(5);

      const exitCode = await server.stop();
      expect(exitCode).toBe(0);
      expect(server.stdout).toContain('SIGTERM');
      expect(server.stderr).toBe('');
      await server.start();

      expect(await result<{ uuid: string; name: string }>(te.datasets.get(ds.uuid, { account_id }))).toEqual(
        expect.objectContaining({ uuid: ds.uuid, name: 'Survives restarts', isPublic: true }),
      );
      const all = await result<{ uuid: string; deletedAt: string | null }[]>(
        te.datasets.list({ account_id, includeDeleted: true }),
      );
      expect(all.find((d) => d.uuid === doomed.uuid)?.deletedAt).toEqual(expect.any(String));
      expect(all.find((d) => d.uuid === ds.uuid)?.deletedAt).toBeNull();

      expect(await result<ThreatEventView[]>(te.list(search))).toEqual(before);
      const everything = await envelope<ThreatEventView[]>(
        te.list({ account_id, datasetId: [ds.uuid], pageSize: 4 }),
      );
      expect(everything.result_info?.total_count).toBe(10);
      for (const created of bulk.createdEvents ?? []) {
        const ev = await result<ThreatEventView>(
          te.datasets.events.get(created.uuid, { account_id, dataset_id: ds.uuid }),
        );
        expect(ev.event).toBe(`Beacon ${created.eventIndex}`);
      }
      expect(await result<ThreatEventView>(te.get(single.uuid, { account_id }))).toEqual(edited);
      const raw = await result<{ data: unknown }>(
        te.raw.get(single.rawId, { account_id, event_id: single.uuid }),
      );
      expect(raw.data).toEqual({ subject: 'invoice' });

      // And it keeps taking writes.
      await te.create({
        account_id,
        datasetId: ds.uuid,
        category: 'Malware',
        date: '2024-08-01T00:00:00Z',
        event: 'After restart',
        raw: { data: null },
        tlp: 'green',
        tags: ['odd'],
      });
      expect(await result<ThreatEventView[]>(te.list(search))).toHaveLength(6);
    },
  );

  it('finishes a request in flight on SIGTERM, then exits 0; the request is stored whole', async () => {
    const server = track(new TestServer());
    await server.start();
    const account_id = server.account;
    const te = server.client().cloudforceOne.threatEvents;
    const ds = await result<{ uuid: string }>(
      te.datasets.create({ account_id, name: 'in flight', isPublic: false }),
    );
    const count = 5000;
    const data = Array.from({ length: count }, (_, i) => ({
      category: 'Malware',
      date: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      event: `In flight ${i}`,
      raw: { data: { i } },
      tlp: 'green',
      indicator: `host${i}.example`,
      indicatorType: 'domain',
      tags: [`t${i % 20}`],
    }));
    const answer = te
      .bulkCreate({ account_id, datasetId: ds.uuid, data })
      .withResponse()
      .then(
        (r) => r.response.status,
        (e: unknown) => e,
      );
    // Long enough for the server to have the request, far shorter than storing 5000 events.
    await new Promise((r) => setTimeout(r, 100));
    const exitCode = await server.stop();
    const status = await answer;
    expect(exitCode).toBe(0);

    await server.start();
    const body = await envelope<unknown[]>(te.list({ account_id, datasetId: [ds.uuid], pageSize: 1 }));
    if (status === 202) {
      expect(body.result_info?.total_count).toBe(count);
    } else {
      // Refused because the shutdown came first: then nothing of it was stored.
      expect(body.result_info?.total_count).toBe(0);
    }
  });

  it.each([
    ['once the storage thread has been idle for a while', {}, 3_000],
    [
      'beside the writes once its WAL is long (THREATDESK_CHECKPOINT_MIB)',
      { THREATDESK_CHECKPOINT_MIB: '0' },
      500,
    ],
  ] as const)('checkpoints a written shard %s', async (_when, env, waitMs) => {
    const server = track(new TestServer({ env }));
    await server.start();
    const account_id = server.account;
    const te = server.client().cloudforceOne.threatEvents;
    const ds = await result<{ uuid: string }>(
      te.datasets.create({ account_id, name: 'Checkpointed', isPublic: false }),
    );
    const data = Array.from({ length: 200 }, (_, i) => ({
      category: 'Malware',
      date: '2024-06-01T00:00:00Z',
      event: `Beacon ${i}`,
      raw: { data: { i } },
      tlp: 'green',
    }));
    await te.bulkCreate({ account_id, datasetId: ds.uuid, data });
    // The WAL index header (the -shm file): mxFrame, the last frame written, at byte 16, and
    // nBackfill, the last frame copied into the database file, at byte 96.
    const shm = path.join(server.dataDir, 'accounts', account_id, 'shards', `${ds.uuid}.0.db-shm`);
    const frames = () => {
      const b = fs.readFileSync(shm);
      return { written: b.readUInt32LE(16), backfilled: b.readUInt32LE(96) };
    };
    await new Promise((r) => setTimeout(r, waitMs));
    const after = frames();
    expect(after.backfilled).toBe(after.written);
  });

  it('the first start without bootstrap variables prints a working account and token, once', async () => {
    const server = track(new TestServer({ bootstrap: null }));
    await server.start();
    const account = /account id:\s+(\S+)/.exec(server.stdout)?.[1];
    const token = /write token:\s+(\S+)/.exec(server.stdout)?.[1];
    expect(account).toEqual(expect.any(String));
    expect(token).toEqual(expect.any(String));
    if (!account || !token) return;

    const te = server.client(token).cloudforceOne.threatEvents;
    const created = await result<ThreatEventView>(
      te.create({
        account_id: account,
        category: 'Phishing',
        date: '2024-07-01T00:00:00Z',
        event: 'First start',
        raw: { data: null },
        tlp: 'amber',
      }),
    );
    expect(await result<ThreatEventView[]>(te.list({ account_id: account }))).toEqual([created]);

    expect(await server.restart()).toBe(0);
    expect(server.stdout).not.toContain('write token');
    expect(server.stdout).not.toContain(token);
    expect(await result<ThreatEventView[]>(te.list({ account_id: account }))).toEqual([created]);
  });
});
