/**
 * Traffic Light Protocol markings as the published STIX 2.1 marking-definition objects, with
 * their well-known ids (clients match markings by id, so these are never generated).
 * TLP 2.0 levels (clear, green, amber, amber+strict, red) use the OASIS TLP 2.0 extension
 * objects; `white`, which exists only in TLP 1.0, uses the TLP:WHITE object STIX 2.1
 * predefines (section 7.2.1.4).
 */

export const TLP_2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** A marking-definition object, as published. */
export type MarkingDefinition = {
  type: 'marking-definition';
  spec_version: '2.1';
  id: string;
  created: string;
  name: string;
} & (
  | { definition_type: 'tlp'; definition: { tlp: string } }
  | { extensions: Record<string, { extension_type: 'property-extension'; tlp_2_0: string }> }
);

function tlp2(id: string, level: string): MarkingDefinition {
  return {
    type: 'marking-definition',
    spec_version: '2.1',
    id: `marking-definition--${id}`,
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${level.toUpperCase()}`,
    extensions: { [TLP_2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: level } },
  };
}

const MARKINGS: Readonly<Record<string, MarkingDefinition>> = {
  clear: tlp2('94868c89-83c2-464b-929b-a1a8aa3c8487', 'clear'),
  green: tlp2('bab4a63c-aed9-4cf5-a766-dfca5abac2bb', 'green'),
  amber: tlp2('55d920b0-5e8b-4f79-9ee9-91f868d9b421', 'amber'),
  'amber+strict': tlp2('939a9414-2ddd-4d32-a0cd-375ea402b003', 'amber+strict'),
  red: tlp2('e828b379-4e03-4974-9ac4-e53a884c97c1', 'red'),
  white: {
    type: 'marking-definition',
    spec_version: '2.1',
    id: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9',
    created: '2017-01-20T00:00:00.000Z',
    name: 'TLP:WHITE',
    definition_type: 'tlp',
    definition: { tlp: 'white' },
  },
};

/** Spellings events use for the levels, folded to the keys above. */
const ALIASES: Readonly<Record<string, string>> = {
  'tlp:clear': 'clear',
  'tlp:white': 'white',
  'tlp:green': 'green',
  'tlp:amber': 'amber',
  'tlp:amber+strict': 'amber+strict',
  'amber-strict': 'amber+strict',
  amber_strict: 'amber+strict',
  'tlp:red': 'red',
};

/** The marking of an event's `tlp` text, or undefined when it names no TLP level. */
export function tlpMarking(tlp: string | null | undefined): MarkingDefinition | undefined {
  if (!tlp) return undefined;
  const key = tlp.trim().toLowerCase();
  return MARKINGS[ALIASES[key] ?? key];
}

/** Every marking this server may reference. */
export function allTlpMarkings(): MarkingDefinition[] {
  return Object.values(MARKINGS);
}
