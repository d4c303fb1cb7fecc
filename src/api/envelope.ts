import { z } from '@hono/zod-openapi';

/** The Cloudflare v4 success envelope. */
export interface Envelope<T> {
  success: true;
  errors: [];
  messages: { code: number; message: string }[];
  result: T;
  result_info?: unknown;
}

/** Wraps a result in the v4 envelope. */
export function envelope<T>(
  result: T,
  resultInfo?: unknown,
  messages: { code: number; message: string }[] = [],
): Envelope<T> {
  const body: Envelope<T> = { success: true, errors: [], messages, result };
  if (resultInfo !== undefined) body.result_info = resultInfo;
  return body;
}

const MessageSchema = z.object({ code: z.number().int(), message: z.string() });

/** OpenAPI schema of an envelope around `result`. */
export function envelopeSchema<T extends z.ZodType>(result: T, resultInfo?: z.ZodType) {
  return z.object({
    success: z.literal(true),
    errors: z.array(MessageSchema),
    messages: z.array(MessageSchema),
    result,
    ...(resultInfo ? { result_info: resultInfo } : {}),
  });
}

export const ErrorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    errors: z
      .array(MessageSchema)
      .openapi({ example: [{ code: 1001, message: 'data[3].date: invalid datetime' }] }),
    messages: z.array(MessageSchema),
    result: z.null(),
  })
  .openapi('ErrorEnvelope');

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: ErrorEnvelopeSchema } },
});

/** The error responses every authenticated route can give. */
export const errorResponses = {
  400: errorResponse('Invalid input: each error names the field and the problem'),
  401: errorResponse('Missing or unknown API token'),
  403: errorResponse('Token of another account, or a read-only token on a write'),
  404: errorResponse('Not found'),
  413: errorResponse('Request body too large'),
} as const;

/** Answers `result` in the envelope with the given status. */
export function reply(
  result: unknown,
  status = 200,
  resultInfo?: unknown,
  messages?: { code: number; message: string }[],
): Response {
  return new Response(JSON.stringify(envelope(result, resultInfo, messages)), {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
  });
}

/** The security requirement of every Cloudforce One route (an API token). */
export const bearerSecurity = [{ bearerAuth: [] }];

/** A required JSON request body, for createRoute. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { 'application/json': { schema } },
  required: true,
});

/**
 * The responses of a route for createRoute: the envelope around `schema` on success (with
 * `result_info` when given), then the shared error responses, and a 409 when the route has one.
 */
export const okResponses = <T extends z.ZodType>(
  schema: T,
  description: string,
  options: { status?: 200 | 202; resultInfo?: z.ZodType; conflict?: string } = {},
) => ({
  [options.status ?? 200]: {
    description,
    content: { 'application/json': { schema: envelopeSchema(schema, options.resultInfo) } },
  },
  ...(options.conflict
    ? {
        409: {
          description: options.conflict,
          content: { 'application/json': { schema: ErrorEnvelopeSchema } },
        },
      }
    : {}),
  ...errorResponses,
});
