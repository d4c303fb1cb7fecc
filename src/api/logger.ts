/** Structured logs: one JSON object per line. Never given a token. */
export interface Logger {
  info(fields: Record<string, unknown>): void;
  error(fields: Record<string, unknown>): void;
}

/** Writes JSON lines through a sink (stdout on Node). */
export function jsonLogger(write: (line: string) => void): Logger {
  const log = (level: string, fields: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, ...fields }));
  return { info: (f) => log('info', f), error: (f) => log('error', f) };
}

export const silentLogger: Logger = { info: () => {}, error: () => {} };
