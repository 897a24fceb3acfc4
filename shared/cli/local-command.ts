// `queuewatch local`: the main job on this machine. An embedded DynamoDB, a synthetic queue, and
// the real scan handler on its schedule over simulated time (48 hours in about a minute).

import { Command } from 'commander';
import { TABLE_ENV } from '../adapters/tables.ts';
import { configParameterName, tableName } from '../delivery/names.ts';
import { loadConfigOption, parseCount, parseInstant, print, UsageError } from './output.ts';

interface LocalOptions {
  open: number;
  closed: number;
  seed: number;
  hours: number;
  every: number;
  seconds: number;
  start?: number;
  show: string;
  emails?: boolean;
  config?: string;
}

export function localCommand(): Command {
  return new Command('local')
    .description('Run the real scan handler locally over simulated time, on an embedded DynamoDB')
    .option('--open <n>', 'open cases in the synthetic queue', parseCount, 300)
    .option('--closed <n>', 'closed cases (history the scan must not read)', parseCount, 2000)
    .option('--seed <n>', 'random seed', parseCount, 1)
    .option('--hours <n>', 'simulated hours to run', parseCount, 48)
    .option('--every <minutes>', 'minutes between scans (the schedule)', parseCount, 5)
    .option(
      '--seconds <n>',
      'spread the simulation over at least this many seconds (0: flat out)',
      parseCount,
      60,
    )
    .option('--start <instant>', 'simulated start (default: now)', parseInstant)
    .option(
      '--show <who>',
      "whose messages to print in full: 'all' or audience@district pairs, comma-separated",
      'district-supervisor@D01,director-childrens-services@D01',
    )
    .option('--emails', 'print email bodies too')
    .option('--once', 'run once, now, printing every message (same as --hours 0 --show all)')
    .option(
      '--aws',
      "run the scan handler once, now, against a deployed stack (real tables, real topics: it sends real alerts); the function's environment names them, or --stage",
    )
    .option('--stage <stage>', 'with --aws: the deployment stage whose tables and config parameter to use')
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .action(async (options: LocalOptions & { once?: boolean; aws?: boolean; stage?: string }) => {
      if (options.aws) {
        await runOnAws(options.stage);
        return;
      }
      // Quiet the Lambda tooling before it loads: this run prints its own story.
      process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
      process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
      process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
      const { simulate } = await import('../local/simulate.ts');
      const config = loadConfigOption(options.config);
      const once = options.once ?? false;
      await simulate({
        config,
        startMs: options.start ?? Math.floor(Date.now() / 60_000) * 60_000,
        open: options.open,
        closed: options.closed,
        seed: options.seed,
        hours: once ? 0 : options.hours,
        everyMinutes: Math.max(1, options.every),
        seconds: once ? 0 : options.seconds,
        show: once || options.show === 'all' ? 'all' : new Set(options.show.split(',').map((s) => s.trim())),
        emails: options.emails ?? false,
        write: print,
      });
    });
}

/** The real handler with the real AWS adapters, once: for an engineer checking a deployment. */
async function runOnAws(stage: string | undefined): Promise<void> {
  if (stage) {
    for (const [name, id] of Object.entries(TABLE_ENV)) process.env[id] ??= tableName(stage, name);
    process.env.CONFIG_PARAMETER ??= configParameterName(stage);
  }
  const missing = [
    ...Object.values(TABLE_ENV).filter((v) => v !== 'REJECTS_TABLE'),
    'ALERT_TOPIC_ARN',
    'OPS_TOPIC_ARN',
    'CONFIG_PARAMETER',
  ].filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new UsageError(
      `--aws needs the scan function's environment: set ${missing.join(', ')} (--stage fills in the table and parameter names)`,
    );
  }
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  const { createScanHandler } = await import('../scan/handler.ts');
  const { awsScanDeps } = await import('../scan/aws.ts');
  const { summariseRun } = await import('../scan/summary.ts');
  print('running the scan once against AWS: due alerts are really sent');
  const result = await createScanHandler(awsScanDeps())(undefined, { awsRequestId: `cli-${Date.now()}` });
  for (const m of result.messages)
    print(
      `sent ${m.kind} to ${m.groups.join(', ')}: ${m.levels.join(', ') || 'resolved'}, ${m.caseRefs.length} cases listed (${m.messageId})`,
    );
  print(JSON.stringify(summariseRun(result)));
}
