// Counts what each audience receives over a simulated run: messages and SMS per place per London
// day, the most SMS any one phone got in one run, reminders sent at night, and whether every case's
// first breach and first escalation reached each of its audiences in the run it happened. The local
// run prints it; the benchmark and the tests read it.

import type { CompiledConfig } from '../config/compile.ts';
import { londonOffsetMs } from '../domain/calendar.ts';
import type { CaseView } from '../domain/case.ts';
import { audienceLevels, evaluateCase } from '../domain/engine.ts';
import { type Level, rankOf } from '../domain/levels.ts';
import { byCodeUnit } from '../domain/order.ts';
import type { ScanResult } from '../scan/run-scan.ts';

const DAY_MS = 86_400_000;
/** Night, for "no reminders at night": 22:00 to 07:00 London time. */
const NIGHT_FROM = 22 * 60;
const NIGHT_TO = 7 * 60;

export const londonDay = (ms: number) => new Date(ms + londonOffsetMs(ms)).toISOString().slice(0, 10);
export function isNight(ms: number): boolean {
  const local = ms + londonOffsetMs(ms);
  const minute = Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / 60_000);
  return minute >= NIGHT_FROM || minute < NIGHT_TO;
}

export interface AudienceFigures {
  audience: string;
  places: number;
  days: number;
  messages: number;
  sms: number;
  /** Per place and day: the mean and the most. */
  messagesPerPlaceDay: { mean: number; max: number };
  smsPerPlaceDay: { mean: number; max: number };
  remindersAtNight: number;
}

export class DeliveryTally {
  runs = 0;
  messages = 0;
  sms = 0;
  resolvedLines = 0;
  /** The most SMS one group (so one phone) received in one run. */
  mostSmsToOnePhoneInARun = 0;
  firstAlerts = { due: 0, reached: 0, missed: [] as string[] };
  private readonly perPlaceDay = new Map<string, { messages: number; sms: number }>();
  private readonly placesOf = new Map<string, Set<string>>();
  private readonly nightReminders = new Map<string, number>();
  private readonly days = new Set<string>();
  /** The highest level each (case, audience) has reached so far, to spot a first breach or escalation. */
  private readonly reached = new Map<string, { episode: string; level: Level }>();

  constructor(private readonly config: CompiledConfig) {}

  /** One run: its result, and the open cases as the source held them (to check first alerts). */
  record(atMs: number, result: ScanResult, open: readonly CaseView[]): void {
    this.runs += 1;
    const day = londonDay(atMs);
    this.days.add(day);
    const smsThisRun = new Map<string, number>();
    const newIn = new Map<string, Set<string>>();
    for (const m of result.messages) {
      this.messages += 1;
      this.resolvedLines += m.resolved.length;
      if (m.sms) this.sms += 1;
      for (const group of m.groups) {
        if (m.sms) smsThisRun.set(group, (smsThisRun.get(group) ?? 0) + 1);
        if (m.kind === 'summary') continue;
        const [audience = '', place = ''] = group.split('@');
        const places = this.placesOf.get(audience) ?? new Set();
        places.add(place);
        this.placesOf.set(audience, places);
        const key = `${group}|${day}`;
        const tally = this.perPlaceDay.get(key) ?? { messages: 0, sms: 0 };
        tally.messages += 1;
        if (m.sms) tally.sms += 1;
        this.perPlaceDay.set(key, tally);
        if (m.trigger?.startsWith('repeat') && isNight(atMs)) {
          this.nightReminders.set(audience, (this.nightReminders.get(audience) ?? 0) + 1);
        }
        newIn.set(group, new Set([...(newIn.get(group) ?? []), ...m.newCaseRefs]));
      }
    }
    for (const count of smsThisRun.values()) {
      this.mostSmsToOnePhoneInARun = Math.max(this.mostSmsToOnePhoneInARun, count);
    }
    // A case reaching breach or escalation for the first time (in its stage) must be news to each
    // of its audiences in this very run.
    for (const record of open) {
      const evaluation = evaluateCase(record, this.config, atMs);
      if (!evaluation || evaluation.level === 'none') continue;
      for (const [audience, level] of audienceLevels(evaluation, this.config)) {
        const key = `${record.caseRef}|${audience}`;
        const before = this.reached.get(key);
        const first =
          before === undefined ||
          before.episode !== record.stageEnteredAt ||
          rankOf(level) > rankOf(before.level);
        this.reached.set(key, { episode: record.stageEnteredAt, level });
        if (!first || level === 'warning') continue;
        this.firstAlerts.due += 1;
        const group = `${audience}@${this.config.placeOf(audience, record.district)}`;
        if (newIn.get(group)?.has(record.caseRef)) this.firstAlerts.reached += 1;
        else if (this.firstAlerts.missed.length < 20)
          this.firstAlerts.missed.push(`${key}@${new Date(atMs).toISOString()}`);
      }
    }
  }

  byAudience(): AudienceFigures[] {
    const days = Math.max(1, this.days.size);
    return [...this.placesOf.entries()]
      .map(([audience, places]) => {
        const cells = [...places].flatMap((place) =>
          [...this.days].map(
            (day) => this.perPlaceDay.get(`${audience}@${place}|${day}`) ?? { messages: 0, sms: 0 },
          ),
        );
        const sum = (pick: (c: { messages: number; sms: number }) => number) =>
          cells.reduce((n, c) => n + pick(c), 0);
        const max = (pick: (c: { messages: number; sms: number }) => number) =>
          Math.max(0, ...cells.map(pick));
        const mean = (total: number) => Math.round((total / Math.max(1, cells.length)) * 10) / 10;
        return {
          audience,
          places: places.size,
          days,
          messages: sum((c) => c.messages),
          sms: sum((c) => c.sms),
          messagesPerPlaceDay: { mean: mean(sum((c) => c.messages)), max: max((c) => c.messages) },
          smsPerPlaceDay: { mean: mean(sum((c) => c.sms)), max: max((c) => c.sms) },
          remindersAtNight: this.nightReminders.get(audience) ?? 0,
        };
      })
      .sort((a, b) => b.messages - a.messages || byCodeUnit(a.audience, b.audience));
  }

  /** The figures as a table for people. */
  table(): string[] {
    const rows = this.byAudience();
    const width = Math.max(8, ...rows.map((r) => r.audience.length));
    const lines = [
      `  ${'audience'.padEnd(width)}  places  messages/day (mean, most)  SMS/day (mean, most)  reminders at night`,
    ];
    for (const r of rows) {
      lines.push(
        `  ${r.audience.padEnd(width)}  ${String(r.places).padStart(6)}  ${`${r.messagesPerPlaceDay.mean}, ${r.messagesPerPlaceDay.max}`.padStart(25)}  ${`${r.smsPerPlaceDay.mean}, ${r.smsPerPlaceDay.max}`.padStart(20)}  ${String(r.remindersAtNight).padStart(18)}`,
      );
    }
    return lines;
  }
}
