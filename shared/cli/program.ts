// The shape of the `queuewatch` command line: every command, its options and its help, in one
// place. Each action loads the module that does the work only when it runs, so `--help`, and any
// command that needs no AWS SDK or dynalite, starts without loading them.

import { Command, Option } from 'commander';
import type { ParameterOptions } from './config-push.ts';
import { EXIT_STATUS_HELP, parseCount, parseDay, parseEndpoint, parseInstant, parseStage } from './output.ts';
import { addTableOptions, configParameterName } from './targets.ts';

/** `local` starts here unless told otherwise, so that a run prints the same every time (and the
 * README's sample output matches it): Monday 30 November 2026, 08:00 in London (GMT). */
export const DEFAULT_LOCAL_START = '2026-11-30T08:00:00Z';

const CONFIG_FILE_HELP = 'config file, YAML or JSON (default: the shipped config/queuewatch.yaml)';

/** --stage or --parameter names the config parameter; --endpoint and --region where it is. */
function addParameterOptions(command: Command): Command {
  return command
    .option(
      '--stage <stage>',
      `deployment stage: the parameter is ${configParameterName('<stage>')}`,
      parseStage,
    )
    .option('--parameter <name>', 'the parameter’s full name, instead of --stage')
    .option(
      '--endpoint <url>',
      'a local SSM server (moto_server) instead of AWS, e.g. http://localhost:5000',
      parseEndpoint,
    )
    .option('--region <region>', 'AWS region (default: from the environment)');
}

function configCommand(): Command {
  const config = new Command('config').description(
    'Check the admin config, push it to a stage, show what is in force and compare a file with it',
  );
  config.addCommand(
    addTableOptions(
      new Command('check')
        .description(
          'Validate a config file, summarise its rules and routes, and warn about gaps; with a mirror (--stage, --endpoint), refuse one that drops a district or category open cases still use',
        )
        .argument('[file]', CONFIG_FILE_HELP),
      'mirror',
    )
      .option('--strict', 'exit 1 on warnings too (for CI)')
      .action(async (file: string | undefined, options: import('./config-check.ts').CheckOptions) => {
        const { checkConfigCommand } = await import('./config-check.ts');
        process.exitCode = await checkConfigCommand(file, options, Date.now());
      }),
  );
  addParameterOptions(
    config
      .command('push')
      .description('Validate a config and publish it to SSM Parameter Store, where the scan reads it')
      .argument('[file]', CONFIG_FILE_HELP)
      .option(
        '--mirror-table <name>',
        'the mirror whose open cases the config must still cover (default: queuewatch-<stage>-mirror)',
      )
      .option(
        '--mirror-endpoint <url>',
        'a local DynamoDB holding the mirror (default: --endpoint)',
        parseEndpoint,
      )
      .option(
        '--allow-removal',
        'push even if open cases still use a district or category the config drops (the scan cannot read those cases: no alert for them)',
      )
      .option(
        '--deploy-config <path>',
        'the deployment config whose signalsAt for the stage digest.at is checked against (default: deploy.config.json, if there is one)',
      )
      .addHelpText(
        'after',
        '\nBefore pushing, reads the open cases in the stage’s mirror (every district of the config in force\nand of the new one) and refuses, exit status 1, a config that drops a district or category still in use.\nWarns when digest.at is not at least 15 minutes after the stage’s signalsAt (the deployment config).',
      ),
  ).action(async (file: string | undefined, options: import('./config-push.ts').PushOptions) => {
    const { pushConfigCommand } = await import('./config-push.ts');
    process.exitCode = await pushConfigCommand(file, options);
  });
  addParameterOptions(
    config
      .command('show')
      .description('Show the config in force on a stage: the one pushed to SSM, its version and size')
      .option('--json', 'print the stored config as JSON, as the scan reads it'),
  ).action(async (options: ParameterOptions & { json?: boolean }) => {
    const { showConfigCommand } = await import('./config-push.ts');
    await showConfigCommand(options);
  });
  addParameterOptions(
    config
      .command('diff')
      .description('Compare a config file with the one in force on a stage (exit 1 when they differ)')
      .argument('[file]', CONFIG_FILE_HELP),
  ).action(async (file: string | undefined, options: ParameterOptions) => {
    const { diffConfigCommand } = await import('./config-push.ts');
    process.exitCode = await diffConfigCommand(file, options);
  });
  return config;
}

function routesCommand(): Command {
  const routes = new Command('routes').description('Explore the routing tree');
  routes
    .command('test')
    .description(
      'Show the rule and the audiences a case with these attributes reaches at each level, and when each hears again (reminders, quiet hours, SMS)',
    )
    .argument(
      '<key=value...>',
      'case attributes: category, riskLevel, stage, childrenInvolved, district; level=LEVEL shows one level',
    )
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .option('--json', 'print JSON')
    .option(
      '--expect <[level=]audiences>',
      'fail (exit 1) unless the case reaches exactly these audiences (comma-separated) under its own rule, at LEVEL or at every level shown; repeatable',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--expect-rule <id>', 'fail (exit 1) unless this rule is the one the case falls under')
    .addHelpText(
      'after',
      `
Attributes that no rule or route matches on may be left out; stage (awaiting-risk-assessment) and
childrenInvolved (false) are assumed when not given. For each audience it reaches, it shows the
audience's reminder interval at each level (or "sent once"), whether that level goes by SMS, and
its quiet hours (London time): what they hold back and what still goes at once.

Examples:
  queuewatch routes test category=child-protection riskLevel=high stage=awaiting-referral childrenInvolved=true district=D03
  queuewatch routes test category=domestic-abuse riskLevel=high district=D01 \\
    --expect-rule da-high-assessment --expect warning=district-supervisor,marac-coordinator \\
    --expect escalation=district-supervisor,marac-coordinator,duty-inspector`,
    )
    .action(
      async (
        pairs: string[],
        options: { config?: string; json?: boolean; expect?: string[]; expectRule?: string },
      ) => {
        const { routesTestCommand } = await import('./routes-command.ts');
        process.exitCode = routesTestCommand(pairs, options);
      },
    );
  return routes;
}

function evaluateCommand(): Command {
  return new Command('evaluate')
    .description('Show what a run would send for a file of cases (JSON Lines, JSON array or CSV)')
    .requiredOption('--cases <file>', 'case file: .jsonl, .json or .csv')
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .option('--at <instant>', 'evaluate as of this ISO 8601 instant (default: now)', parseInstant)
    .option('--json', 'print one JSON document')
    .option('--full', 'print each email body too')
    .action(
      async (options: { cases: string; config?: string; at?: number; json?: boolean; full?: boolean }) => {
        const { evaluateCommand } = await import('./evaluate-command.ts');
        await evaluateCommand(options, Date.now());
      },
    );
}

function generateCommand(): Command {
  return new Command('generate')
    .description('Write a synthetic queue (seeded: the same options give the same queue)')
    .option('--open <n>', 'open cases', parseCount, 1000)
    .option('--closed <n>', 'closed or acknowledged cases', parseCount, 0)
    .option('--seed <n>', 'random seed', parseCount, 1)
    .option(
      '--backlog <n>',
      'old domestic abuse cases awaiting assessment (default: 5% of open, at most 700)',
      parseCount,
    )
    .option('--at <instant>', 'the queue is as of this ISO 8601 instant (default: now)', parseInstant)
    .addOption(
      new Option('--format <format>', 'output format').choices(['jsonl', 'json', 'csv']).default('jsonl'),
    )
    .option(
      '--with-source-fields',
      'add synthetic source-system fields (names, notes) that the edge must drop',
    )
    .option('-c, --config <file>', 'config whose districts to use (default: the shipped config)')
    .option('-o, --out <file>', 'write here instead of stdout')
    .action(async (options: import('./generate-command.ts').GenerateOptions) => {
      const { generateCommand } = await import('./generate-command.ts');
      await generateCommand(options, Date.now());
    });
}

function importCommand(): Command {
  return addTableOptions(
    new Command('import')
      .description(
        'Load a source export (JSON Lines, JSON array or CSV) into the mirror, with the feed’s validation and ordering; safe to re-run',
      )
      .argument(
        '<file>',
        'the export: one case record a line (JSON Lines), a JSON array, or CSV with a header',
      ),
    'mirror',
  )
    .option('--concurrency <n>', 'DynamoDB requests in flight', parseCount, 16)
    .option('--rejects <file>', 'where rejected lines go, with their reasons (default: FILE.rejects.jsonl)')
    .option('--checkpoint <file>', 'where progress is checkpointed (default: FILE.checkpoint.json)')
    .option('--resume', 'continue after the line the checkpoint recorded')
    .option(
      '--exclusive',
      'nothing else writes the table meanwhile (feed paused, first load, local): batch writes, about 4x faster',
    )
    .option('--create-tables', 'create the tables first if they do not exist (local endpoints only)')
    .option(
      '--flow-table <name>',
      'where the stage transitions the import makes are counted (default: <prefix>-flow beside the mirror)',
    )
    .option(
      '-c, --config <file>',
      'config whose categories and districts records must use (default: shipped)',
    )
    .addHelpText(
      'after',
      '\nExit status 3: done, but some lines were rejected (line and reason in the rejects file); 1 or 130: stopped, re-run with --resume.',
    )
    .action(async (file: string, options: import('./import-command.ts').ImportOptions) => {
      const { importCommand } = await import('./import-command.ts');
      await importCommand(file, options, Date.now());
    });
}

function localCommand(): Command {
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
    .addOption(
      new Option(
        '--start <instant>',
        "simulated start: an ISO 8601 instant, or 'now'; fixed by default (a Monday, 08:00 in London) so that every run prints the same",
      )
        .argParser((value: string) =>
          value === 'now' ? Math.floor(Date.now() / 60_000) * 60_000 : parseInstant(value),
        )
        .default(Date.parse(DEFAULT_LOCAL_START), DEFAULT_LOCAL_START),
    )
    .option(
      '--show <who>',
      "whose messages to print in full: 'all' or audience@district pairs, comma-separated",
      'district-supervisor@D01,director-childrens-services@D01',
    )
    .option('--emails', 'print email bodies too')
    .option('--once', 'run once, at the start, printing every message (same as --hours 0 --show all)')
    .option(
      '--aws',
      "run the scan handler once, now, against a deployed stack (real tables, real topics: it sends real alerts); the function's environment names them, or --stage",
    )
    .option(
      '--stage <stage>',
      'with --aws: the deployment stage whose tables and config parameter to use',
      parseStage,
    )
    .addOption(
      new Option(
        '--scenario <name>',
        'replay a timeline instead: iops (weeks of flow, a go-live, referrals falling, a feed stopping; a few minutes)',
      ).choices(['iops']),
    )
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .action(async (options: import('./local-command.ts').LocalOptions) => {
      const { localCommand } = await import('./local-command.ts');
      await localCommand(options);
    });
}

function auditCommand(): Command {
  return addTableOptions(
    new Command('audit')
      .description(
        'What the disclosure log says was sent: every message of a day, or who was told about a case, when and at which level',
      )
      .addOption(
        new Option('--day <date>', 'the messages sent on this day, UTC (default: today)')
          .argParser(parseDay)
          .conflicts('case'),
      )
      .option('--case <ref>', 'every disclosure of this case reference, oldest first')
      .option('--cases', 'with --day: list the case references of each message')
      .option('--json', 'print JSON'),
    'audit',
  ).action(async (options: import('./audit-command.ts').AuditOptions) => {
    const { auditCommand } = await import('./audit-command.ts');
    await auditCommand(options, Date.now());
  });
}

function statusCommand(): Command {
  return addTableOptions(
    new Command('status').description(
      'The live picture from the mirror: open cases by district and level, and the oldest of each category',
    ),
    'mirror',
  )
    .option('--at <instant>', 'as of this ISO 8601 instant (default: now)', parseInstant)
    .option(
      '-c, --config <file>',
      'config whose limits to apply (default: with --stage, the one pushed to the stage if any; else the shipped one)',
    )
    .option('--json', 'print JSON')
    .action(async (options: import('./status-command.ts').StatusOptions) => {
      const { statusCommand } = await import('./status-command.ts');
      await statusCommand(options, Date.now());
    });
}

function migrateCommand(): Command {
  const migrate = new Command('migrate').description('Move a mirror on to what this release needs');
  migrate.addCommand(
    addTableOptions(
      new Command('open-index').description(
        "Give every open case in a first-release mirror its district key for the open-cases index by district, compare both indexes case by case, and record the backfill complete for the scan to switch (README: 'Migrating to the sharded index')",
      ),
      'mirror',
    )
      .option(
        '-c, --config <file>',
        'config whose districts to migrate to (default: with --stage, the config pushed to it; else the shipped config)',
      )
      .option(
        '--state-table <name>',
        'the state table to record the completed backfill in (default: beside the mirror, by --stage or --prefix)',
      )
      .option('--json', 'print JSON')
      .action(async (options: import('./migrate-command.ts').MigrateOptions) => {
        const { migrateOpenIndexCommand } = await import('./migrate-command.ts');
        await migrateOpenIndexCommand(options);
      }),
  );
  return migrate;
}

function digestCommand(): Command {
  return new Command('digest')
    .description(
      "Show the daily picture each digest audience would receive (nothing is sent): for a synthetic queue, or a local or deployed stack's tables",
    )
    .option('--at <instant>', 'as of this ISO 8601 instant (default: now)', parseInstant)
    .option(
      '--to <who>',
      'only these digests: audiences or audience@place, comma-separated (e.g. director-childrens-services@la-northgate)',
    )
    .option('--open <n>', 'open cases in the synthetic queue', parseCount, 300)
    .option('--seed <n>', 'random seed of the synthetic queue', parseCount, 1)
    .option(
      '--endpoint <url>',
      'read a local DynamoDB (dynalite, moto) instead of a synthetic queue',
      parseEndpoint,
    )
    .option(
      '--prefix <prefix>',
      'table name prefix: reads <prefix>-mirror, -ledger and -state (with --endpoint: local; without, on AWS)',
    )
    .option('--region <region>', 'AWS region (default: from the environment)')
    .option('--json', 'print one JSON document')
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .action(async (options: import('./digest-command.ts').DigestOptions) => {
      const { digestCommand: run } = await import('./digest-command.ts');
      await run(options);
    });
}

function signalsCommand(): Command {
  const signals = new Command('signals').description(
    'The silence signals: referral rates and shares below normal, flow that stops',
  );
  signals
    .command('show')
    .description(
      'What each signal watches, how it is judged, and which audiences hear of it in each district',
    )
    .option('--signal <id>', 'one signal')
    .option('--district <id>', 'one district')
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .option('--json', 'print JSON')
    .action(async (options: import('./signals-command.ts').SignalsShowOptions) => {
      const { signalsShowCommand } = await import('./signals-command.ts');
      signalsShowCommand(options);
    });
  addTableOptions(
    signals
      .command('status')
      .description(
        'Each district’s signals now, from the flow table: learning (until when), normal, or raised and why. Sends nothing.',
      ),
    'flow',
  )
    .option('--at <instant>', 'judge as of this ISO 8601 instant (default: now)', parseInstant)
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .action(async (options: import('./signals-command.ts').SignalsStatusOptions) => {
      const { signalsStatusCommand } = await import('./signals-command.ts');
      await signalsStatusCommand(options, Date.now());
    });
  return signals;
}

function flowCommand(): Command {
  const flow = new Command('flow').description(
    'Case flow (stage transitions) as the silence signals count it',
  );
  addTableOptions(
    flow
      .command('import')
      .description(
        'Load an export of past stage transitions (JSON Lines, JSON array or CSV) so the signals start with a baseline; safe to re-run',
      )
      .argument(
        '<file>',
        'one transition a record: caseRef, district, category, riskLevel, childrenInvolved, from, to, at',
      ),
    'flow',
  )
    .option('--rejects <file>', 'where rejected records go, with their reasons (default: FILE.rejects.jsonl)')
    .option('--create-tables', 'create the tables first if they do not exist (local endpoints only)')
    .option(
      '-c, --config <file>',
      'config whose districts and categories records must use (default: shipped)',
    )
    .addHelpText(
      'after',
      "\n'from' is the stage left (or 'new' for a case's first stage), 'to' the stage entered, 'at' when (ISO 8601 with an offset).\nExit status 3: done, but some records were rejected (line and reason in the rejects file).",
    )
    .action(async (file: string, options: import('./flow-command.ts').FlowImportOptions) => {
      const { flowImportCommand } = await import('./flow-command.ts');
      await flowImportCommand(file, options, Date.now());
    });
  addTableOptions(
    flow
      .command('show')
      .description(
        'A district’s daily flow as the signals count it: transitions by stage entered, per London day',
      ),
    'flow',
  )
    .requiredOption('--district <id>', 'the district')
    .option('--days <n>', 'days back from today', parseCount, 14)
    .option('-c, --config <file>', 'config file (default: the shipped config)')
    .action(async (options: import('./flow-command.ts').FlowShowOptions) => {
      const { flowShowCommand } = await import('./flow-command.ts');
      await flowShowCommand(options, Date.now());
    });
  return flow;
}

function subscribersCommand(): Command {
  const subscribers = new Command('subscribers').description("Work with the deployment config's subscribers");
  subscribers
    .command('check')
    .description(
      'Validate a deployment config against the admin config and show, per audience and place, ' +
        'how many phones and inboxes receive its alerts and what nobody receives',
    )
    .option('--deploy-config <path>', 'deployment config (default: ./deploy.config.json)')
    .option('--force <stage>', 'in a file of several forces, check this one alone (default: every force)')
    .option('-c, --config <file>', 'admin config of a force that names none (default: the shipped config)')
    .option('--strict', 'exit 1 on warnings too (places nobody receives, no ops email)')
    .option('--json', 'print the coverage as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 valid (warnings are printed), 1 invalid (every problem is listed), or with --strict any warning.',
    )
    .action(async (options: import('./subscribers-command.ts').SubscribersCheckOptions) => {
      const { subscribersCheck } = await import('./subscribers-command.ts');
      subscribersCheck(options);
    });
  return subscribers;
}

export function buildProgram(version: string): Command {
  const program = new Command('queuewatch')
    .description(
      'Watches safeguarding queues: checks and pushes config, tests routes, previews alerts, runs the scan locally, and shows the live queue and the disclosure log.',
    )
    .version(version, '-V, --version', 'print the version')
    .addHelpText('afterAll', EXIT_STATUS_HELP);
  for (const command of [
    configCommand(),
    routesCommand(),
    signalsCommand(),
    evaluateCommand(),
    generateCommand(),
    importCommand(),
    flowCommand(),
    localCommand(),
    auditCommand(),
    statusCommand(),
    digestCommand(),
    subscribersCommand(),
    migrateCommand(),
  ]) {
    program.addCommand(command);
  }
  return program;
}
