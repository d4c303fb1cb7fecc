import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * The OASIS STIX 2.1 JSON schemas, copied into test/fixtures/stix21-schemas (BSD-3-Clause), or
 * where THREATDESK_STIX_SCHEMAS points.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SCHEMA_DIR = process.env.THREATDESK_STIX_SCHEMAS
  ? path.resolve(process.env.THREATDESK_STIX_SCHEMAS)
  : path.resolve(ROOT, 'test', 'fixtures', 'stix21-schemas');

const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas';
const FOLDERS = ['common', 'sdos', 'sros', 'observables'] as const;

// ajv-formats is CommonJS; under ESM its function is the default export's `default`.
type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  addFormatsModule) as unknown as AddFormats;

export interface StixValidator {
  /** Problems of one object: against the bundle schema's item rules and its own type's schema. */
  object(o: unknown): string[];
  /** Problems of a whole bundle, and of every object in it. */
  bundle(b: unknown): string[];
}

function describe(v: ValidateFunction): string[] {
  return (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} (${e.schemaPath})`);
}

/** Loads all 57 schemas (fails clearly when the folder is missing) and compiles the validators. */
export function loadStixSchemas(): StixValidator {
  const dir = path.join(SCHEMA_DIR, 'schemas');
  if (!fs.existsSync(dir)) {
    throw new Error(
      `STIX 2.1 schemas not found at ${dir}: put the OASIS cti-stix2-json-schemas folder (stix21-schemas) ` +
        'at test/fixtures/stix21-schemas, or set THREATDESK_STIX_SCHEMAS',
    );
  }
  const ajv = new Ajv2020({ unicodeRegExp: false, strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('idn-hostname', true);
  const byType = new Map<string, string>();
  let count = 0;
  for (const folder of FOLDERS) {
    for (const file of fs.readdirSync(path.join(dir, folder)).filter((f) => f.endsWith('.json'))) {
      ajv.addSchema(JSON.parse(fs.readFileSync(path.join(dir, folder, file), 'utf8')));
      count++;
      if (folder !== 'common') byType.set(file.replace(/\.json$/, ''), `${BASE}/${folder}/${file}`);
    }
  }
  if (count !== 57) throw new Error(`expected 57 STIX schemas in ${dir}, found ${count}`);
  byType.set('marking-definition', `${BASE}/common/marking-definition.json`);
  const compiled = new Map<string, ValidateFunction>();
  const validator = (id: string): ValidateFunction => {
    let v = compiled.get(id);
    if (!v) {
      const schema = ajv.getSchema(id);
      if (!schema) throw new Error(`schema not loaded: ${id}`);
      v = schema;
      compiled.set(id, v);
    }
    return v;
  };
  const bundleSchema = validator(`${BASE}/common/bundle.json`);

  const object = (o: unknown): string[] => {
    const type = (o as { type?: unknown })?.type;
    const id = (o as { id?: unknown })?.id;
    if (typeof type !== 'string') return ['object without a type'];
    const own = byType.get(type);
    if (!own) return [`${String(id)}: no schema for type ${type}`];
    const v = validator(own);
    const problems = v(o) ? [] : describe(v).map((p) => `${String(id)}: ${p}`);
    // The bundle's oneOf also checks the object against every known type.
    const b = { type: 'bundle', id: 'bundle--00000000-0000-4000-8000-000000000000', objects: [o] };
    if (!bundleSchema(b))
      problems.push(...describe(bundleSchema).map((p) => `${String(id)} in a bundle: ${p}`));
    return problems;
  };
  return {
    object,
    bundle(b) {
      const problems = bundleSchema(b) ? [] : describe(bundleSchema);
      const objects = (b as { objects?: unknown[] }).objects ?? [];
      for (const o of objects) problems.push(...object(o));
      return problems;
    },
  };
}
