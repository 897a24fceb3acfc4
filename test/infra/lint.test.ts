import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildQueuewatch } from '#infra/queuewatch.ts';
import { DEPLOYMENT, PRODUCTION, STAND_IN_ENTRIES, tempOutdir, testApp } from './support.ts';

/** cfn-lint findings we accept, by rule id, and why. Anything else fails the test. */
const IGNORED: Record<string, string> = {
  W3005:
    'CDK adds an explicit DependsOn from each function to its role (and the role policy) so the policy ' +
    'exists before the function is invoked; cfn-lint sees the role is already referenced by GetAtt.',
};

interface Finding {
  Filename: string;
  Level: string;
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

describe('cfn-lint', () => {
  it('finds nothing in the synthesized templates but the ignored, explained rules', () => {
    const outdir = tempOutdir();
    for (const [i, deployment] of [DEPLOYMENT, PRODUCTION].entries()) {
      const app = testApp({}, join(outdir, String(i)));
      buildQueuewatch(app, { deployment, entries: STAND_IN_ENTRIES });
      app.synth();
    }
    const templates = ['0', '1'].flatMap((d) =>
      readdirSync(join(outdir, d))
        .filter((f) => f.endsWith('.template.json'))
        .map((f) => join(outdir, d, f)),
    );
    expect(templates).toHaveLength(4);

    const run = spawnSync('cfn-lint', ['--format', 'json', ...templates], { encoding: 'utf8' });
    if (run.error) {
      throw new Error(
        `cannot run cfn-lint (${run.error.message}). Install it: pipx install cfn-lint (or pip install cfn-lint)`,
      );
    }
    let findings: Finding[];
    try {
      findings = JSON.parse(run.stdout || '[]') as Finding[];
    } catch {
      throw new Error(`cfn-lint failed (exit ${run.status}): ${run.stderr || run.stdout}`);
    }
    const unexplained = findings
      .filter((f) => !(f.Rule.Id in IGNORED))
      .map((f) => `${f.Rule.Id} ${f.Filename} ${f.Location.Path.join('/')}: ${f.Message}`);
    expect(unexplained).toEqual([]);
  });
});
