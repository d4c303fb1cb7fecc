import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** The JSON body of an alert webhook. */
export interface AlertBody {
  alert_id: number;
  query_id: number;
  query_name: string;
  events: { uuid: string; createdAt: string; tlp: string; event: string }[];
}

/** One POST that reached the receiver. */
export interface WebhookHit {
  key: string;
  signature: string | undefined;
  contentType: string | undefined;
  raw: string;
  body: AlertBody;
  /** What the receiver answered: a status, or 'hang' (no answer until the receiver stops). */
  answer: number | 'hang';
}

/** `sha256=<hex>` of the body keyed with the secret, as the receiver computes it. */
export function expectedSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * A real HTTP receiver on 127.0.0.1 (port 0). `answer(n, hit)` decides the reply to the n-th
 * request (0-based): a status or 'hang'. It keeps every request, and dedupes accepted messages
 * by Idempotency-Key the way a careful receiver would.
 */
export class WebhookReceiver {
  readonly hits: WebhookHit[] = [];
  /** Accepted (2xx) messages by idempotency key: a key seen again is a duplicate, not a new message. */
  readonly accepted = new Map<string, WebhookHit>();
  /** Keys that arrived again after they had been accepted. */
  readonly duplicates: string[] = [];
  answer: (n: number, hit: WebhookHit) => number | 'hang' = () => 200;
  private server: http.Server | undefined;
  private waiters: { count: number; resolve: () => void }[] = [];

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return `http://127.0.0.1:${address?.port ?? 0}/hooks/threatdesk`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const hit: WebhookHit = {
          key: String(req.headers['idempotency-key'] ?? ''),
          signature: req.headers['x-threatdesk-signature'] as string | undefined,
          contentType: req.headers['content-type'],
          raw,
          body: JSON.parse(raw) as AlertBody,
          answer: 200,
        };
        hit.answer = this.answer(this.hits.length, hit);
        this.hits.push(hit);
        if (hit.answer !== 'hang') {
          if (hit.answer >= 200 && hit.answer < 300) {
            if (this.accepted.has(hit.key)) this.duplicates.push(hit.key);
            else this.accepted.set(hit.key, hit);
          }
          res.writeHead(hit.answer, { 'content-type': 'text/plain' }).end('ok');
        }
        this.notify();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  /** Resolves once at least `count` requests have arrived. */
  waitForHits(count: number, timeoutMs = 20_000): Promise<void> {
    if (this.hits.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.hits.length} of ${count} webhook requests arrived`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => {
      if (this.hits.length < w.count) return true;
      w.resolve();
      return false;
    });
  }

  /** The uuids of every accepted message, in the order they were accepted. */
  acceptedEventUuids(): string[] {
    return [...this.accepted.values()].flatMap((h) => h.body.events.map((e) => e.uuid));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One message that reached the SMTP server. */
export interface Mail {
  from: string;
  to: string[];
  headers: Map<string, string>;
  text: string;
}

/** A real SMTP server (the smtp-server package) on 127.0.0.1, port 0, keeping every message. */
export class MailReceiver {
  readonly mails: Mail[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        this.mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), session.envelope));
        callback();
      });
    },
  });

  get url(): string {
    const address = this.server.server.address() as AddressInfo | null;
    return `smtp://127.0.0.1:${address?.port ?? 0}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function parseMail(
  raw: string,
  envelope: { mailFrom: false | { address: string }; rcptTo: { address: string }[] },
): Mail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split);
  const body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const at = line.indexOf(':');
    headers.set(line.slice(0, at).toLowerCase(), line.slice(at + 1).trim());
  }
  const text =
    headers.get('content-transfer-encoding') === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : body;
  return {
    from: envelope.mailFrom ? envelope.mailFrom.address : '',
    to: envelope.rcptTo.map((r) => r.address),
    headers,
    text,
  };
}
