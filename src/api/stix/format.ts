import { invalidInput } from '../../domain/errors.ts';
import { STIX_MEDIA_TYPE, type StixFormat, TAXII_MEDIA_TYPE } from '../../domain/stix/export.ts';
import type { QueryParams } from '../query.ts';

export type ListFormat = 'json' | StixFormat;

/** The `format` query parameter of E01 and E54: json (default), stix2 or taxii. */
export function parseFormat(q: QueryParams): ListFormat {
  const format = q.string('format');
  if (format === undefined || format === '' || format === 'json') return 'json';
  if (format === 'stix2' || format === 'taxii') return format;
  throw invalidInput(`format: ${JSON.stringify(format)} is not supported; use json, stix2 or taxii`);
}

/** The media type a STIX format is answered with. */
export function mediaType(format: StixFormat): string {
  return format === 'taxii' ? TAXII_MEDIA_TYPE : STIX_MEDIA_TYPE;
}

/** Answers a STIX bundle or TAXII envelope (a JSON value or a stream of its text). */
export function stixResponse(
  format: StixFormat,
  body: ReadableStream<Uint8Array> | object,
  headers: Record<string, string> = {},
): Response {
  return new Response(body instanceof ReadableStream ? body : JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': mediaType(format), ...headers },
  });
}
