import countries from './data/countries.json' with { type: 'json' };

/** One country of the ISO 3166-1 catalog. */
export interface Country {
  alpha2: string;
  alpha3: string;
  name: string;
}

/** Every country, sorted by name. */
export const COUNTRIES: readonly Country[] = [...(countries as Country[])].sort((a, b) =>
  a.name.localeCompare(b.name),
);

const byKey = new Map<string, Country>();
for (const c of COUNTRIES) {
  byKey.set(c.alpha2.toLowerCase(), c);
  byKey.set(c.alpha3.toLowerCase(), c);
  byKey.set(c.name.toLowerCase(), c);
}

/** The country named by an alpha-2 code, alpha-3 code or English name, case-insensitively. */
export function findCountry(text: string): Country | undefined {
  return byKey.get(text.trim().toLowerCase());
}
