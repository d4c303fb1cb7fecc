// Writes the GraphQL schema of E13/E14 to docs/schema.graphql (a test keeps the two in step).
import { writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { schema } from '../src/api/graphql/schema.ts';

writeFileSync(new URL('../docs/schema.graphql', import.meta.url), `${printSchema(schema)}\n`);
