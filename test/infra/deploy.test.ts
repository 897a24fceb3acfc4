// The CDK app bootstraps and deploys to moto_server, and the bundled scan function (the real
// asset from the cloud assembly), run with node against the deployed table and topic, delivers an
// alert to an SQS queue subscribed with the stack's filter policy; the bundled ack function then
// shows and acknowledges the alert's link. moto cannot invoke Lambdas
// (no Docker) nor create SNS subscriptions from a template, so the test does those two by hand.
// The deployment config holds a second force: deployed beside the first from the same assembly
// (its data stack: its tables, and its topic with a subscriber in the same audience and district),
// it never receives the first force's alert, and deploying it leaves the first force untouched.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toMirrorItem } from '#shared/adapters/mirror-item.ts';
import { TABLES } from '#shared/adapters/tables.ts';
import { messageAttributes } from '#shared/delivery/sns-message.ts';
import type { CaseRecord } from '#shared/domain/case.ts';
import { allows, type Call, recordCalls, roleStatements } from '#test/support/granted.ts';
import { type Moto, startMoto } from '#test/support/moto.ts';
import { drainQueue, subscribeQueue } from '#test/support/sqs.ts';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const STAGE = 'e2e';
/** The second force in the file. */
const OTHER = 'other';
const ACCOUNT = '123456789012';
const REGION = 'eu-west-2';
const HOUR = 3_600_000;

let moto: Moto;
let outDir: string;
let env: NodeJS.ProcessEnv;
/** What the deploys left, seen between them. */
const seen: {
  tablesAfterFirst?: string[];
  tablesAfterSecond?: string[];
  scanModified?: [string | undefined, string | undefined];
} = {};
const work = mkdtempSync(join(tmpdir(), 'qw-deploy-'));
const recording = join(work, 'moto-recording.jsonl');

type Template = {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, string> }
  >;
};
const template = (stack: string, stage = STAGE): Template =>
  JSON.parse(readFileSync(join(outDir, `queuewatch-${stage}-${stack}.template.json`), 'utf8'));
const clientConfig = () => ({
  endpoint: moto.endpoint,
  region: REGION,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});

/** The AWS calls `work` makes, as moto saw them. */
const callsOf = (work: () => Promise<unknown>) =>
  recordCalls(moto.endpoint, recording, { region: REGION, account: ACCOUNT }, work);

/** The calls the deployed function's role does not allow (moto does not enforce IAM: AWS would
 * refuse each of these). */
async function refused(name: string, calls: readonly Call[]): Promise<string[]> {
  const lambda = new LambdaClient(clientConfig());
  const iam = new IAMClient({ ...clientConfig(), region: 'us-east-1' });
  try {
    const { Role } = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: `queuewatch-${STAGE}-${name}` }),
    );
    const statements = await roleStatements(iam, String(Role));
    return [...new Set(calls.filter((c) => !allows(statements, c)).map((c) => `${c.action} ${c.resource}`))];
  } finally {
    lambda.destroy();
    iam.destroy();
  }
}

/** Runs a deployed function's bundle with node, as Lambda would (require(), its environment), with
 * `script` calling `handler` and writing `RESULT <json>`; returns that JSON. */
async function runBundle(name: string, script: string, extraEnv: Record<string, string> = {}) {
  const lambda = new LambdaClient(clientConfig());
  try {
    const vars =
      (
        await lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: `queuewatch-${STAGE}-${name}` }),
        )
      ).Environment?.Variables ?? {};
    const fn = Object.values(template('app').Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === `queuewatch-${STAGE}-${name}`,
    );
    const dir = join(outDir, String(fn?.Metadata?.['aws:asset:path']));
    const full = `const { handler } = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(join(dir, 'index.js'))});
      const context = { awsRequestId: 'e2e-${name}', functionName: 'queuewatch-${STAGE}-${name}', getRemainingTimeInMillis: () => 60000 };
      ${script}`;
    const { stdout } = await run('node', ['--input-type=module', '-e', full], {
      cwd: dir,
      env: { ...env, ...vars, DEFAULT_CONFIG_FILE: join(dir, 'queuewatch.json'), ...extraEnv },
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(
      stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))
        ?.slice(7) ?? '{}',
    );
  } finally {
    lambda.destroy();
  }
}

beforeAll(async () => {
  moto = await startMoto({ recordTo: recording });
  // Inside the project, so the bundle finds the AWS SDK the Lambda runtime would provide.
  outDir = join(root, `cdk.out.deploy-test-${process.pid}`);
  env = {
    ...process.env,
    // `localhost`, not 127.0.0.1: the CDK CLI resolves service endpoints through it.
    AWS_ENDPOINT_URL: `http://localhost:${moto.port}`,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    CDK_VALIDATION: 'false',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const deployConfig = join(work, 'deploy.config.json');
  writeFileSync(
    deployConfig,
    JSON.stringify({
      forces: [
        {
          stage: STAGE,
          subscribers: [
            {
              protocol: 'email',
              endpoint: 'supervisor-d01@example.org',
              audience: 'district-supervisor',
              district: 'D01',
            },
            {
              protocol: 'email',
              endpoint: 'supervisor-d02@example.org',
              audience: 'district-supervisor',
              district: 'D02',
            },
          ],
          opsEmails: ['ops@example.org'],
        },
        {
          stage: OTHER,
          subscribers: [
            {
              protocol: 'email',
              endpoint: 'other-supervisor-d01@example.org',
              audience: 'district-supervisor',
              district: 'D01',
            },
          ],
          opsEmails: ['other-ops@example.org'],
        },
      ],
    }),
  );
  const cdk = (args: string[]) =>
    run('npx', ['cdk', ...args, '--no-notices', '--output', outDir], {
      cwd: root,
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
  // Bootstrap synthesises the app too, so it needs the deployment config like every command.
  await cdk(['bootstrap', `aws://${ACCOUNT}/${REGION}`, '-c', `deployConfig=${deployConfig}`]);
  // One force's stacks by their selector. Direct stack creation: moto's change sets drop stack
  // outputs, which cross-stack exports need.
  await cdk([
    'deploy',
    `queuewatch-${STAGE}-*`,
    '--require-approval',
    'never',
    '--method=direct',
    '-c',
    `deployConfig=${deployConfig}`,
  ]);
  const dynamo = new DynamoDBClient(clientConfig());
  const lambda = new LambdaClient(clientConfig());
  const tables = async () => (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
  const scanModified = async () =>
    (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `queuewatch-${STAGE}-scan` })))
      .LastModified;
  seen.tablesAfterFirst = await tables();
  const before = await scanModified();
  // The other force's data stack from the same cloud assembly (no second synth).
  await run(
    'npx',
    ['cdk', 'deploy', `queuewatch-${OTHER}-data`, '--app', outDir, '--require-approval', 'never'],
    { cwd: root, env, maxBuffer: 64 * 1024 * 1024 },
  );
  seen.tablesAfterSecond = await tables();
  seen.scanModified = [before, await scanModified()];
  dynamo.destroy();
  lambda.destroy();
}, 600_000);

afterAll(async () => {
  await moto?.stop();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('deploying to moto_server', () => {
  it("deploys one force by its selector, and another beside it without touching the first's stacks", () => {
    const of = (stage: string, names: string[] = []) =>
      names.filter((n) => n.startsWith(`queuewatch-${stage}-`));
    const all = (stage: string) => TABLES.map((t) => `queuewatch-${stage}-${t.id}`).sort();
    expect(of(STAGE, seen.tablesAfterFirst).sort()).toEqual(all(STAGE));
    expect(of(OTHER, seen.tablesAfterFirst)).toEqual([]);
    expect(of(OTHER, seen.tablesAfterSecond).sort()).toEqual(all(OTHER));
    expect(of(STAGE, seen.tablesAfterSecond)).toEqual(of(STAGE, seen.tablesAfterFirst));
    const [before, after] = seen.scanModified ?? [];
    expect(before).toBeDefined();
    expect(after).toBe(before);
  });

  it('runs the bundled scan function against the deployed table and topic, delivers an alert, and the bundled ack function acknowledges it', async () => {
    const lambda = new LambdaClient(clientConfig());
    const sns = new SNSClient(clientConfig());
    const sqs = new SQSClient(clientConfig());
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()));

    // The function as deployed: its environment names the tables and topics.
    const deployed = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: `queuewatch-${STAGE}-scan` }),
    );
    const vars = deployed.Environment?.Variables ?? {};
    expect(deployed.Runtime).toBe('nodejs22.x');
    expect(vars.MIRROR_TABLE).toBe(`queuewatch-${STAGE}-mirror`);

    // Subscribe a queue to the alert topic for each subscriber, with the stack's filter policy.
    const subscriptions = Object.values(template('data').Resources).filter(
      (r) => r.Type === 'AWS::SNS::Subscription',
    );
    const queues = new Map<string, string>();
    for (const subscription of subscriptions) {
      const props = subscription.Properties ?? {};
      if (!props.FilterPolicy) continue; // the ops address
      const name = String(props.Endpoint).split('@')[0] as string;
      const queueUrl = await subscribeQueue(
        sns,
        sqs,
        vars.ALERT_TOPIC_ARN as string,
        `e2e-${name}`,
        props.FilterPolicy,
      );
      queues.set(name, queueUrl);
    }
    expect([...queues.keys()].sort()).toEqual(['supervisor-d01', 'supervisor-d02']);
    // The other force's supervisor in D01: the same group, on the other force's own alert topic.
    const otherSubscription = Object.values(template('data', OTHER).Resources).find(
      (r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.FilterPolicy,
    );
    const { Topics = [] } = await sns.send(new ListTopicsCommand({}));
    const otherTopicArn = Topics.map((t) => t.TopicArn ?? '').find((arn) =>
      arn.endsWith(`:queuewatch-${OTHER}-alerts`),
    );
    if (!otherTopicArn) throw new Error(`the ${OTHER} force's alert topic was not deployed`);
    expect(otherTopicArn).not.toBe(vars.ALERT_TOPIC_ARN);
    const otherQueue = await subscribeQueue(
      sns,
      sqs,
      otherTopicArn,
      'e2e-other-supervisor-d01',
      otherSubscription?.Properties?.FilterPolicy,
    );
    expect(otherSubscription?.Properties?.FilterPolicy).toEqual(
      expect.objectContaining({ group: ['district-supervisor@D01'] }),
    );

    // A high-risk domestic abuse case in D01, 30 hours without its risk assessment: a breach.
    const entered = new Date(Date.now() - 30 * HOUR).toISOString();
    const record: CaseRecord = {
      caseRef: 'DA-E2E-0000001',
      category: 'domestic-abuse',
      riskLevel: 'high',
      district: 'D01',
      stage: 'awaiting-risk-assessment',
      stageEnteredAt: entered,
      childrenInvolved: false,
      sourceUpdatedAt: entered,
    };
    await doc.send(new PutCommand({ TableName: vars.MIRROR_TABLE, Item: toMirrorItem(record, Date.now()) }));

    // The real asset, run with node as Lambda would, against the deployed resources.
    const resources = Object.values(template('app').Resources);
    const scan = resources.find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === `queuewatch-${STAGE}-scan`,
    );
    const assetDir = join(outDir, String(scan?.Metadata?.['aws:asset:path']));
    // Loaded with require(), as Lambda loads a CommonJS handler.
    const script = `const { handler } = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(join(assetDir, 'index.js'))});
      const result = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, { awsRequestId: 'e2e-run', functionName: 'queuewatch-${STAGE}-scan', getRemainingTimeInMillis: () => 300000 });
      process.stdout.write('RESULT ' + JSON.stringify(result) + '\\n');`;
    let stdout = '';
    const scanCalls = await callsOf(async () => {
      ({ stdout } = await run('node', ['--input-type=module', '-e', script], {
        cwd: assetDir,
        env: {
          ...env,
          ...vars,
          DEFAULT_CONFIG_FILE: join(assetDir, 'queuewatch.json'),
        },
        maxBuffer: 16 * 1024 * 1024,
      }));
    });
    const result = JSON.parse(
      stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))
        ?.slice(7) ?? '{}',
    );

    expect(result.open).toBe(1);
    expect(result.levels.breach).toBe(1);
    expect(result.failures).toBe(0);
    // Every call it made is one its role allows: on AWS, a call left out of the grants fails.
    expect(scanCalls.map((c) => c.action)).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'dynamodb:BatchWriteItem',
        'sns:Publish',
      ]),
    );
    expect(await refused('scan', scanCalls)).toEqual([]);

    // With the function's environment (its own NODE_OPTIONS) but without its mirror table, the
    // bundle fails as it loads, and its stack trace names our source files and lines, not the
    // bundle's.
    expect(vars.NODE_OPTIONS).toMatch(/^--max-old-space-size=\d+$/);
    const failed = await run('node', ['-e', `require(${JSON.stringify(join(assetDir, 'index.js'))})`], {
      cwd: assetDir,
      env: { ...env, ...vars, MIRROR_TABLE: '' },
    }).then(
      () => '',
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(failed).toMatch(/MissingEnvironmentError: environment variable MIRROR_TABLE is not set/);
    expect(failed).toMatch(/\n {4}at requireEnv \(shared\/lambda\/env\.ts:\d+:\d+\)/);
    expect(failed).toMatch(/\n {4}at awsScanDeps \(shared\/wiring\/scan\.ts:\d+:\d+\)/);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.get('supervisor-d01'), MaxNumberOfMessages: 10 }),
    );
    const nothing = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.get('supervisor-d02'), MaxNumberOfMessages: 10 }),
    );
    const envelope = JSON.parse(received.Messages?.[0]?.Body ?? '{}');
    expect(received.Messages).toHaveLength(1);
    expect(envelope.Message).toMatch(/^QW D01 Northgate: 1 BREACH \(1 new\)\nDA-E2E-0000001 30h new\n/);
    expect(envelope.MessageAttributes.group.Value).toBe('["district-supervisor@D01"]');
    expect(nothing.Messages ?? []).toHaveLength(0);
    const otherForce = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: otherQueue, MaxNumberOfMessages: 10 }),
    );
    expect(otherForce.Messages ?? []).toHaveLength(0);
    // The other force's subscription does work: a message for the same group on its own topic
    // arrives there, and not at the first force's subscriber.
    const { MessageId: control } = await sns.send(
      new PublishCommand({
        TopicArn: otherTopicArn,
        Message: 'QW D01 Northgate: control message',
        MessageAttributes: messageAttributes({
          groups: ['district-supervisor@D01'],
          audience: 'district-supervisor',
          district: 'D01',
          localAuthority: 'la-northgate',
          level: 'breach',
          categories: ['domestic-abuse'],
          kind: 'alert',
        }),
      }),
    );
    const atOther = await drainQueue(sqs, otherQueue);
    const atFirst = await drainQueue(sqs, queues.get('supervisor-d01') as string);
    expect(atOther.map((m) => m.MessageId)).toEqual([control]);
    expect(atFirst.map((m) => m.MessageId)).not.toContain(control);
    const audit = await doc.send(new ScanCommand({ TableName: vars.AUDIT_TABLE }));
    expect(audit.Items?.map((i) => i.caseRefs)).toContainEqual(['DA-E2E-0000001']);
    const ledger = await doc.send(new ScanCommand({ TableName: vars.LEDGER_TABLE }));
    expect(ledger.Items?.length).toBeGreaterThan(0);

    // The alert links to the acknowledgement page at the deployed API's address. The bundled ack
    // function, run with node as Lambda would, shows the page on GET and acknowledges on the POST.
    expect(vars.ACK_BASE_URL).toMatch(/^https:\/\/[^/]+\.execute-api\.eu-west-2\.amazonaws\.com$/);
    const token = String(envelope.Message)
      .split('\n')
      .at(-1)
      ?.slice(String(vars.ACK_BASE_URL).length + 1);
    expect(token).toMatch(/^[0-9A-Za-z]{10}$/);
    const ackFunction = resources.find(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.FunctionName === `queuewatch-${STAGE}-ack`,
    );
    const ackVars = (
      await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: `queuewatch-${STAGE}-ack` }))
    ).Environment?.Variables;
    const ackDir = join(outDir, String(ackFunction?.Metadata?.['aws:asset:path']));
    const ackScript = `const { handler } = (await import('node:module')).createRequire(import.meta.url)(${JSON.stringify(join(ackDir, 'index.js'))});
      const context = { awsRequestId: 'e2e-ack', functionName: 'queuewatch-${STAGE}-ack', getRemainingTimeInMillis: () => 10000 };
      const request = (method, body) => ({ version: '2.0', routeKey: method + ' /{token}', rawPath: '/${token}',
        pathParameters: { token: '${token}' }, headers: { 'sec-fetch-site': 'same-origin' },
        requestContext: { http: { method } }, ...(body ? { body, isBase64Encoded: false } : {}) });
      const shown = await handler(request('GET'), context);
      const pressed = await handler(request('POST', 'acknowledge=yes'), context);
      process.stdout.write('RESULT ' + JSON.stringify({ shown: shown.statusCode, pressed: pressed.statusCode, page: shown.body }) + '\\n');`;
    let ack = { stdout: '' };
    const ackCalls = await callsOf(async () => {
      ack = await run('node', ['--input-type=module', '-e', ackScript], {
        cwd: ackDir,
        env: { ...env, ...ackVars },
        maxBuffer: 16 * 1024 * 1024,
      });
    });
    const pages = JSON.parse(
      ack.stdout
        .split('\n')
        .find((l) => l.startsWith('RESULT '))
        ?.slice(7) ?? '{}',
    );
    expect(pages).toMatchObject({ shown: 200, pressed: 200 });
    expect(pages.page).toContain('DA-E2E-0000001');
    const acks = await doc.send(new ScanCommand({ TableName: vars.LEDGER_TABLE }));
    expect(acks.Items?.map((i) => i.group)).toContain('acks/district-supervisor/D01');
    expect(ackCalls.length).toBeGreaterThan(0);
    expect(await refused('ack', ackCalls)).toEqual([]);

    // An engineer's check from the CLI, with the real handler against the same stack: the breach
    // was just sent, so this run finds nothing due.
    const cli = await run('node', [join(root, 'bin/queuewatch.js'), 'local', '--aws', '--stage', STAGE], {
      cwd: root,
      env: {
        ...env,
        ALERT_TOPIC_ARN: vars.ALERT_TOPIC_ARN,
        OPS_TOPIC_ARN: vars.OPS_TOPIC_ARN,
        DEFAULT_CONFIG_FILE: join(root, 'config/queuewatch.yaml'),
      },
    });
    const summary = JSON.parse(cli.stdout.trim().split('\n').at(-1) ?? '{}');
    expect(cli.stdout).toMatch(/^running the scan once against AWS/);
    expect(summary).toMatchObject({ open: 1, sent: 0, failures: 0 });
  });
  it('runs the bundled ingest, signals and digest functions, and their roles allow every call each makes', async () => {
    const entered = new Date(Date.now() - 2 * HOUR).toISOString();
    const body = JSON.stringify({
      changeType: 'created',
      case: {
        caseRef: 'DA-E2E-0000002',
        category: 'domestic-abuse',
        riskLevel: 'medium',
        district: 'D02',
        stage: 'awaiting-risk-assessment',
        stageEnteredAt: entered,
        childrenInvolved: false,
        sourceUpdatedAt: entered,
      },
    });
    const sqsEvent = {
      Records: [
        {
          messageId: 'e2e-feed-1',
          receiptHandle: 'r',
          body,
          attributes: {},
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:queuewatch-${STAGE}-ingest`,
          awsRegion: REGION,
        },
      ],
    };
    let ingested: { batchItemFailures?: unknown[] } = {};
    const ingestCalls = await callsOf(async () => {
      ingested = await runBundle(
        'ingest',
        `const r = await handler(${JSON.stringify(sqsEvent)}, context); process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n');`,
      );
    });
    expect(ingested).toEqual({ batchItemFailures: [] });
    expect(ingestCalls.map((c) => c.action)).toContain('dynamodb:UpdateItem');
    expect(await refused('ingest', ingestCalls)).toEqual([]);

    let signalled: { mode?: string } = {};
    const signalsCalls = await callsOf(async () => {
      signalled = await runBundle(
        'signals',
        `const r = await handler({ mode: 'all' }, context); process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n');`,
      );
    });
    expect(signalled.mode).toBe('all');
    expect(signalsCalls.map((c) => c.action)).toContain('dynamodb:Query');
    expect(await refused('signals', signalsCalls)).toEqual([]);

    const digestCalls = await callsOf(() =>
      runBundle(
        'digest',
        `const r = await handler({}, context); process.stdout.write('RESULT ' + JSON.stringify(r) + '\\n');`,
      ),
    );
    expect(digestCalls.map((c) => c.action)).toContain('sns:Publish');
    expect(await refused('digest', digestCalls)).toEqual([]);
  });
});
