import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/api/graphql/schema.ts';

describe('docs/schema.graphql', () => {
  it('is the schema the server runs (regenerate with node --import tsx scripts/print-graphql-schema.ts)', () => {
    const doc = readFileSync(new URL('../../docs/schema.graphql', import.meta.url), 'utf8');
    expect(doc).toBe(`${printSchema(schema)}\n`);
  });
});
