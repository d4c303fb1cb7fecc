import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, ErrorCodes } from '../domain/errors.ts';
import type { Logger } from './logger.ts';

/** The v4 error envelope for an error. */
export function errorBody(err: ApiError) {
  return { success: false as const, errors: err.details, messages: [], result: null };
}

/** Turns anything thrown into the v4 error envelope; unknown errors are logged and answered 500. */
export function renderError(err: unknown, c: Context, logger: Logger): Response {
  let apiError: ApiError;
  if (err instanceof ApiError) {
    apiError = err;
  } else if (err instanceof HTTPException) {
    if (err.status === 413)
      apiError = new ApiError('payloadTooLarge', 'request body is larger than the limit');
    else if (err.status === 400 && /json/i.test(err.message)) {
      apiError = new ApiError('malformedJson', `body: malformed JSON (${err.message})`);
    } else if (err.status === 400) apiError = new ApiError('invalidInput', err.message || 'bad request');
    else if (err.status === 401)
      apiError = new ApiError('authentication', err.message || 'authentication required');
    else if (err.status === 415) {
      apiError = new ApiError(
        'unsupportedMediaType',
        'body: send the body as JSON with Content-Type: application/json',
      );
    } else {
      logger.error({
        msg: 'unhandled http exception',
        status: err.status,
        error: err.message,
        requestId: c.get('requestId'),
      });
      apiError = new ApiError('internal', 'internal error');
    }
  } else if (err instanceof SyntaxError) {
    apiError = new ApiError('malformedJson', `body: malformed JSON (${err.message})`);
  } else {
    logger.error({
      msg: 'unhandled error',
      requestId: c.get('requestId'),
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    apiError = new ApiError('internal', `internal error (request id ${c.get('requestId') ?? 'unknown'})`);
  }
  return c.json(errorBody(apiError), apiError.status as 400);
}

export { ErrorCodes };
