import actors from './data/actors.json' with { type: 'json' };

/** A threat actor of the MISP galaxy `threat-actor` cluster, trimmed (absent fields had no value). */
export interface ActorRecord {
  name: string;
  uuid: string;
  aliases?: string[];
  country?: string;
  motive?: string;
  attributionConfidence?: number;
  targetedSectors?: string[];
  targetCategories?: string[];
  incidentTypes?: string[];
  targetCountries?: string[];
  mitreGroupIds?: string[];
  description?: string;
}

/** Every actor of the cluster (about a thousand). Import this module only where it is needed. */
export const ACTORS: readonly ActorRecord[] = actors as ActorRecord[];
