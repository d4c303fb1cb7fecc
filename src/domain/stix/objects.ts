import { findCountry } from '../../catalog/countries.ts';
import { KILL_CHAIN_PHASES } from '../../catalog/killchain.ts';
import type { ThreatEventView } from '../events/events.ts';
import type { IndicatorView } from '../indicators/indicators.ts';
import { stixPattern } from './patterns.ts';
import { tlpMarking } from './tlp.ts';
import { sharedStixId, stixId } from './uuid5.ts';

/** One STIX 2.1 object, as JSON. */
export interface StixObject {
  type: string;
  id: string;
  spec_version: '2.1';
  [property: string]: unknown;
}

/**
 * `created`/`modified` of the objects several events share (the producer, threat actors,
 * sectors, countries). A constant, so every export of such an object is the same version.
 */
export const SHARED_TIMESTAMP = '1970-01-01T00:00:00.000Z';

/** Objects one event (or indicator) exports: context shared with other events, and its own. */
export interface ExportedObjects {
  /** Objects whose id and content do not depend on the event; a writer may send each once. */
  shared: StixObject[];
  /** Objects that belong to this event only (indicators, relationships, the report). */
  own: StixObject[];
}

/** The identity that produced every exported object: the account on this server. */
export function producerIdentity(accountId: string): StixObject {
  return {
    type: 'identity',
    spec_version: '2.1',
    id: sharedStixId('identity', `producer/${accountId}`),
    created: SHARED_TIMESTAMP,
    modified: SHARED_TIMESTAMP,
    name: `threatdesk account ${accountId}`,
    identity_class: 'organization',
  };
}

/** Open-vocabulary spelling: lower case, words joined by `-` (industry-sector-ov style). */
function vocab(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function killChainPhase(order: number): { kill_chain_name: string; phase_name: string } | undefined {
  const phase = KILL_CHAIN_PHASES.find((p) => p.order === order);
  return phase
    ? { kill_chain_name: 'lockheed-martin-cyber-kill-chain', phase_name: vocab(phase.value) }
    : undefined;
}

/**
 * A country as alpha-2 when we know it, else the text as given. Countries travel as `x_`
 * properties of the report rather than as location objects: the OASIS bundle schema has no
 * branch that accepts a location object, so a bundle holding one fails validation.
 */
function country(text: string): string | undefined {
  const t = text.trim();
  return t ? (findCountry(t)?.alpha2 ?? t) : undefined;
}

function sectorIdentity(industry: string): StixObject | undefined {
  const sector = vocab(industry);
  if (!sector) return undefined;
  return {
    type: 'identity',
    spec_version: '2.1',
    id: sharedStixId('identity', `sector/${sector}`),
    created: SHARED_TIMESTAMP,
    modified: SHARED_TIMESTAMP,
    name: industry.trim(),
    identity_class: 'class',
    sectors: [sector],
  };
}

function threatActor(accountId: string, producer: string, name: string): StixObject {
  return {
    type: 'threat-actor',
    spec_version: '2.1',
    id: sharedStixId('threat-actor', `${accountId}/${name.trim().toLowerCase()}`),
    created_by_ref: producer,
    created: SHARED_TIMESTAMP,
    modified: SHARED_TIMESTAMP,
    name: name.trim(),
  };
}

function externalReferences(e: ThreatEventView): Record<string, string>[] {
  const refs: Record<string, string>[] = [
    {
      source_name: 'cloudforce-one',
      external_id: e.uuid,
      description: `threat event in dataset ${e.datasetId}`,
    },
  ];
  for (const t of e.mitreAttack) refs.push({ source_name: 'mitre-attack', external_id: t });
  for (const c of e.mitreCapec) {
    const n = /^(?:capec-)?(\d+)$/i.exec(c.trim())?.[1];
    refs.push(
      n ? { source_name: 'capec', external_id: `CAPEC-${n}` } : { source_name: 'capec-text', description: c },
    );
  }
  return refs;
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list.map((s) => s.trim()).filter(Boolean))];
}

const REPORT_NAME_MAX = 200;

/**
 * An event as STIX: its indicators, the attacker as a threat-actor, the target sector as an
 * identity (with `sectors`), the relationships between them (indicator `indicates` actor,
 * actor `targets` sector), and the event itself as a report that refers to all of them. Ids are derived from the event uuid (and,
 * for shared objects, from the account and the name), so exports repeat exactly.
 */
export function eventObjects(accountId: string, e: ThreatEventView): ExportedObjects {
  const producer = producerIdentity(accountId);
  const marking = tlpMarking(e.tlp);
  const markings = marking ? { object_marking_refs: [marking.id] } : {};
  const shared: StixObject[] = [producer];
  if (marking) shared.push(marking as unknown as StixObject);
  const own: StixObject[] = [];
  const base = (type: string, name: string) => ({
    type,
    spec_version: '2.1' as const,
    id: stixId(type, `${e.uuid}/${name}`),
    created_by_ref: producer.id,
    created: e.createdAt,
    modified: e.updatedAt,
  });
  const relate = (source: StixObject, kind: string, target: StixObject) => {
    own.push({
      ...base('relationship', `${kind}/${source.id.slice(-36)}/${target.id.slice(-36)}`),
      relationship_type: kind,
      source_ref: source.id,
      target_ref: target.id,
      ...markings,
    });
  };

  const phase = killChainPhase(e.killChain);
  const labels = unique(e.tags);
  const indicators = e.indicators.map(
    (i): StixObject => ({
      ...base('indicator', `${i.indicatorType}/${i.value}`),
      name: i.value,
      indicator_types: ['malicious-activity'],
      pattern: stixPattern(i.indicatorType, i.value),
      pattern_type: 'stix',
      pattern_version: '2.1',
      valid_from: e.date,
      ...(phase ? { kill_chain_phases: [phase] } : {}),
      ...(labels.length ? { labels } : {}),
      ...markings,
    }),
  );
  own.push(...indicators);

  const actor = e.attacker.trim() ? threatActor(accountId, producer.id, e.attacker) : undefined;
  const sector = sectorIdentity(e.targetIndustry);
  for (const o of [actor, sector]) if (o) shared.push(o);
  if (actor) {
    for (const i of indicators) relate(i, 'indicates', actor);
    if (sector) relate(actor, 'targets', sector);
  }
  const targetCountry = country(e.targetCountry);
  const attackerCountry = country(e.attackerCountry);

  const refs = [...own.map((o) => o.id), ...[actor, sector].flatMap((o) => (o ? [o.id] : []))];
  const text = e.event.trim();
  const firstLine = text.split('\n')[0] ?? '';
  const name = firstLine.length > REPORT_NAME_MAX ? `${firstLine.slice(0, REPORT_NAME_MAX - 1)}…` : firstLine;
  own.push({
    ...base('report', 'report'),
    name: name || `Threat event ${e.uuid}`,
    description: e.insight ? `${text}\n\n${e.insight}` : text || `Threat event ${e.uuid}`,
    report_types: ['threat-report'],
    published: e.date,
    object_refs: refs.length ? unique(refs) : [producer.id],
    labels: unique([e.category, ...e.tags]).length ? unique([e.category, ...e.tags]) : ['threat-event'],
    external_references: externalReferences(e),
    ...(attackerCountry ? { x_threatdesk_attacker_country: attackerCountry } : {}),
    ...(targetCountry ? { x_threatdesk_target_country: targetCountry } : {}),
    ...markings,
  });
  return { shared, own };
}

/** An indicator (E54) as a STIX Indicator SDO; the id is derived from the indicator's uuid. */
export function indicatorObjects(accountId: string, i: IndicatorView): ExportedObjects {
  const producer = producerIdentity(accountId);
  const marking = tlpMarking(i.tlp);
  const labels = unique((i.tags ?? []).map((t) => t.value));
  const shared: StixObject[] = [producer];
  if (marking) shared.push(marking as unknown as StixObject);
  return {
    shared,
    own: [
      {
        type: 'indicator',
        spec_version: '2.1',
        id: stixId('indicator', `record/${i.uuid}`),
        created_by_ref: producer.id,
        created: i.createdAt,
        modified: i.updatedAt,
        name: i.value,
        indicator_types: ['malicious-activity'],
        pattern: stixPattern(i.indicatorType, i.value),
        pattern_type: 'stix',
        pattern_version: '2.1',
        valid_from: i.createdAt,
        ...(labels.length ? { labels } : {}),
        ...(marking ? { object_marking_refs: [marking.id] } : {}),
        external_references: [
          {
            source_name: 'cloudforce-one',
            external_id: i.uuid,
            description: `indicator in dataset ${i.datasetId}`,
          },
        ],
      },
    ],
  };
}
