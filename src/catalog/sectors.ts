import sectors from './data/sectors.json' with { type: 'json' };

/** Names of the MISP galaxy (CERT-EU) activity sectors, sorted. */
export const SECTORS: readonly string[] = [...(sectors as string[])].sort((a, b) => a.localeCompare(b));
