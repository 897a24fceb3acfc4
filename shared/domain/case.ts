// The mirror's case record: the one schema every edge (CLI files, the feed, the mirror) validates
// against. Fields outside it (names, addresses, notes) are stripped here and never go further.

import * as z from 'zod';

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

const instant = (field: string) =>
  z
    .string({ error: `${field} must be an ISO 8601 instant string` })
    .max(40, `${field} is too long for an ISO 8601 instant`)
    .refine((s) => z.iso.datetime({ offset: true }).safeParse(s).success, {
      error: (issue) =>
        typeof issue.input === 'string' && z.iso.datetime({ local: true }).safeParse(issue.input).success
          ? `${field} has no UTC offset (add Z or +01:00): a local time is ambiguous`
          : `${field} is not an ISO 8601 instant (e.g. 2026-03-29T00:30:00Z)`,
    })
    .transform((s) => new Date(s).toISOString());

export const CASE_REF_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,39}$/;

export const caseRecordSchema = z.object({
  caseRef: z
    .string({ error: 'caseRef must be a string' })
    .regex(
      CASE_REF_PATTERN,
      'caseRef must be 3 to 40 capital letters, digits and dashes (an opaque reference)',
    ),
  category: z
    .string({ error: 'category must be a string' })
    .regex(/^[a-z][a-z0-9-]{0,47}$/, 'category must be a lower-case id like domestic-abuse'),
  riskLevel: z.enum(RISK_LEVELS, { error: `riskLevel must be one of ${RISK_LEVELS.join(', ')}` }),
  district: z
    .string({ error: 'district must be a string' })
    .regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/, 'district must be a district id like D01'),
  stage: z.enum(STAGES, { error: `stage must be one of ${STAGES.join(', ')}` }),
  stageEnteredAt: instant('stageEnteredAt'),
  childrenInvolved: z.boolean({ error: 'childrenInvolved must be true or false' }),
  sourceUpdatedAt: instant('sourceUpdatedAt'),
});

export type CaseRecord = z.infer<typeof caseRecordSchema>;
/** What the engine needs of a case (and what the open-cases index projects). */
export const caseViewSchema = caseRecordSchema.omit({ sourceUpdatedAt: true });
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

/** Allowed clock skew before a stageEnteredAt counts as "in the future". */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string; caseRef?: string };
export type CaseCheck = Checked<CaseRecord>;

/** Validates one raw record against the schema and the config's vocabulary. Unknown fields are
 * dropped; a reason names the field and never echoes a value of a field outside the schema. */
export function checkCase(raw: unknown, vocabulary: CaseVocabulary, nowMs?: number): CaseCheck {
  return checkAgainst(caseRecordSchema, raw, vocabulary, nowMs);
}

const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CATEGORY_PATTERN = /^[a-z][a-z0-9-]{0,47}$/;
const RISK_SET: ReadonlySet<unknown> = new Set(RISK_LEVELS);
const STAGE_SET: ReadonlySet<unknown> = new Set(STAGES);

/** Validates an item read from the open-cases index (which does not project sourceUpdatedAt).
 * The scan does this for every open case on every run, so items already in the mirror's own
 * canonical form (UTC instants as toISOString writes them) take a fast path with the same rules;
 * anything else goes through the schema, which also gives the reasons. */
export function checkCaseView(raw: unknown, vocabulary: CaseVocabulary): Checked<CaseView> {
  const r = raw as Record<string, unknown> | null;
  if (
    typeof r === 'object' &&
    r !== null &&
    typeof r.caseRef === 'string' &&
    CASE_REF_PATTERN.test(r.caseRef) &&
    typeof r.category === 'string' &&
    vocabulary.categories.has(r.category) &&
    CATEGORY_PATTERN.test(r.category) &&
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
  schema: z.ZodType<T>,
  raw: unknown,
  vocabulary: CaseVocabulary,
  nowMs?: number,
): Checked<T> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, reason: 'a case record must be a JSON object' };
  }
  const parsed = schema.safeParse(raw);
  const refCandidate = (raw as Record<string, unknown>).caseRef;
  const caseRef =
    typeof refCandidate === 'string' && CASE_REF_PATTERN.test(refCandidate) ? refCandidate : undefined;
  if (!parsed.success) {
    const reasons = parsed.error.issues.map((issue) => {
      const field = issue.path.join('.');
      // Zod leaves `issue.input` out unless asked, so look at the record: present but of the wrong
      // type is not "missing".
      const missing = (raw as Record<string, unknown>)[String(issue.path[0])] === undefined;
      return issue.code === 'invalid_type' && missing ? `${field} is missing` : issue.message;
    });
    return { ok: false, reason: reasons.join('; '), ...(caseRef ? { caseRef } : {}) };
  }
  const value = parsed.data;
  if (!vocabulary.categories.has(value.category)) {
    return {
      ok: false,
      caseRef: value.caseRef,
      reason: `category '${value.category}' is not in the config (known: ${[...vocabulary.categories].join(', ')})`,
    };
  }
  if (!vocabulary.districts.has(value.district)) {
    return { ok: false, caseRef: value.caseRef, reason: `district '${value.district}' is not in the config` };
  }
  if (nowMs !== undefined && Date.parse(value.stageEnteredAt) > nowMs + FUTURE_TOLERANCE_MS) {
    return {
      ok: false,
      caseRef: value.caseRef,
      reason: `stageEnteredAt ${value.stageEnteredAt} is in the future (now ${new Date(nowMs).toISOString()})`,
    };
  }
  return { ok: true, value };
}
