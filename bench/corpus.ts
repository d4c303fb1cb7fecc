import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A realistic, deterministic event corpus built from the shared threat-intel data: real actors
 * with their country and targeted sectors, real indicators, ATT&CK techniques through the
 * actor's MITRE group, maltrail family names and aliases as tags, and a ~300-byte raw payload.
 */

interface Actor {
  name: string;
  country: string | null;
  targetCountries: string[];
  targetCategories: string[];
  targetedSectors: string[];
  incidentTypes: string[];
  mitreGroupIds: string[];
  description: string | null;
}
interface Ioc {
  value: string;
  type: string;
  family: string | null;
  category: string;
  source: string;
  port?: number;
  ref?: string;
}
interface Family {
  family: string;
  aliases: string[];
}
interface Group {
  id: string;
  techniques: string[];
}

/** One event as the bulk-create API takes it. */
export interface BenchEvent {
  attacker: string;
  attackerCountry: string;
  category: string;
  date: string;
  event: string;
  indicator: string;
  indicatorType: string;
  indicators: { indicatorType: string; value: string }[];
  insight?: string;
  killChain: number;
  mitreAttack: string[];
  tags: string[];
  targetCountry: string;
  targetIndustry: string;
  tlp: string;
  raw: { source: string; data: Record<string, unknown> };
}

/** Where the shared data lives: THREATDESK_SHARED_DATA, else ../shared/data next to the repository. */
export function sharedDataDir(): string {
  const fromEnv = process.env.THREATDESK_SHARED_DATA;
  const dir = fromEnv ? fromEnv : fileURLToPath(new URL('../../shared/data/', import.meta.url));
  if (!fs.existsSync(`${dir}/actors.json`) || !fs.existsSync(`${dir}/iocs.json`)) {
    throw new Error(
      `bench: the shared threat-intel data was not found in ${dir} (expected actors.json, iocs.json, ` +
        'attack-groups.json, maltrail-families.json, countries.json, sectors.json). ' +
        'Set THREATDESK_SHARED_DATA to the folder that holds them.',
    );
  }
  return dir;
}

function load<T>(dir: string, name: string): T {
  return JSON.parse(fs.readFileSync(`${dir}/${name}`, 'utf8')) as T;
}

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GENERIC_TAGS = [
  'malware',
  'apt',
  'phishing',
  'c2',
  'botnet',
  'ransomware',
  'espionage',
  'credential-theft',
];
const TLPS = ['amber', 'green', 'green', 'white', 'clear', 'red', 'amber'];
const VERBS = ['used', 'operated', 'was seen using', 'staged payloads on', 'rotated to', 'registered'];
const FEEDS = ['maltrail', 'eset-ioc', 'partner-share', 'honeypot', 'sinkhole', 'passive-dns'];

function firstSentence(text: string | null): string {
  if (!text) return '';
  const m = /^(.{20,220}?[.!?])(\s|$)/s.exec(text);
  return (m?.[1] ?? text.slice(0, 160)).replace(/\s+/g, ' ').trim();
}

/** Deterministic generator of bench events; the same seed always yields the same sequence. */
export class Corpus {
  private readonly actors: Actor[];
  private readonly iocs: Ioc[];
  private readonly aliases = new Map<string, string[]>();
  private readonly techniques = new Map<string, string[]>();
  private readonly countries: string[];
  private readonly sectors: string[];
  private readonly sentences: string[];

  constructor(dir: string = sharedDataDir()) {
    this.actors = load<Actor[]>(dir, 'actors.json');
    this.iocs = load<Ioc[]>(dir, 'iocs.json');
    for (const f of load<Family[]>(dir, 'maltrail-families.json')) this.aliases.set(f.family, f.aliases);
    for (const g of load<Group[]>(dir, 'attack-groups.json')) this.techniques.set(g.id, g.techniques);
    this.countries = load<{ alpha2: string }[]>(dir, 'countries.json').map((c) => c.alpha2);
    this.sectors = load<{ name: string }[]>(dir, 'sectors.json').map((s) => s.name);
    this.sentences = this.actors.map((a) => firstSentence(a.description));
  }

  /** An endless, deterministic stream of events. */
  *events(seed = 42): Generator<BenchEvent> {
    const r = rng(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
    const start = Date.UTC(2023, 0, 1);
    const span = 3 * 365 * 86_400_000;
    const actors = this.actors;
    const iocs = this.iocs;
    for (;;) {
      // A mild skew: a few actors are much more active than the long tail, as in real feeds.
      const ai = Math.floor(actors.length * r() ** 1.6);
      const actor = actors[ai] as Actor;
      const nInd = 1 + Math.floor(r() * 3);
      const inds: Ioc[] = [];
      for (let k = 0; k < nInd; k++) inds.push(pick(iocs));
      const first = inds[0] as Ioc;
      const family = first.family ?? 'unknown';
      const tags = new Set<string>();
      tags.add(family);
      const famAliases = this.aliases.get(family) ?? [];
      if (famAliases.length > 0 && r() < 0.5) tags.add(pick(famAliases));
      tags.add(first.category === 'apt' ? 'apt' : first.category === 'malicious' ? 'c2' : 'malware');
      const want = 2 + Math.floor(r() * 3);
      while (tags.size < want) tags.add(pick(GENERIC_TAGS));
      const industries = [...actor.targetedSectors, ...actor.targetCategories];
      const industry = industries.length > 0 ? pick(industries) : pick(this.sectors);
      const target = actor.targetCountries.length > 0 ? pick(actor.targetCountries) : pick(this.countries);
      const mitre: string[] = [];
      for (const gid of actor.mitreGroupIds) {
        const t = this.techniques.get(gid);
        if (t && t.length > 0) for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) mitre.push(pick(t));
      }
      const date = new Date(start + Math.floor(r() * span)).toISOString();
      const sentence = this.sentences[ai] ?? '';
      const event = `${actor.name} ${pick(VERBS)} ${first.type} ${first.value} (${family}) against ${industry} in ${target}. ${sentence}`;
      const e: BenchEvent = {
        attacker: actor.name,
        attackerCountry: actor.country ?? '',
        category: actor.incidentTypes.length > 0 && r() < 0.3 ? pick(actor.incidentTypes) : first.category,
        date,
        event,
        indicator: first.value,
        indicatorType: first.type,
        indicators: inds.slice(1).map((i) => ({ indicatorType: i.type, value: i.value })),
        killChain: Math.floor(r() * 8),
        mitreAttack: mitre,
        tags: [...tags],
        targetCountry: target,
        targetIndustry: industry,
        tlp: pick(TLPS),
        raw: {
          source: pick(FEEDS),
          data: {
            observed: date,
            family,
            category: first.category,
            type: first.type,
            value: first.value,
            ...(first.port !== undefined ? { port: first.port } : {}),
            confidence: Math.floor(r() * 100),
            reference: first.ref ?? null,
            sensor: `sensor-${Math.floor(r() * 500)}`,
            note: 'observed in feed; automated enrichment pending analyst review',
          },
        },
      };
      if (r() < 0.2) e.insight = `Likely ${family} activity attributed to ${actor.name}.`;
      yield e;
    }
  }
}

/** The words FTS5's unicode61 tokenizer would index for an event (lower-cased, de-duplicated). */
export function ftsWords(e: BenchEvent): Set<string> {
  const text = [e.event, e.insight ?? '', e.indicator, ...e.indicators.map((i) => i.value)].join(' ');
  return new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}_]+/u)
      .filter(Boolean),
  );
}
