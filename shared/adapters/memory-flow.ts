// Flow in memory, with the DynamoDB store's semantics (each transition stored once by its id,
// days by London date, `last` and `since` per district): for unit tests, previews and simulations
// that need no database.

import {
  addToDay,
  type DayFlow,
  emptyDayFlow,
  londonDay,
  type Transition,
  transitionId,
} from '../domain/flow.ts';
import type { FlowRecorder } from '../ingest/ports.ts';
import type { DaysOptions, FlowDays, FlowMarkers, FlowReader } from '../signals/ports.ts';

export class MemoryFlowStore implements FlowRecorder, FlowReader {
  /** Every transition stored, by id. */
  readonly transitions = new Map<string, Transition>();
  /** How many record calls there were, repeats included. */
  recorded = 0;

  async record(transitions: readonly Transition[], _nowMs?: number): Promise<void> {
    for (const t of transitions) {
      this.recorded += 1;
      const id = transitionId(t);
      if (!this.transitions.has(id)) this.transitions.set(id, t);
    }
  }

  async since(): Promise<FlowMarkers<number>> {
    const out = new Map<string, number>();
    for (const t of this.transitions.values()) {
      const day = londonDay(Date.parse(t.at));
      out.set(t.district, Math.min(out.get(t.district) ?? day, day));
    }
    return { values: out, unreadable: [] };
  }

  async lastTransitions(): Promise<FlowMarkers<string>> {
    const out = new Map<string, string>();
    for (const t of this.transitions.values()) {
      if ((out.get(t.district) ?? '') < t.at) out.set(t.district, t.at);
    }
    return { values: out, unreadable: [] };
  }

  async days(
    district: string,
    fromDay: number,
    toDay: number,
    _nowMs?: number,
    options: DaysOptions = {},
  ): Promise<FlowDays> {
    const byDay = new Map<number, Transition[]>();
    for (const t of this.transitions.values()) {
      if (t.district !== district) continue;
      if (options.until !== undefined && Date.parse(t.at) > options.until) continue;
      const day = londonDay(Date.parse(t.at));
      if (day < fromDay || day > toDay) continue;
      byDay.set(day, [...(byDay.get(day) ?? []), t]);
    }
    const days: DayFlow[] = [];
    for (let day = fromDay; day <= toDay; day++) days.push(addToDay(emptyDayFlow(day), byDay.get(day) ?? []));
    return { days, invalid: 0 };
  }
}
