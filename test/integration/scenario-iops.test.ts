// The iOPS replay (`queuewatch local --scenario iops`) in a shortened form: three districts, six
// weeks of past flow and fifteen days after go-live. Each failure is raised, to the audiences the
// shipped config routes it to; the district's late and replayed feed counts nothing twice; and the
// run says how many messages each audience received.

import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '#shared/config/load.ts';

describe('the iOPS replay, shortened', () => {
  it('raises each failure to the right audience, and says how many messages each audience received', {
    timeout: 300_000,
  }, async () => {
    // Quiet the Lambda tooling before it loads: the replay prints its own story.
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'WARN');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    const { runIopsScenario } = await import('#shared/local/scenario-iops.ts');
    const lines: string[] = [];

    const summary = await runIopsScenario({
      config: loadConfig(),
      districts: ['D02', 'D04', 'D07'],
      historyWeeks: 6,
      afterGoLiveDays: 15,
      scanEveryMinutes: 240,
      flowEveryMinutes: 30,
      write: (line) => lines.push(line),
    });

    const failure = (signal: string, district?: string) => {
      const found = summary.failures.find((f) => f.signal === signal && f.district === district);
      if (!found?.firstRaisedAtMs)
        throw new Error(`${signal} ${district ?? ''} was not raised:\n${lines.join('\n')}`);
      return found;
    };
    const child = failure('child-referrals', 'D07');
    expect(child.audiences).toEqual(['district-supervisor', 'director-childrens-services', 'mash-manager']);
    expect(child.sms).toMatch(
      /^QW SIGNAL D07 Millbrook: child referrals \d+ of \d+ \(\d+%\) in 7 days, normal \d+%/,
    );
    const halved = failure('high-risk-da-referrals', 'D02');
    expect(halved.audiences).toEqual(['district-supervisor', 'duty-inspector', 'marac-coordinator']);
    const stopped = failure('flow-stopped', 'D04');
    expect(stopped.audiences).toEqual(['district-supervisor', 'ops']);
    // Within the day the feed was down.
    expect((stopped.firstRaisedAtMs as number) - stopped.startedAtMs).toBeLessThan(24 * 3_600_000);
    const backlog = failure('scan');
    expect(backlog.audiences).toContain('duty-inspector');
    // Nothing else failed, so nothing else was raised: no signal for a district that did not fall.
    expect(lines.filter((l) => /signal RAISED/.test(l)).every((l) => /D02|D04|D07/.test(l))).toBe(true);
    expect(lines.some((l) => /signal RAISED (referrals|high-risk-da-referrals) D04/.test(l))).toBe(false);

    expect(summary.feed.late).toBeGreaterThan(0);
    expect(summary.feed.countedAgainOnReplay).toBe(0);
    expect(summary.byAudience['director-childrens-services']?.signals).toBeGreaterThan(0);
    expect(summary.byAudience.ops?.signals).toBeGreaterThan(0);
    const output = lines.join('\n');
    expect(output).toMatch(/^what failed, when it was first raised, and to whom/m);
    expect(output).toMatch(
      /^messages each audience received \(ageing alerts from the scan \/ silence signals\):$/m,
    );
    expect(output).toMatch(/^ {2}district-supervisor +\d+ \/ \d+$/m);
    expect(output).toMatch(/none counted twice/);
  });
});
