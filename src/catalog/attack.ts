import tactics from './data/attack-tactics.json' with { type: 'json' };
import techniques from './data/attack-techniques.json' with { type: 'json' };

/** An ATT&CK Enterprise tactic, in matrix order. */
export interface AttackTactic {
  id: string;
  shortname: string;
  name: string;
  order: number;
}

/** The 14 ATT&CK Enterprise tactics (v18.1), in matrix order. */
export const ATTACK_TACTICS: readonly AttackTactic[] = [...(tactics as AttackTactic[])].sort(
  (a, b) => a.order - b.order,
);

const techniqueList = techniques as { id: string; tactics: string[] }[];
const techniqueIds = new Set(techniqueList.map((t) => t.id));

/** True when `id` is an active ATT&CK Enterprise technique or sub-technique id (upper case, e.g. T1059.001). */
export function isAttackTechnique(id: string): boolean {
  return techniqueIds.has(id);
}

/** Ids of the techniques (not sub-techniques) under a tactic, sorted. */
export function techniquesOfTactic(shortname: string): string[] {
  return techniqueList
    .filter((t) => !t.id.includes('.') && t.tactics.includes(shortname))
    .map((t) => t.id)
    .sort();
}
