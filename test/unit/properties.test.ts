// Property-based tests of the engine, the calendar and the renderers (fast-check). Runs are kept
// modest so the unit project stays fast; a failure prints the seed and the shrunk counterexample.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { MemoryLedger } from '#shared/adapters/memory-ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import type { CompiledConfig } from '#shared/config/compile.ts';
import { parseConfig } from '#shared/config/load.ts';
import { oldestLineFirst } from '#shared/domain/alert-line.ts';
import { createWorkingCalendar, DAY_MS, londonLocalToUtc, londonOffsetMs } from '#shared/domain/calendar.ts';
import {
  CASE_REF_PATTERN,
  type CaseRecord,
  checkCase,
  OPEN_STAGES,
  RISK_LEVELS,
} from '#shared/domain/case.ts';
import { minimumMs, parseLimit } from '#shared/domain/duration.ts';
import { audienceLevels, evaluateAll, evaluateCase, levelDeadlines } from '#shared/domain/engine.ts';
import { LEVELS, type Level } from '#shared/domain/levels.ts';
import { type GroupMessage, renderEmail, renderSms, smsSegments } from '#shared/domain/notify.ts';
import { ALL_SHARDS } from '#shared/domain/shards.ts';
import { runScan } from '#shared/scan/run-scan.ts';
import {
  at,
  DAY,
  defaultConfig,
  defaultConfigText,
  fitsOneSmsSegment,
  HOUR,
} from '#test/support/fixtures.ts';

const RANK: Record<Level | 'none', number> = { none: 0, warning: 1, breach: 2, escalation: 3 };
const FROM = at('2019-01-01T00:00:00Z');
const UNTIL = at('2030-06-30T00:00:00Z');

// ---- arbitraries ----

const instantArb = fc.integer({ min: FROM, max: UNTIL });

/** A limit as config text: elapsed minutes, hours or days, or working days. */
const limitTextArb = fc.oneof(
  fc.integer({ min: 1, max: 600 }).map((n) => `${n}m`),
  fc.integer({ min: 1, max: 400 }).map((n) => `${n}h`),
  fc.integer({ min: 1, max: 40 }).map((n) => `${n}d`),
  fc.integer({ min: 1, max: 10 }).map((n) => `${n}wd`),
);

const orderedLimitsArb = fc.tuple(limitTextArb, limitTextArb, limitTextArb).map((texts) =>
  [...texts].sort((a, b) => {
    const [la, lb] = [parseLimit(a), parseLimit(b)];
    if ('error' in la || 'error' in lb) throw new Error('bad limit');
    return minimumMs(la) - minimumMs(lb);
  }),
);

/** The shipped config with every rule's limits redrawn (same matches and routes). */
const configArb: fc.Arbitrary<CompiledConfig> = fc
  .array(orderedLimitsArb, {
    minLength: defaultConfig().rules.length,
    maxLength: defaultConfig().rules.length,
  })
  .map((limits) => {
    const file = parseYaml(defaultConfigText()) as { rules: Array<Record<string, unknown>> };
    file.rules.forEach((rule, i) => {
      const [warn, breach, escalate] = limits[i] ?? [];
      Object.assign(rule, { warn, breach, escalate });
    });
    return parseConfig(stringify(file), 'generated.yaml');
  });

const caseArb = (config: CompiledConfig): fc.Arbitrary<CaseRecord> =>
  fc.record({
    caseRef: fc.stringMatching(CASE_REF_PATTERN),
    category: fc.constantFrom(...config.file.categories),
    riskLevel: fc.constantFrom(...RISK_LEVELS),
    district: fc.constantFrom(...Object.keys(config.file.districts)),
    stage: fc.constantFrom(...OPEN_STAGES),
    stageEnteredAt: instantArb.map((ms) => new Date(ms).toISOString()),
    childrenInvolved: fc.boolean(),
    sourceUpdatedAt: fc.constant('2019-01-01T00:00:00.000Z'),
  });

/** Offsets from the stage start at which to look: a little before it to 120 days after. */
const offsetsArb = fc.array(fc.integer({ min: -HOUR, max: 120 * DAY }), { minLength: 2, maxLength: 8 });

function levelsNeverGoDown(config: CompiledConfig, record: CaseRecord, offsets: number[]) {
  const start = Date.parse(record.stageEnteredAt);
  const ranks = [...offsets]
    .sort((a, b) => a - b)
    .map((offset) => RANK[evaluateCase(record, config, start + offset)?.level ?? 'none']);
  for (let i = 1; i < ranks.length; i++) expect(ranks[i]).toBeGreaterThanOrEqual(ranks[i - 1] as number);
}

// ---- the engine ----

describe('levels never go down as now grows', () => {
  it('under the shipped config', () => {
    fc.assert(
      fc.property(caseArb(defaultConfig()), offsetsArb, (record, offsets) =>
        levelsNeverGoDown(defaultConfig(), record, offsets),
      ),
      { numRuns: 400 },
    );
  });

  it('under configs with the shipped rules and arbitrary limits', () => {
    fc.assert(
      fc.property(
        configArb.chain((config) =>
          fc.tuple(
            fc.constant(config),
            fc.array(fc.tuple(caseArb(config), offsetsArb), { minLength: 10, maxLength: 20 }),
          ),
        ),
        ([config, samples]) => {
          for (const [record, offsets] of samples) levelsNeverGoDown(config, record, offsets);
        },
      ),
      { numRuns: 8 },
    );
  });
});

describe('every open valid case matches some rule', () => {
  it('under the shipped config', () => {
    fc.assert(
      fc.property(caseArb(defaultConfig()), fc.integer({ min: 0, max: 90 * DAY }), (raw, ageMs) => {
        const config = defaultConfig();
        const now = Date.parse(raw.stageEnteredAt) + ageMs;

        const check = checkCase(raw, config.vocabulary, now);

        expect(check.ok).toBe(true);
        if (!check.ok) return;
        expect(config.ruleFor(check.value)).toBeDefined();
        expect(evaluateCase(check.value, config, now)?.rule).toBeDefined();
      }),
      { numRuns: 400 },
    );
  });
});

describe('deadlines', () => {
  it('are never out of order, whatever the limits and the start', () => {
    const calendar = createWorkingCalendar();
    fc.assert(
      fc.property(fc.tuple(limitTextArb, limitTextArb, limitTextArb), instantArb, (texts, start) => {
        const [warn, breach, escalate] = texts.map((t) => {
          const limit = parseLimit(t);
          if ('error' in limit) throw new Error(limit.error);
          return limit;
        });
        if (!warn || !breach || !escalate) throw new Error('three limits expected');
        const rule = {
          index: 0,
          id: 'p',
          description: undefined,
          match: {},
          specificity: 0,
          warn,
          breach,
          escalate,
          elapsedOffsets: undefined,
        };

        const [w, b, e] = levelDeadlines(start, rule, calendar);

        expect(w).toBeGreaterThanOrEqual(start);
        expect(b).toBeGreaterThanOrEqual(w);
        expect(e).toBeGreaterThanOrEqual(b);
      }),
      { numRuns: 500 },
    );
  });
});

// ---- the calendar ----

describe('the working-day calendar', () => {
  const calendar = createWorkingCalendar();
  const londonDay = (ms: number) => Math.floor((ms + londonOffsetMs(ms)) / DAY_MS);
  const londonTimeOfDay = (ms: number) => ms + londonOffsetMs(ms) - londonDay(ms) * DAY_MS;

  it('lands on a working day, at the same London time, after exactly N working days', () => {
    fc.assert(
      fc.property(instantArb, fc.integer({ min: 1, max: 20 }), (start, n) => {
        const end = calendar.addWorkingDays(start, n);

        expect(calendar.isWorkingDay(londonDay(end))).toBe(true);
        expect(londonTimeOfDay(end)).toBe(londonTimeOfDay(start));
        let counted = 0;
        for (let day = londonDay(start) + 1; day <= londonDay(end); day++)
          if (calendar.isWorkingDay(day)) counted++;
        expect(counted).toBe(n);
      }),
      { numRuns: 500 },
    );
  });

  it('turns a London wall-clock time back into its instant (the first, when the clock repeats)', () => {
    fc.assert(
      fc.property(instantArb, (utc) => {
        const local = utc + londonOffsetMs(utc);

        const back = londonLocalToUtc(local);

        // Only the second pass through a repeated autumn hour maps to the first, an hour earlier.
        expect([utc, utc - HOUR]).toContain(back);
        expect(back + londonOffsetMs(back)).toBe(local);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- grouping and rendering ----

/** Configs to render with: the shipped one, non-GSM district names, and the longest allowed fields. */
const renderConfigs = (() => {
  const ucs2 = parseConfig(
    defaultConfigText()
      .replace('D04: { name: Westbrook', 'D04: { name: Ŵestbrook')
      .replace('D08: { name: Harrowfield', 'D08: { name: Ynys Môn')
      .replace('D10: { name: Riverside', 'D10: { name: "Riverside 🌊"'),
  );
  const longest = parseConfig(
    defaultConfigText()
      .replace(
        'linkBase: https://qw.example.police.uk/q',
        `linkBase: https://${'q'.repeat(35)}.example.uk/cases`,
      )
      .replace('D01: { name: Northgate', `D01: { name: ${'N'.repeat(24)}`)
      .replace('D02: { name: Eastmoor', 'D02: { name: "Ŵ€st [Ŵ] {~} 🌊🌊🌊🌊"')
      .replace(/\bD01\b/g, `D01-${'X'.repeat(28)}`),
  );
  return { shipped: defaultConfig(), ucs2, longest };
})();

const messageArb = fc
  .tuple(fc.constantFrom(...Object.values(renderConfigs)), fc.nat())
  .chain(([config, pick]) => {
    const districts = Object.keys(config.file.districts);
    const district = districts[pick % districts.length] as string;
    const line = fc.record({
      caseRef: fc.stringMatching(CASE_REF_PATTERN),
      category: fc.constantFrom(...config.file.categories),
      riskLevel: fc.constantFrom(...RISK_LEVELS),
      stage: fc.constantFrom(...OPEN_STAGES),
      ageMs: fc.integer({ min: 0, max: 120 * DAY }),
    });
    const section = fc
      .tuple(fc.array(line, { maxLength: 300 }), fc.nat({ max: 300 }))
      .map(([lines, extra]) => {
        const sorted = [...lines].sort(oldestLineFirst);
        const newRefs = new Set(sorted.filter((_, i) => i % 3 === 0).map((l) => l.caseRef));
        return { count: sorted.length + extra, newCount: newRefs.size, lines: sorted, newRefs };
      });
    return fc
      .record({
        warning: section,
        breach: section,
        escalation: section,
        resolved: fc.array(fc.stringMatching(CASE_REF_PATTERN), { maxLength: 30 }),
      })
      .filter((s) => s.warning.count + s.breach.count + s.escalation.count > 0)
      .map(({ warning, breach, escalation, resolved }) => ({
        config,
        message: {
          audience: 'district-supervisor',
          place: district,
          placeName: config.placeName('district-supervisor', district),
          atMs: at('2026-11-27T09:00:00Z'),
          sections: { warning, breach, escalation },
          acknowledged: 0,
          resolved,
          resolvedCount: resolved.length,
          linkBase: config.file.linkBase,
        } satisfies GroupMessage,
      }));
  });

describe('rendered messages', () => {
  it('every SMS fits one segment, with the place, the link and a case when there is room', () => {
    fc.assert(
      fc.property(messageArb, ({ config, message }) => {
        const sms = renderSms(message);

        expect(smsSegments(sms).segments).toBe(1);
        expect(fitsOneSmsSegment(sms)).toBe(true);
        expect(sms.startsWith(`QW ${message.place}`)).toBe(true);
        expect(sms.endsWith(`\n${config.file.linkBase}`)).toBe(true);
        // With ids and a link of ordinary length there is always room for one case.
        const anyLine = LEVELS.some((l) => message.sections[l].lines.length > 0);
        if (config !== renderConfigs.longest && anyLine) expect(sms.split('\n').length).toBeGreaterThan(2);
      }),
      { numRuns: 100 },
    );
  });

  it('every email subject is under 100 characters and the body lists every case it holds', () => {
    fc.assert(
      fc.property(messageArb, ({ config, message }) => {
        const { subject, body } = renderEmail(message);

        expect(subject.length).toBeLessThan(100);
        const listed = body
          .split('\n')
          .filter((line) => line.startsWith('  ') && line.includes(`${config.file.linkBase}/`));
        expect(listed).toHaveLength(LEVELS.reduce((n, l) => n + message.sections[l].lines.length, 0));
      }),
      { numRuns: 60 },
    );
  });

  it('sends each audience at each place one message a run, listing every case waiting for it', async () => {
    const config = defaultConfig();
    const now = at('2026-11-27T09:00:00Z');
    const recordArb = caseArb(config).chain((c) =>
      fc
        .integer({ min: 0, max: 60 * DAY })
        .map((age) => ({ ...c, stageEnteredAt: new Date(now - age).toISOString() })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(recordArb, { selector: (r) => r.caseRef, maxLength: 300 }),
        async (records) => {
          const { alerting } = evaluateAll(records, config, now);
          const items = records.map((r) => toMirrorItem(r, now) as unknown as Record<string, unknown>);

          const result = await runScan({
            config,
            nowMs: now,
            runId: 'prop',
            source: {
              shards: () => [ALL_SHARDS],
              pages: async function* () {
                yield items;
              },
            },
            ledger: new MemoryLedger(),
            publisher: new CallbackPublisher(),
            audit: new MemoryAuditLog(),
          });

          const alerts = result.messages.filter((m) => m.kind !== 'summary');
          const groups = alerts.flatMap((m) => m.groups);
          expect(new Set(groups).size).toBe(groups.length);
          const listed = new Set(
            alerts.flatMap((m) => m.groups.flatMap((g) => m.caseRefs.map((c) => `${c}|${g}`))),
          );
          for (const e of alerting) {
            for (const audience of audienceLevels(e, config).keys()) {
              expect(listed).toContain(
                `${e.record.caseRef}|${audience}@${config.placeOf(audience, e.record.district)}`,
              );
            }
          }
          // The budget, and past it one summary per set of levels the email-only alerts carried.
          const summaries = result.messages.filter((m) => m.kind === 'summary');
          expect(new Set(summaries.map((m) => m.levels.join(','))).size).toBe(summaries.length);
          expect(summaries.length).toBeLessThanOrEqual(7);
          expect(result.smsSent).toBeLessThanOrEqual(config.file.sms.maxPerRun + summaries.length);
        },
      ),
      { numRuns: 30 },
    );
  });
});
