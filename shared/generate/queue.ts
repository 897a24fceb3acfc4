// Synthetic queues for the demo, the tests and the benchmarks: realistic mixes of categories, risk
// levels, stages, districts and ages, with an iOPS-like backlog of old domestic abuse cases.
// Seeded, so the same options give the same queue. Synthetic data only: no real people.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { CaseRecord, RiskLevel, Stage } from '../domain/case.ts';

export interface GenerateOptions {
  open: number;
  closed?: number;
  seed?: number;
  /** The instant the queue is as of (ms since epoch); every stage started before it. */
  nowMs: number;
  districts: readonly string[];
  /** Old domestic abuse cases awaiting risk assessment, up to 90 days old (default: 5% of open, at most 700). */
  backlog?: number;
  /** Adds source-system fields (synthetic names, addresses, notes) that the edge must drop. */
  withSourceFields?: boolean;
}

export type GeneratedRecord = CaseRecord & Record<string, unknown>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Weighted<T> = ReadonlyArray<readonly [T, number]>;

const CATEGORIES: Weighted<[string, string]> = [
  [['domestic-abuse', 'DA'], 55],
  [['child-protection', 'CP'], 25],
  [['child-immediate-protection', 'CI'], 3],
  [['stalking-harassment', 'SH'], 9],
  [['vulnerable-adult', 'VA'], 8],
];
const RISKS: Weighted<RiskLevel> = [
  ['high', 15],
  ['medium', 35],
  ['standard', 50],
];
const OPEN_STAGES: Weighted<Stage> = [
  ['awaiting-supervisor-review', 25],
  ['awaiting-risk-assessment', 35],
  ['awaiting-referral', 25],
  ['referred', 15],
];
const CLOSED_STAGES: Weighted<Stage> = [
  ['closed', 85],
  ['referral-acknowledged', 15],
];
/** Typical time in stage by risk: most cases move on quickly; a tail waits. */
const MEAN_AGE_MS: Record<RiskLevel, number> = { high: 10 * HOUR, medium: 36 * HOUR, standard: 4 * DAY };

export function defaultBacklog(open: number): number {
  return Math.min(700, Math.round(open * 0.05));
}

/** Streams the records: open cases first (backlog among them), then closed ones. */
export function* generateQueue(options: GenerateOptions): Generator<GeneratedRecord> {
  const { open, closed = 0, seed = 1, nowMs, districts, withSourceFields = false } = options;
  if (districts.length === 0) throw new RangeError('generateQueue needs at least one district');
  const backlog = Math.min(open, options.backlog ?? defaultBacklog(open));
  const rng = xoroshiro128plus(seed);
  const random = () => uniformInt(rng, 0, 0x3fffffff) / 0x40000000;
  const pick = <T>(items: Weighted<T>): T => {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let r = random() * total;
    for (const [item, weight] of items) {
      r -= weight;
      if (r < 0) return item;
    }
    return (items[items.length - 1] as readonly [T, number])[0];
  };
  const district = () => districts[Math.floor(random() * districts.length)] as string;
  // Backlogs pile up where a system change hit hardest: two districts carry most of it.
  const backlogDistricts = districts.slice(0, Math.min(2, districts.length));

  const make = (index: number, kind: 'open' | 'backlog' | 'closed'): GeneratedRecord => {
    const [category, prefix] =
      kind === 'backlog' ? (['domestic-abuse', 'DA'] as [string, string]) : pick(CATEGORIES);
    const riskLevel: RiskLevel =
      kind === 'backlog'
        ? pick<RiskLevel>([
            ['high', 10],
            ['medium', 45],
            ['standard', 45],
          ])
        : pick(RISKS);
    const stage: Stage =
      kind === 'closed'
        ? pick(CLOSED_STAGES)
        : kind === 'backlog'
          ? 'awaiting-risk-assessment'
          : pick(OPEN_STAGES);
    let ageMs: number;
    if (kind === 'backlog') ageMs = DAY + random() * 89 * DAY;
    else if (kind === 'closed') ageMs = random() * 365 * DAY;
    else {
      const mean = category === 'child-immediate-protection' ? 0.75 * HOUR : MEAN_AGE_MS[riskLevel];
      ageMs = Math.min(60 * DAY, -Math.log(1 - random()) * mean);
    }
    const enteredMs = Math.floor((nowMs - ageMs) / 1000) * 1000;
    const updatedMs = enteredMs + Math.floor((random() * Math.min(ageMs, HOUR)) / 1000) * 1000;
    const childrenInvolved = category.startsWith('child-')
      ? true
      : random() < (category === 'domestic-abuse' ? 0.4 : 0.1);
    const record: GeneratedRecord = {
      // The whole seed: two seeds never give one reference to different cases.
      caseRef: `${prefix}-${String(seed).padStart(3, '0')}-${String(index).padStart(7, '0')}`,
      category,
      riskLevel,
      district:
        kind === 'backlog' && random() < 0.7
          ? (backlogDistricts[Math.floor(random() * backlogDistricts.length)] as string)
          : district(),
      stage,
      stageEnteredAt: new Date(enteredMs).toISOString(),
      childrenInvolved,
      sourceUpdatedAt: new Date(updatedMs).toISOString(),
    };
    if (withSourceFields) {
      record.subjectName = `SYNTHETIC-PERSON-${index}`;
      record.address = `SYNTHETIC-ADDRESS-${index}`;
      record.notes = `SYNTHETIC-NOTE-${index}: free text from the source system`;
    }
    return record;
  };

  let index = 0;
  // Spread the backlog evenly through the open cases: exactly `backlog` of them.
  for (let i = 0; i < open; i++) {
    const isBacklog = Math.floor(((i + 1) * backlog) / open) > Math.floor((i * backlog) / open);
    yield make(++index, isBacklog ? 'backlog' : 'open');
  }
  for (let i = 0; i < closed; i++) yield make(++index, 'closed');
}
