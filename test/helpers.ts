import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApp } from '../src/api/app.ts';
import type { AppEnv } from '../src/api/auth.ts';
import { silentLogger } from '../src/api/logger.ts';
import { ManualClock } from '../src/domain/clock.ts';
import { type Config, defaultConfig } from '../src/domain/context.ts';
import { RandomIds } from '../src/domain/ids.ts';
import { createToken } from '../src/domain/tokens.ts';
import { MemoryDatabases } from '../src/runtime/node/sqlite.ts';
import { createStores, type Stores } from '../src/store/stores.ts';

let accountCounter = 0;

/** An in-process app on in-memory databases, with helpers to call it as a client would. */
export interface TestApp {
  app: OpenAPIHono<AppEnv>;
  stores: Stores;
  clock: ManualClock;
  ids: RandomIds;
  /** The in-memory databases behind the stores, for tests that look beneath the API. */
  databases: MemoryDatabases;
  /** A new account with a write token and a read token. */
  account(): Promise<TestAccount>;
}

export interface TestAccount {
  id: string;
  writeToken: string;
  readToken: string;
  /** Calls the API as this account (write token unless told otherwise). Path is relative to /accounts/<id>/cloudforce-one. */
  call(
    method: string,
    path: string,
    body?: unknown,
    options?: { token?: string | null; raw?: string; prefix?: string },
  ): Promise<{ status: number; body: ApiBody }>;
}

/** The v4 envelope as tests read it. */
export interface ApiBody {
  success: boolean;
  errors: { code: number; message: string }[];
  messages: unknown[];
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary result shapes
  result: any;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary result shapes
  result_info?: any;
}

export function makeTestApp(config: Partial<Config> = {}): TestApp {
  const clock = new ManualClock(Date.parse('2026-01-15T12:00:00Z'));
  const ids = new RandomIds(clock);
  const databases = new MemoryDatabases();
  // Blocks of 4 events: every search runs over sealed blocks and the open one together.
  const stores = createStores(databases, clock, { postingBlock: 4 });
  const app = createApp({
    stores,
    clock,
    ids,
    logger: silentLogger,
    config: { ...defaultConfig, ...config },
  });
  return {
    app,
    stores,
    clock,
    ids,
    databases,
    async account() {
      accountCounter++;
      const id = `acct${accountCounter.toString().padStart(4, '0')}${ids.secret(4)}`;
      const write = await createToken(
        { stores, clock, ids },
        { accountId: id, permission: 'write', email: 'analyst@example.com' },
      );
      const read = await createToken({ stores, clock, ids }, { accountId: id, permission: 'read' });
      return {
        id,
        writeToken: write.token,
        readToken: read.token,
        async call(method, path, body, options = {}) {
          const headers: Record<string, string> = {};
          const token = options.token === undefined ? write.token : options.token;
          if (token !== null) headers.authorization = `Bearer ${token}`;
          let payload: string | undefined;
          if (options.raw !== undefined) {
            payload = options.raw;
            headers['content-type'] = 'application/json';
          } else if (body !== undefined) {
            payload = JSON.stringify(body);
            headers['content-type'] = 'application/json';
          }
          const prefix = options.prefix ?? '/client/v4';
          const res = await app.request(`${prefix}/accounts/${id}/cloudforce-one${path}`, {
            method,
            headers,
            ...(payload !== undefined ? { body: payload } : {}),
          });
          const text = await res.text();
          return {
            status: res.status,
            body: text ? (JSON.parse(text) as ApiBody) : (undefined as unknown as ApiBody),
          };
        },
      };
    },
  };
}

let eventCounter = 0;

/** A valid event create body; override any field. */
export function makeEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  eventCounter++;
  return {
    category: 'Domain Resolution',
    date: new Date(Date.UTC(2025, 0, 1) + eventCounter * 3_600_000).toISOString(),
    event: `An attacker registered the domain evil${eventCounter}.example`,
    raw: { data: { n: eventCounter } },
    tlp: 'amber',
    attacker: 'Flying Yeti',
    attackerCountry: 'RU',
    indicator: `evil${eventCounter}.example`,
    indicatorType: 'domain',
    tags: ['malware'],
    targetCountry: 'US',
    targetIndustry: 'Agriculture',
    ...overrides,
  };
}
