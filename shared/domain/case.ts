// The mirror's case record: the one schema every edge (CLI files, the feed, the mirror) validates
// against. Fields outside it (names, addresses, notes) are stripped here and never go further.

import { COVERED_FROM } from './bank-holidays.ts';
import { forbiddenKeyOf } from './safe-keys.ts';
import * as z from './zod.ts';

export const RISK_LEVELS = ['high', 'medium', 'standard'] as const;
export const STAGES = [
  'awaiting-supervisor-review',
  'awaiting-risk-assessment',
  'awaiting-referral',
  'referred',
  'referral-acknowledged',
  'closed',
] as const;
/** Stages in which a case waits on someone and so can age. */
export const OPEN_STAGES = STAGES.filter((s) => s !== 'closed' && s !== 'referral-acknowledged');

export type RiskLevel = (typeof RISK_LEVELS)[number];
export type Stage = (typeof STAGES)[number];

export function isOpenStage(stage: Stage): boolean {
  return stage !== 'closed' && stage !== 'referral-acknowledged';
}

const withOffset = z.iso.datetime({ offset: true });
const localTime = z.iso.datetime({ local: true });
const instant = (field: string) =>
  z.pipe(
    z.string({ error: `${field} must be an ISO 8601 instant string` }).check(
      z.maxLength(40, `${field} is too long for an ISO 8601 instant`),
      z.refine((s) => withOffset.safeParse(s).success, {
        error: (issue) =>
          typeof issue.input === 'string' && localTime.safeParse(issue.input).success
            ? `${field} has no UTC offset (add Z or +01:00): a local time is ambiguous`
            : `${field} is not an ISO 8601 instant (e.g. 2026-03-29T00:30:00Z)`,
      }),
    ),
    z.transform((s: string) => new Date(s).toISOString()),
  );

export const CASE_REF_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,39}$/;

/** A lower-case id: a case's category, and every id of the admin config (rules, audiences,
 * categories, local authorities, signals). */
export const ID_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;

export const caseRecordSchema = z.object({
  caseRef: z
    .string({ error: 'caseRef must be a string' })
    .check(
      z.regex(
        CASE_REF_PATTERN,
        'caseRef must be 3 to 40 capital letters, digits and dashes (an opaque reference)',
      ),
    ),
  category: z
    .string({ error: 'category must be a string' })
    .check(z.regex(ID_PATTERN, 'category must be a lower-case id like domestic-abuse')),
  riskLevel: z.enum(RISK_LEVELS, { error: `riskLevel must be one of ${RISK_LEVELS.join(', ')}` }),
  district: z
    .string({ error: 'district must be a string' })
    .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, 'district must be a district id like D01')),
  stage: z.enum(STAGES, { error: `stage must be one of ${STAGES.join(', ')}` }),
  stageEnteredAt: instant('stageEnteredAt'),
  childrenInvolved: z.boolean({ error: 'childrenInvolved must be true or false' }),
  sourceUpdatedAt: instant('sourceUpdatedAt'),
});

export type CaseRecord = z.infer<typeof caseRecordSchema>;
/** What the engine needs of a case (and what the open-cases index projects). */
export const caseViewSchema = z.omit(caseRecordSchema, { sourceUpdatedAt: true });
export type CaseView = z.infer<typeof caseViewSchema>;
export const CASE_FIELDS = Object.keys(caseRecordSchema.shape) as ReadonlyArray<keyof CaseRecord>;

/** Just the schema's fields of a record: whatever else it carries (a mirror item's bookkeeping, a
 * source system's names and notes) stays behind. */
export function caseFields(r: CaseRecord): CaseRecord {
  return {
    caseRef: r.caseRef,
    category: r.category,
    riskLevel: r.riskLevel,
    district: r.district,
    stage: r.stage,
    stageEnteredAt: r.stageEnteredAt,
    childrenInvolved: r.childrenInvolved,
    sourceUpdatedAt: r.sourceUpdatedAt,
  };
}

/** What the case references, categories and districts must belong to: the config's lists. */
export interface CaseVocabulary {
  categories: ReadonlySet<string>;
  districts: ReadonlySet<string>;
}

/** Allowed clock skew before an instant counts as "in the future". */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** The earliest instant a record may carry: the start of the built-in bank-holiday list. Nothing
 * in a live queue is older, and an earlier date is a typing or export error (a date of birth in the
 * wrong column); the working-day calendar also knows no holidays before it. */
export const EARLIEST_INSTANT = `${COVERED_FROM}T00:00:00.000Z`;
const EARLIEST_MS = Date.parse(EARLIEST_INSTANT);

/** Why checkCase turned a record away: stable codes for metrics, reports and rejects files. */
export const CASE_REJECT_CODES = [
  'not-an-object',
  'invalid-fields',
  'unknown-category',
  'unknown-district',
  'future-stage',
  'implausible-date',
] as const;
export type CaseRejectCode = (typeof CASE_REJECT_CODES)[number];

/** A reason names the field and what is allowed; it never quotes the value, which may be personal
 * data typed into the wrong column. */
export type Checked<T> =
  | { ok: true; value: T }
  | { ok: false; code: CaseRejectCode; reason: string; caseRef?: string };
export type CaseCheck = Checked<CaseRecord>;

/** Validates one raw record against the schema, the config's vocabulary and the plausible range of
 * its instants (from EARLIEST_INSTANT to FUTURE_TOLERANCE_MS after `nowMs`; without `nowMs`, only
 * the floor). Unknown fields are dropped. */
export function checkCase(raw: unknown, vocabulary: CaseVocabulary, nowMs?: number): CaseCheck {
  if (isPlainRecord(raw)) {
    const key = forbiddenKeyOf(raw);
    if (key !== undefined) {
      return {
        ok: false,
        code: 'invalid-fields',
        reason: `${key} is not allowed as a field name`,
        ...refOf(raw.caseRef),
      };
    }
  }
  const checked = checkAgainst(caseRecordSchema, raw, vocabulary);
  if (!checked.ok) return checked;
  const value = checked.value;
  for (const field of INSTANT_FIELDS) {
    const problem = instantProblem(field, value[field], nowMs);
    if (problem) return { ok: false, ...problem, caseRef: value.caseRef };
  }
  return checked;
}

const INSTANT_FIELDS = ['stageEnteredAt', 'sourceUpdatedAt'] as const;

/** Why a well-formed instant is implausible, if it is. A stage entered in the future has its own
 * code (it is the usual clock or time-zone mistake of a source); anything else out of range is an
 * implausible date. */
function instantProblem(
  field: (typeof INSTANT_FIELDS)[number],
  instant: string,
  nowMs: number | undefined,
): { code: CaseRejectCode; reason: string } | undefined {
  const ms = Date.parse(instant);
  const latest = nowMs === undefined ? undefined : nowMs + FUTURE_TOLERANCE_MS;
  const tooEarly = ms < EARLIEST_MS;
  if (!tooEarly && (latest === undefined || ms <= latest)) return undefined;
  const range =
    latest === undefined
      ? `from ${EARLIEST_INSTANT}`
      : `from ${EARLIEST_INSTANT} to ${FUTURE_TOLERANCE_MS / 60_000} minutes after now (${new Date(latest).toISOString()})`;
  return {
    code: !tooEarly && field === 'stageEnteredAt' ? 'future-stage' : 'implausible-date',
    reason: `${field} is ${tooEarly ? 'too early' : 'in the future'}: it must be ${range}`,
  };
}

/** Whether a value is one the edge accepts for that field on its own (schema, vocabulary, plausible
 * instant): such a value cannot be free text, so it is safe to keep from a rejected record. */
export function isAcceptedValue(
  field: keyof CaseRecord,
  value: unknown,
  vocabulary: CaseVocabulary,
  nowMs?: number,
): boolean {
  const parsed = (caseRecordSchema.shape[field] as z.ZodMiniType).safeParse(value);
  if (!parsed.success) return false;
  const data: unknown = parsed.data;
  if (field === 'category') return typeof data === 'string' && vocabulary.categories.has(data);
  if (field === 'district') return typeof data === 'string' && vocabulary.districts.has(data);
  if (field === 'stageEnteredAt' || field === 'sourceUpdatedAt') {
    return typeof data === 'string' && instantProblem(field, data, nowMs) === undefined;
  }
  return true;
}

const isPlainRecord = (raw: unknown): raw is Record<string, unknown> =>
  typeof raw === 'object' && raw !== null && !Array.isArray(raw);

const refOf = (candidate: unknown): { caseRef?: string } =>
  typeof candidate === 'string' && CASE_REF_PATTERN.test(candidate) ? { caseRef: candidate } : {};

const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const RISK_SET: ReadonlySet<unknown> = new Set(RISK_LEVELS);
const STAGE_SET: ReadonlySet<unknown> = new Set(STAGES);

/** Validates an item read from the open-cases index (which does not project sourceUpdatedAt).
 * The scan does this for every open case on every run, so items already in the mirror's own
 * canonical form (UTC instants as toISOString writes them) take a fast path with the same rules;
 * anything else goes through the schema, which also gives the reasons. The plausible range of
 * stageEnteredAt is checked at the edge (checkCase) only: an item already in the mirror is judged,
 * never silenced. */
export function checkCaseView(raw: unknown, vocabulary: CaseVocabulary): Checked<CaseView> {
  const r = raw as Record<string, unknown> | null;
  if (
    typeof r === 'object' &&
    r !== null &&
    typeof r.caseRef === 'string' &&
    CASE_REF_PATTERN.test(r.caseRef) &&
    typeof r.category === 'string' &&
    vocabulary.categories.has(r.category) &&
    ID_PATTERN.test(r.category) &&
    RISK_SET.has(r.riskLevel) &&
    typeof r.district === 'string' &&
    vocabulary.districts.has(r.district) &&
    STAGE_SET.has(r.stage) &&
    typeof r.stageEnteredAt === 'string' &&
    CANONICAL_INSTANT.test(r.stageEnteredAt) &&
    !Number.isNaN(Date.parse(r.stageEnteredAt)) &&
    typeof r.childrenInvolved === 'boolean'
  ) {
    return {
      ok: true,
      value: {
        caseRef: r.caseRef,
        category: r.category,
        riskLevel: r.riskLevel as RiskLevel,
        district: r.district,
        stage: r.stage as Stage,
        stageEnteredAt: r.stageEnteredAt,
        childrenInvolved: r.childrenInvolved,
      },
    };
  }
  return checkAgainst(caseViewSchema, raw, vocabulary);
}

function checkAgainst<T extends CaseView>(
  schema: z.ZodMiniType<T>,
  raw: unknown,
  vocabulary: CaseVocabulary,
): Checked<T> {
  if (!isPlainRecord(raw)) {
    return { ok: false, code: 'not-an-object', reason: 'a case record must be a JSON object' };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.');
      // Zod leaves `issue.input` out unless asked, so look at the record: present but of the wrong
      // type is not "missing".
      const missing = issue.path.length === 1 && raw[String(issue.path[0])] === undefined;
      return missing ? `${field} is missing` : issue.message;
    });
    return { ok: false, code: 'invalid-fields', reason: reasons.join('; '), ...refOf(raw.caseRef) };
  }
  const value = parsed.data;
  if (!vocabulary.categories.has(value.category)) {
    return {
      ok: false,
      code: 'unknown-category',
      caseRef: value.caseRef,
      reason: `category is not one of the config's categories (${[...vocabulary.categories].join(', ')})`,
    };
  }
  if (!vocabulary.districts.has(value.district)) {
    return {
      ok: false,
      code: 'unknown-district',
      caseRef: value.caseRef,
      reason: "district is not one of the config's districts",
    };
  }
  return { ok: true, value };
}
