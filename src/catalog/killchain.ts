import phases from './data/killchain.json' with { type: 'json' };

/** One phase of the Lockheed Martin Cyber Kill Chain. */
export interface KillChainPhase {
  order: number;
  value: string;
}

/** The 7 Lockheed Martin kill chain phases, Reconnaissance (1) to Actions on Objectives (7). */
export const KILL_CHAIN_PHASES: readonly KillChainPhase[] = [...(phases as KillChainPhase[])].sort(
  (a, b) => a.order - b.order,
);
