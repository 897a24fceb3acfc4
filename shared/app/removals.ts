// What a new config would take away from the scan: each district and category that open cases in the
// mirror still use and the new config no longer knows (the scan cannot read those cases, so they
// would go unalerted). `config check` and `config push` refuse such a config.

import pLimit from 'p-limit';
import { CASE_REF_PATTERN, type CaseVocabulary } from '../domain/case.ts';
import { byCodeUnit } from '../domain/order.ts';
import type { OpenCaseSource } from '../scan/ports.ts';

/** How many references a problem lists: enough to look a few up, never the whole queue. */
export const LISTED_CASE_REFS = 3;

export const VOCABULARY_FIELDS = ['district', 'category'] as const;
export type VocabularyField = (typeof VOCABULARY_FIELDS)[number];

/** Open cases using one value: how many, and the first few by reference. */
export interface ValueUse {
  openCases: number;
  caseRefs: string[];
}

/** The districts and categories the open cases use, counted. */
export interface OpenCaseUse {
  read: number;
  district: Map<string, ValueUse>;
  category: Map<string, ValueUse>;
}

export const emptyOpenCaseUse = (): OpenCaseUse => ({ read: 0, district: new Map(), category: new Map() });

const noteUse = (uses: Map<string, ValueUse>, value: string, caseRef: string | undefined) => {
  const use = uses.get(value) ?? { openCases: 0, caseRefs: [] };
  use.openCases += 1;
  if (caseRef !== undefined && use.caseRefs.length < LISTED_CASE_REFS) use.caseRefs.push(caseRef);
  uses.set(value, use);
};

/** Counts one item of the open-cases index; a district or category that is missing or not a string
 * counts under '' (known to no config). The reference is kept only when it is a well-formed opaque
 * reference (a corrupted one could be anything). */
export function addToOpenCaseUse(use: OpenCaseUse, item: Record<string, unknown>): void {
  const { caseRef, district, category } = item;
  const ref = typeof caseRef === 'string' && CASE_REF_PATTERN.test(caseRef) ? caseRef : undefined;
  use.read += 1;
  noteUse(use.district, typeof district === 'string' ? district : '', ref);
  noteUse(use.category, typeof category === 'string' ? category : '', ref);
}

/** Reads the open cases of these districts (several shards at once) and counts what they use. The
 * districts must include every one the config in force knows, not only the new config's: a
 * district the new config drops is exactly the one to read. */
export async function readOpenCaseUse(
  source: OpenCaseSource,
  districts: Iterable<string>,
  concurrency = 4,
): Promise<OpenCaseUse> {
  const use = emptyOpenCaseUse();
  const limit = pLimit(concurrency);
  await Promise.all(
    source.shards([...new Set(districts)]).map((shard) =>
      limit(async () => {
        for await (const page of source.pages(shard)) for (const item of page) addToOpenCaseUse(use, item);
      }),
    ),
  );
  return use;
}

/** A district or category the config in force knows, that the new one drops, still in use. */
export interface StillUsed extends ValueUse {
  field: VocabularyField;
  id: string;
}

/** Open cases whose district (or category) neither config knows: already unreadable to the scan,
 * and not named (such a value is not a known id and could be anything). */
export interface AlreadyUnknown extends ValueUse {
  field: VocabularyField;
}

export interface RemovalCheck {
  /** What the new config would stop the scan reading: a push of it is refused. */
  removed: StillUsed[];
  /** What the scan cannot read already, whichever of the two is in force. */
  unknown: AlreadyUnknown[];
}

const known = (vocabulary: CaseVocabulary, field: VocabularyField) =>
  field === 'district' ? vocabulary.districts : vocabulary.categories;

/** Each district and category that open cases use and `next` does not know: named, with its count,
 * when `inForce` knows it (the new config removes it), else counted together per field. */
export function checkRemovals(use: OpenCaseUse, next: CaseVocabulary, inForce: CaseVocabulary): RemovalCheck {
  const removed: StillUsed[] = [];
  const unknown: AlreadyUnknown[] = [];
  for (const field of VOCABULARY_FIELDS) {
    const other: AlreadyUnknown = { field, openCases: 0, caseRefs: [] };
    for (const [id, value] of use[field]) {
      if (known(next, field).has(id)) continue;
      if (known(inForce, field).has(id)) {
        removed.push({ field, id, openCases: value.openCases, caseRefs: [...value.caseRefs] });
      } else {
        other.openCases += value.openCases;
        for (const ref of value.caseRefs)
          if (other.caseRefs.length < LISTED_CASE_REFS) other.caseRefs.push(ref);
      }
    }
    if (other.openCases > 0) unknown.push(other);
  }
  removed.sort((a, b) => b.openCases - a.openCases || byCodeUnit(a.field, b.field) || byCodeUnit(a.id, b.id));
  return { removed, unknown };
}

const openCases = (n: number) => (n === 1 ? '1 open case' : `${n.toLocaleString('en-GB')} open cases`);
const examples = (use: ValueUse) =>
  use.caseRefs.length === 0
    ? ''
    : ` (${use.openCases > use.caseRefs.length ? 'e.g. ' : ''}${use.caseRefs.join(', ')})`;

/** One line per problem, for people: `district D07: 12 open cases (e.g. DA-001-0000042, ...)`. */
export function describeStillUsed(problem: StillUsed): string {
  return `${problem.field} ${problem.id}: ${openCases(problem.openCases)}${examples(problem)}`;
}

export function describeAlreadyUnknown(problem: AlreadyUnknown): string {
  return `${openCases(problem.openCases)} with a ${problem.field} that neither the new config nor the one in force knows${examples(problem)}: the scan cannot read ${problem.openCases === 1 ? 'it' : 'them'} now either`;
}
