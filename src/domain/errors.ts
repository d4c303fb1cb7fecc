/**
 * Every error code the API answers with, and the HTTP status that goes with it.
 * Codes are stable: clients may branch on them.
 */
export const ErrorCodes = {
  authentication: { code: 10000, status: 401 },
  forbidden: { code: 10001, status: 403 },
  invalidInput: { code: 1001, status: 400 },
  malformedJson: { code: 1002, status: 400 },
  notFound: { code: 1003, status: 404 },
  payloadTooLarge: { code: 1004, status: 413 },
  conflict: { code: 1005, status: 409 },
  invalidCursor: { code: 1006, status: 400 },
  cursorConflict: { code: 1007, status: 400 },
  routeNotFound: { code: 1008, status: 404 },
  methodNotAllowed: { code: 1009, status: 405 },
  unsupportedMediaType: { code: 1010, status: 415 },
  unavailable: { code: 1011, status: 503 },
  internal: { code: 1000, status: 500 },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

/** One error detail in the envelope: a message, and where in the request it points when known. */
export interface ErrorDetail {
  code: number;
  message: string;
}

/** An error the API answers on purpose, rendered as the Cloudflare v4 error envelope. */
export class ApiError extends Error {
  readonly status: number;
  readonly details: ErrorDetail[];

  constructor(kind: ErrorKind, messages: string | string[]) {
    const list = Array.isArray(messages) ? messages : [messages];
    super(list.join('; '));
    this.name = 'ApiError';
    this.status = ErrorCodes[kind].status;
    this.details = list.map((message) => ({ code: ErrorCodes[kind].code, message }));
  }
}

export const notFound = (what: string, id: string | number): ApiError =>
  new ApiError('notFound', `${what} not found: ${id}`);

export const invalidInput = (issues: string | string[]): ApiError => new ApiError('invalidInput', issues);

export const conflict = (message: string): ApiError => new ApiError('conflict', message);

export const forbidden = (message: string): ApiError => new ApiError('forbidden', message);
