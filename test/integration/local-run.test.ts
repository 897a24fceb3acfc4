// The README's first command: the local main job runs the real scan handler over simulated time on
// an embedded DynamoDB, prints what each run sends, and what each audience received.

import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config/load.ts';
import { simulate } from '#shared/local/simulate.ts';

describe('the local main job', () => {
  it('prints each run and its messages, and counts what each audience received', async () => {
    const lines: string[] = [];

    const summary = await simulate({
      config: loadConfig(),
      startMs: Date.parse('2026-11-27T06:00:00Z'),
      open: 80,
      closed: 200,
      seed: 1,
      hours: 6,
      everyMinutes: 5,
      seconds: 0,
      show: 'all',
      emails: false,
      write: (line) => lines.push(line),
    });

    const output = lines.join('\n');
    expect(summary.runs).toBe(72);
    expect(summary.messages).toBeGreaterThan(10);
    expect(summary.firstEscalationToDirector).toBe('2026-11-27 06:00');
    expect(output).toMatch(/^seeded an embedded DynamoDB \(dynalite\) with 280 synthetic cases/m);
    expect(output).toMatch(
      /^\[2026-11-27 06:00\] 80 open: \d+ escalation, \d+ breach, \d+ warning · sent \d+ messages \(\d+ SMS\)/m,
    );
    expect(output).toMatch(/│ QW D\d\d [A-Za-z]+: \d+ ESCALATION \(\d+ new\)/);
    expect(output).toMatch(/to district-supervisor@D\d\d · alert/);
    expect(output).not.toMatch(/\b1 messages\b|\b1 runs\b|\b1 cases\b/);
    expect(output).toMatch(/^done: 72 runs/m);
    // What people receive: one SMS a phone a run, no director reminded at night, and every first
    // breach and escalation reaching its audiences in the run it happened.
    expect(output).toMatch(/^what each audience received, per place and London day:/m);
    expect(summary.tally.mostSmsToOnePhoneInARun).toBe(1);
    const director = summary.tally.byAudience().find((a) => a.audience === 'director-childrens-services');
    expect(director?.remindersAtNight).toBe(0);
    expect(summary.tally.firstAlerts.due).toBeGreaterThan(0);
    expect(summary.tally.firstAlerts.reached).toBe(summary.tally.firstAlerts.due);
  });

  it('says a single run is one run (`local --once`), not a schedule over 0 simulated hours', async () => {
    const lines: string[] = [];

    const summary = await simulate({
      config: loadConfig(),
      startMs: Date.parse('2026-11-30T08:00:00Z'),
      open: 20,
      closed: 0,
      seed: 1,
      hours: 0,
      everyMinutes: 5,
      seconds: 0,
      show: new Set(),
      emails: false,
      write: (line) => lines.push(line),
    });

    expect(summary.runs).toBe(1);
    expect(lines).toContain('running the scan handler once, at 2026-11-30 08:00 UTC');
    expect(lines.join('\n')).not.toMatch(/0 simulated hours/);
  });
});
