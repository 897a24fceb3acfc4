// The README's first command: the local main job runs the real scan handler over simulated time on
// an embedded DynamoDB and prints what each run sends.

import { describe, expect, it } from 'vitest';
import { loadConfig } from '#shared/config/load.ts';
import { simulate } from '#shared/local/simulate.ts';

describe('the local main job', () => {
  it('prints each run, its breaches and escalations, and escalations reaching the director again on their repeat', async () => {
    const lines: string[] = [];

    const summary = await simulate({
      config: loadConfig(),
      startMs: Date.parse('2026-11-27T06:00:00Z'),
      open: 80,
      closed: 200,
      seed: 1,
      hours: 3,
      everyMinutes: 5,
      seconds: 0,
      show: 'all',
      emails: false,
      write: (line) => lines.push(line),
    });

    const output = lines.join('\n');
    expect(summary.runs).toBe(36);
    expect(summary.messages).toBeGreaterThan(10);
    expect(summary.firstEscalationToDirector).toBe('2026-11-27 06:00');
    expect(output).toMatch(/^seeded an embedded DynamoDB \(dynalite\) with 280 synthetic cases/m);
    expect(output).toMatch(
      /^\[2026-11-27 06:00\] 80 open: \d+ escalation, \d+ breach, \d+ warning · sent \d+ messages/m,
    );
    expect(output).toMatch(/│ QW BREACH D\d\d /);
    expect(output).toMatch(/│ QW ESCALATION D\d\d /);
    // Escalations repeat hourly: the same D01 escalation SMS header appears again an hour later.
    expect(output.match(/to director-childrens-services · D01 · alert/g)?.length ?? 0).toBeGreaterThan(1);
    expect(output).toMatch(/^done: 36 runs/m);
  });
});
