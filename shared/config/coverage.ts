// Which open cases only the absolute ceiling covers: a category, risk level or stage with no rule
// of its own first warns after the ceiling's limit (14 days in the shipped config), which is
// rarely what an admin meant. `config check` warns about each, in the fewest words that cover it.

import type { RiskLevel, Stage } from '../domain/case.ts';
import { type CaseKey, type CompiledConfig, openCaseKeys } from './compile.ts';

type Dimension = 'category' | 'riskLevel' | 'stage';

export interface CeilingOnlyGap {
  /** The attributes that pick out the uncovered cases (the others take any value); a case is
   * uncovered when it has any of the values listed for each. */
  match: { category?: string[]; riskLevel?: RiskLevel[]; stage?: Stage[] };
  /** True when only some of those cases are uncovered: which ones depends on childrenInvolved or
   * district. */
  partial: boolean;
}

// Coarsest first: a whole category before each of its risk levels, and so on.
const PATTERNS: readonly (readonly Dimension[])[] = [
  ['category'],
  ['riskLevel'],
  ['stage'],
  ['category', 'riskLevel'],
  ['category', 'stage'],
  ['riskLevel', 'stage'],
  ['category', 'riskLevel', 'stage'],
];

/** The open cases whose own rule is the ceiling, grouped as coarsely as they allow. */
export function ceilingOnlyGaps(config: CompiledConfig): CeilingOnlyGap[] {
  const keys = [...openCaseKeys(config.file)];
  const uncovered = keys.map((key) => config.ruleFor(key) === config.ceiling);
  const reported = new Set<number>();
  const gaps: CeilingOnlyGap[] = [];
  const matchOf = (key: CaseKey, dims: readonly Dimension[]) =>
    Object.fromEntries(dims.map((d) => [d, [key[d]]])) as CeilingOnlyGap['match'];

  for (const dims of PATTERNS) {
    const groups = new Map<string, number[]>();
    keys.forEach((key, i) => {
      const id = dims.map((d) => key[d]).join('|');
      const members = groups.get(id);
      if (members) members.push(i);
      else groups.set(id, [i]);
    });
    for (const members of groups.values()) {
      if (!members.every((i) => uncovered[i]) || members.every((i) => reported.has(i))) continue;
      for (const i of members) reported.add(i);
      gaps.push({ match: matchOf(keys[members[0] as number] as CaseKey, dims), partial: false });
    }
  }
  // What is left is uncovered for some districts or children values only.
  const partial = new Map<string, CeilingOnlyGap>();
  keys.forEach((key, i) => {
    if (!uncovered[i] || reported.has(i)) return;
    const id = `${key.category}|${key.riskLevel}|${key.stage}`;
    if (!partial.has(id))
      partial.set(id, { match: matchOf(key, ['category', 'riskLevel', 'stage']), partial: true });
  });
  return merge([...gaps, ...partial.values()]);
}

/** Gaps that differ in one attribute only become one, listing its values: the three waiting
 * stages of a category are one warning, not three. */
function merge(gaps: CeilingOnlyGap[]): CeilingOnlyGap[] {
  let merged = gaps;
  for (const dim of ['stage', 'riskLevel', 'category'] as const) {
    const groups = new Map<string, CeilingOnlyGap>();
    for (const gap of merged) {
      const rest = Object.entries(gap.match).filter(([k]) => k !== dim);
      const id = JSON.stringify([gap.partial, dim in gap.match, rest]);
      const values = groups.get(id)?.match[dim] as string[] | undefined;
      if (values && gap.match[dim]) {
        values.push(...gap.match[dim]);
      } else {
        groups.set(id, {
          match: Object.fromEntries(Object.entries(gap.match).map(([k, v]) => [k, [...v]])),
          partial: gap.partial,
        });
      }
    }
    merged = [...groups.values()];
  }
  return merged;
}

export function describeGap(gap: CeilingOnlyGap): string {
  const parts = Object.entries(gap.match).map(([k, v]) => `${k}=${v.join('|')}`);
  return `${gap.partial ? 'some cases of ' : ''}${parts.join(' ')}${gap.partial ? ' (depending on childrenInvolved or district)' : ''}`;
}
