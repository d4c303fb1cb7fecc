import net from 'node:net';
import tls from 'node:tls';
import type { EmailMessage } from '../../domain/queries/delivery.ts';

/** Where alert emails go: `smtp://[user:pass@]host[:port]` (plain) or `smtps://…` (TLS from the start). */
export interface SmtpSettings {
  url: string;
  from: string;
  timeoutMs: number;
}

/** Reads SMTP replies (`250-…` continuation lines, then `250 …`) one at a time. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private readonly replies: { code: number; text: string }[] = [];
  private waiter: ((r: { code: number; text: string } | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at = this.buffer.indexOf('\n');
      while (at >= 0) {
        const line = this.buffer.slice(0, at).replace(/\r$/, '');
        this.buffer = this.buffer.slice(at + 1);
        this.lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          this.push({ code: Number(line.slice(0, 3)), text: this.lines.join('\n') });
          this.lines = [];
        }
        at = this.buffer.indexOf('\n');
      }
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      const w = this.waiter;
      this.waiter = undefined;
      w?.(this.failure);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('SMTP connection closed')));
  }

  private push(reply: { code: number; text: string }): void {
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w(reply);
    } else {
      this.replies.push(reply);
    }
  }

  /** The next reply; throws unless its code is one of `expected`. */
  async expect(step: string, ...expected: number[]): Promise<void> {
    const next = this.replies.shift();
    const reply =
      next ??
      (this.failure
        ? this.failure
        : await new Promise<{ code: number; text: string } | Error>((resolve) => {
            this.waiter = resolve;
          }));
    if (reply instanceof Error) throw new Error(`SMTP ${step}: ${reply.message}`);
    if (!expected.includes(reply.code)) throw new Error(`SMTP ${step}: ${reply.text}`);
  }
}

/** RFC 2047 encoded-word for a header value that is not plain ASCII. */
function headerText(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

/** The whole message (headers, blank line, base64 body), CRLF line ends. */
export function formatMessage(from: string, message: EmailMessage, date: Date): string {
  const body = Buffer.from(message.text, 'utf8').toString('base64');
  const bodyLines = body.match(/.{1,76}/g) ?? [];
  return [
    `From: threatdesk <${from}>`,
    `To: <${message.to}>`,
    `Subject: ${headerText(message.subject)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${message.idempotencyKey}@threatdesk>`,
    `X-Threatdesk-Idempotency-Key: ${message.idempotencyKey}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    ...bodyLines,
  ].join('\r\n');
}

function checkAddress(what: string, address: string): string {
  if (/[\r\n<>]/.test(address)) throw new Error(`SMTP: ${what} address has characters SMTP cannot carry`);
  return address;
}

/**
 * Sends one message with a minimal SMTP client (EHLO, optional AUTH PLAIN, MAIL, RCPT, DATA).
 * Resolves once the server accepted the DATA (250), the point where the message is delivered.
 */
export async function sendMail(
  settings: SmtpSettings,
  message: EmailMessage,
  signal: AbortSignal,
): Promise<void> {
  const url = new URL(settings.url);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`THREATDESK_SMTP_URL must start with smtp:// or smtps://, got ${url.protocol}`);
  }
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 25;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const socket = secure ? tls.connect({ host, port, servername: host }) : net.connect({ host, port });
  const onAbort = () => socket.destroy(new Error('stopped'));
  signal.addEventListener('abort', onAbort, { once: true });
  socket.setTimeout(settings.timeoutMs, () =>
    socket.destroy(new Error(`no answer within ${settings.timeoutMs} ms`)),
  );
  const reader = new ReplyReader(socket);
  const send = (line: string) => socket.write(`${line}\r\n`);
  try {
    if (signal.aborted) throw new Error('stopped');
    await reader.expect('greeting', 220);
    send('EHLO threatdesk');
    await reader.expect('EHLO', 250);
    if (url.username) {
      const user = decodeURIComponent(url.username);
      const pass = decodeURIComponent(url.password);
      send(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`, 'utf8').toString('base64')}`);
      await reader.expect('AUTH', 235);
    }
    send(`MAIL FROM:<${checkAddress('from', settings.from)}>`);
    await reader.expect('MAIL FROM', 250);
    send(`RCPT TO:<${checkAddress('recipient', message.to)}>`);
    await reader.expect('RCPT TO', 250, 251);
    send('DATA');
    await reader.expect('DATA', 354);
    // Dot-stuffing: a line that starts with "." gets another one (RFC 5321 4.5.2).
    const data = formatMessage(settings.from, message, new Date()).replace(/^\./gm, '..');
    socket.write(`${data}\r\n.\r\n`);
    await reader.expect('message', 250);
    send('QUIT');
  } finally {
    signal.removeEventListener('abort', onAbort);
    socket.end();
    socket.destroy();
  }
}
