import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Cloudflare from 'cloudflare';

/** The repository root and the real entry point users run. */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'threatdesk.mjs');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

/** A port nobody listens on right now: listen on port 0, read the port, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

/** A fresh, empty data directory under the OS temp dir. */
export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'threatdesk-e2e-'));
}

/** The environment of a child process: ours, minus anything that would change how threatdesk or the SDK behave. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('THREATDESK_') || k.startsWith('CLOUDFLARE_') || k === 'NODE_OPTIONS') continue;
    if (k === 'PORT' || k === 'HOST') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export interface ServerOptions {
  /** Data directory; a fresh temp dir when absent. */
  dataDir?: string;
  /**
   * Bootstrap account and token (THREATDESK_BOOTSTRAP_*). `null` starts without them, so the
   * server prints a first token itself when none exists. Default: a generated pair.
   */
  bootstrap?: { account: string; token: string } | null;
  /** Extra environment variables (e.g. THREATDESK_SHARD_MAX_EVENTS). */
  env?: Record<string, string>;
}

/** Answer of one CLI run. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The real server as a child process (`node bin/threatdesk.mjs serve`), on a free port and
 * its own data directory. `stop()` sends SIGTERM and waits for the exit; `restart()` starts
 * it again on the same port and data directory.
 */
export class TestServer {
  readonly dataDir: string;
  readonly account: string;
  readonly token: string;
  private readonly bootstrap: boolean;
  private readonly extraEnv: Record<string, string>;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> | undefined;
  private port = 0;
  /** Everything the current process has printed on stdout so far. */
  stdout = '';
  /** Everything the current process has printed on stderr so far. */
  stderr = '';

  constructor(options: ServerOptions = {}) {
    this.dataDir = options.dataDir ?? tempDataDir();
    const suffix = Math.random().toString(16).slice(2, 10);
    const pair =
      options.bootstrap === null
        ? undefined
        : (options.bootstrap ?? { account: `e2eacct${suffix}`, token: `td_e2e_${suffix}${suffix}` });
    this.bootstrap = pair !== undefined;
    this.account = pair?.account ?? '';
    this.token = pair?.token ?? '';
    this.extraEnv = options.env ?? {};
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What the SDK takes as `baseURL`. */
  get baseURL(): string {
    return `${this.url}/client/v4`;
  }

  /** Starts the server and resolves once GET /healthz answers 200. */
  async start(): Promise<void> {
    if (this.child) throw new Error('server already running');
    if (!this.port) this.port = await freePort();
    this.stdout = '';
    this.stderr = '';
    const env: Record<string, string> = {
      PORT: String(this.port),
      HOST: '127.0.0.1',
      THREATDESK_DATA_DIR: this.dataDir,
      THREATDESK_LOG: 'off',
      ...this.extraEnv,
    };
    if (this.bootstrap) {
      env.THREATDESK_BOOTSTRAP_ACCOUNT = this.account;
      env.THREATDESK_BOOTSTRAP_TOKEN = this.token;
    }
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: ROOT,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
    });
    child.stderr?.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let exitCode: number | null | undefined;
    void this.exited.then((code) => {
      exitCode = code;
    });

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        this.child = undefined;
        throw new Error(`server exited with ${exitCode} while starting:\n${this.stdout}\n${this.stderr}`);
      }
      try {
        const res = await fetch(`${this.url}/healthz`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await this.stop();
    throw new Error(`server did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${this.stderr}`);
  }

  /** SIGTERM, then waits for the process to exit; answers its exit code (null if killed by a signal). */
  async stop(): Promise<number | null> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
      this.child = undefined;
      this.exited = undefined;
    }
  }

  /** Sends a signal (SIGKILL by default: no shutdown at all) and waits for the process to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited) return null;
    child.kill(signal);
    try {
      return await exited;
    } finally {
      this.child = undefined;
      this.exited = undefined;
    }
  }

  /** Stops (SIGTERM) and starts again on the same port and data directory; answers the exit code. */
  async restart(): Promise<number | null> {
    const code = await this.stop();
    await this.start();
    return code;
  }

  /** Stops the server and deletes the data directory. */
  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Disposes of the server and answers what it wrote on stderr: unhandled errors (answered
   * 500) are logged there even with THREATDESK_LOG=off, so suites expect it empty.
   */
  async disposeTakingErrors(): Promise<string> {
    const errors = this.stderr;
    await this.dispose();
    return errors;
  }

  /** An SDK client against this server; `null` sends no credentials at all. */
  client(token: string | null = this.token): Cloudflare {
    return new Cloudflare({
      apiToken: token,
      apiEmail: null,
      apiKey: null,
      userServiceKey: null,
      baseURL: this.baseURL,
      maxRetries: 0,
    });
  }

  /** Runs `node bin/threatdesk.mjs <args>` against this server's data directory. */
  cli(args: string[]): Promise<CliResult> {
    return runCli(this.dataDir, args);
  }
}

/** Runs the threatdesk CLI as a child process with the given data directory. */
export function runCli(dataDir: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: childEnv({ THREATDESK_DATA_DIR: dataDir }), timeout: START_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `token create` through the CLI; answers the printed token id and secret. */
export async function createTokenWithCli(
  dataDir: string,
  account: string,
  options: { readOnly?: boolean; name?: string } = {},
): Promise<{ id: string; token: string }> {
  const args = ['token', 'create', '--account', account];
  if (options.readOnly) args.push('--read-only');
  if (options.name) args.push('--name', options.name);
  const out = await runCli(dataDir, args);
  const token = /^token:\s+(\S+)$/m.exec(out.stdout)?.[1];
  const id = /^token id:\s+(\S+)$/m.exec(out.stdout)?.[1];
  if (out.code !== 0 || !token || !id) {
    throw new Error(`token create failed (${out.code}):\n${out.stdout}\n${out.stderr}`);
  }
  return { id, token };
}

/** The v4 envelope the server answers; most threatEvents SDK methods resolve to it as a whole. */
export interface Envelope<T> {
  success: boolean;
  errors: { code: number; message: string }[];
  messages: unknown[];
  result: T;
  result_info?: {
    page: number;
    per_page: number;
    count: number;
    total_count: number;
    total_pages: number;
    cursor?: string;
  };
}

/**
 * Reads an SDK answer as the envelope it really is. The SDK types most threatEvents methods as
 * the bare payload but returns the whole JSON body (API contract A7).
 */
export async function envelope<T>(answer: PromiseLike<unknown>): Promise<Envelope<T>> {
  return (await answer) as Envelope<T>;
}

/** `(await envelope(answer)).result` */
export async function result<T>(answer: PromiseLike<unknown>): Promise<T> {
  return (await envelope<T>(answer)).result;
}
