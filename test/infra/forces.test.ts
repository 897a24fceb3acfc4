// Two forces from one deployment config, in one app, one account and one region (where names would
// collide if anything did): each force's stacks name only its own resources, refer to nothing of the
// other's, watch only its own metrics, and subscribe its people to its own alert topic, which only
// its own scan may publish to.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { QueuewatchStacks } from '#infra/queuewatch.ts';
import { buildQueuewatchApp, type Forces } from '#infra/queuewatch.ts';
import { otherForceConfigText } from '#test/support/deployments.ts';
import { logicalId, STAND_IN_ENTRIES, tempOutdir, testApp } from './support.ts';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-2';
const dir = tempOutdir();
writeFileSync(join(dir, 'south.yaml'), otherForceConfigText());

/** The same shared inbox in both forces (a regional team can watch two), each force's own phone. */
const FORCES = {
  forces: [
    {
      stage: 'north',
      account: ACCOUNT,
      region: REGION,
      subscribers: [
        { protocol: 'sms', endpoint: '+447700900001', audience: 'district-supervisor', district: 'D01' },
        { protocol: 'email', endpoint: 'regional-duty@example.org', audience: 'senior-officer' },
      ],
      opsEmails: ['ops-n@example.org'],
    },
    {
      stage: 'south',
      account: ACCOUNT,
      region: REGION,
      adminConfig: 'south.yaml',
      subscribers: [
        { protocol: 'sms', endpoint: '+447700900002', audience: 'district-supervisor', district: 'S01' },
        { protocol: 'email', endpoint: 'regional-duty@example.org', audience: 'senior-officer' },
      ],
      opsEmails: ['ops-s@example.org'],
    },
  ],
};

function deployConfig(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

function appFrom(path: string, context: Record<string, unknown> = {}): Forces {
  return buildQueuewatchApp(testApp({ deployConfig: path, ...context }), { entries: STAND_IN_ENTRIES });
}

interface Force {
  stage: string;
  stacks: QueuewatchStacks;
  data: Template;
  app: Template;
  /** Both templates as one JSON text. */
  text: string;
}

type Json = unknown;
type Resources = Record<string, { Type: string; Properties?: Record<string, Json> }>;

const resourcesOf = (t: Template) => (t.toJSON() as { Resources: Resources }).Resources;

/** Every name a force's resources are given, by kind: what would collide in a shared account. */
function namesOf(force: Force): Record<string, string[]> {
  const named: Record<string, [string, string]> = {
    table: ['AWS::DynamoDB::Table', 'TableName'],
    topic: ['AWS::SNS::Topic', 'TopicName'],
    queue: ['AWS::SQS::Queue', 'QueueName'],
    keyAlias: ['AWS::KMS::Alias', 'AliasName'],
    function: ['AWS::Lambda::Function', 'FunctionName'],
    logGroup: ['AWS::Logs::LogGroup', 'LogGroupName'],
    alarm: ['AWS::CloudWatch::Alarm', 'AlarmName'],
    dashboard: ['AWS::CloudWatch::Dashboard', 'DashboardName'],
    rule: ['AWS::Events::Rule', 'Name'],
    api: ['AWS::ApiGatewayV2::Api', 'Name'],
  };
  const resources = [...Object.values(resourcesOf(force.data)), ...Object.values(resourcesOf(force.app))];
  const names: Record<string, string[]> = {};
  for (const [kind, [type, property]] of Object.entries(named)) {
    names[kind] = resources
      .filter((r) => r.Type === type)
      .map((r) => r.Properties?.[property])
      .filter((n): n is string => typeof n === 'string');
  }
  names.stack = [force.stacks.data.stackName, force.stacks.app.stackName];
  names.export = exportsOf(force.data);
  names.parameter = functionsOf(force).flatMap((f) => {
    const parameter = f.Environment.Variables.CONFIG_PARAMETER;
    return typeof parameter === 'string' ? [parameter] : [];
  });
  return names;
}

function exportsOf(t: Template): string[] {
  const outputs = (t.toJSON() as { Outputs?: Record<string, { Export?: { Name: string } }> }).Outputs ?? {};
  return Object.values(outputs).flatMap((o) => (o.Export ? [o.Export.Name] : []));
}

function importsOf(t: Template): string[] {
  const found: string[] = [];
  const walk = (value: Json) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'Fn::ImportValue' && typeof v === 'string') found.push(v);
        else walk(v);
      }
    }
  };
  walk(t.toJSON());
  return found;
}

function functionsOf(force: Force) {
  return Object.values(resourcesOf(force.app))
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => r.Properties as { FunctionName: string; Environment: { Variables: Record<string, Json> } });
}

/** The dashboard's body as CloudWatch receives it, with each reference left out. */
function dashboardBody(force: Force): string {
  const [dashboard] = Object.values(resourcesOf(force.app)).filter(
    (r) => r.Type === 'AWS::CloudWatch::Dashboard',
  );
  const body = dashboard?.Properties?.DashboardBody as { 'Fn::Join': [string, Json[]] };
  return body['Fn::Join'][1].filter((part) => typeof part === 'string').join('');
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
}

/** Every statement of every identity policy in the app stack (the functions' roles). */
function roleStatements(force: Force): Statement[] {
  return Object.values(resourcesOf(force.app))
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .flatMap(
      (r) => (r.Properties as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement,
    );
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('two forces in one account and region', () => {
  let north: Force;
  let south: Force;
  beforeAll(() => {
    const built = appFrom(deployConfig('forces.json', FORCES));
    expect(built).toHaveLength(2);
    const force = (stage: string, stacks: QueuewatchStacks): Force => {
      const data = Template.fromStack(stacks.data);
      const app = Template.fromStack(stacks.app);
      return { stage, stacks, data, app, text: JSON.stringify([data.toJSON(), app.toJSON()]) };
    };
    north = force('north', built[0]);
    south = force('south', built[1] as QueuewatchStacks);
  });
  const both = () => [
    [north, south],
    [south, north],
  ];

  it('builds a stack pair per force, each in its own account and region', () => {
    for (const [f] of both() as Array<[Force, Force]>) {
      expect([f.stacks.data.stackName, f.stacks.app.stackName]).toEqual([
        `queuewatch-${f.stage}-data`,
        `queuewatch-${f.stage}-app`,
      ]);
      for (const stack of [f.stacks.data, f.stacks.app]) {
        expect([stack.account, stack.region]).toEqual([ACCOUNT, REGION]);
      }
    }
  });

  it('gives every resource a name of its own force, and none a name the other force has', () => {
    const northNames = namesOf(north);
    const southNames = namesOf(south);
    for (const [f, names] of [
      [north, northNames],
      [south, southNames],
    ] as const) {
      for (const [kind, list] of Object.entries(names)) {
        expect(list.length, `${f.stage}: no ${kind} found`).toBeGreaterThan(0);
        for (const name of list) {
          expect(name, kind).toMatch(
            new RegExp(
              `^(alias/|/aws/lambda/)?queuewatch-${f.stage}([-:]|$)|^/queuewatch/${f.stage}/config$`,
            ),
          );
        }
      }
    }
    const all = (names: Record<string, string[]>) => new Set(Object.values(names).flat());
    const shared = [...all(northNames)].filter((n) => all(southNames).has(n));
    expect(shared).toEqual([]);
    expect(new Set(northNames.parameter)).toEqual(new Set(['/queuewatch/north/config']));
    expect(northNames.keyAlias).toEqual(['alias/queuewatch-north', 'alias/queuewatch-north-ops']);
    expect(northNames.dashboard).toEqual(['queuewatch-north']);
  });

  it('refers to nothing of the other force: no dependency, no import, no name in any template', () => {
    for (const [f, other] of both() as Array<[Force, Force]>) {
      const own = new Set([f.stacks.data, f.stacks.app].map((s: Stack) => s.stackName));
      for (const stack of [f.stacks.data, f.stacks.app]) {
        for (const dependency of stack.dependencies) expect(own.has(dependency.stackName)).toBe(true);
      }
      // The app stack uses its data stack's resources through exports, and only its own force's.
      expect(importsOf(f.app).length).toBeGreaterThan(0);
      for (const name of importsOf(f.app)) expect(name).toMatch(new RegExp(`^queuewatch-${f.stage}-data:`));
      for (const name of importsOf(f.data)) expect(name).toMatch(new RegExp(`^queuewatch-${f.stage}-`));
      expect(exportsOf(other.data).filter((e) => importsOf(f.app).includes(e))).toEqual([]);
      // Any name, ARN, pattern or parameter of the other force would carry its prefix.
      expect(f.text.includes(`queuewatch-${other.stage}`), `queuewatch-${other.stage} in ${f.stage}`).toBe(
        false,
      );
      expect(
        f.text.includes(`/queuewatch/${other.stage}/`),
        `/queuewatch/${other.stage}/ in ${f.stage}`,
      ).toBe(false);
    }
  });

  it("grants each force's functions only their own force's tables, topics, key and parameter", () => {
    for (const [f] of both() as Array<[Force, Force]>) {
      const statements = roleStatements(f);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
        for (const resource of resources) {
          const text = JSON.stringify(resource);
          if (resource === '*') {
            // X-Ray has no resource-level permissions; nor has asking whether one of the force's
            // own phone numbers opted out of SMS (the call names the number, and answers only that).
            expect(
              actionsOf(s).every((a) => a.startsWith('xray:') || a === 'sns:CheckIfPhoneNumberIsOptedOut'),
              actionsOf(s).join(', '),
            ).toBe(true);
          } else if (text.includes('Fn::ImportValue')) {
            expect(text).toMatch(new RegExp(`"queuewatch-${f.stage}-data:`));
          } else {
            // A name written out (the config parameter), or a log group or function of this stack
            // (the scheduler's role invokes the force's own signals function).
            const ownResource = Object.entries(resourcesOf(f.app)).some(
              ([id, r]) =>
                (r.Type === 'AWS::Logs::LogGroup' || r.Type === 'AWS::Lambda::Function') &&
                text.includes(`"${id}"`),
            );
            expect(ownResource || text.includes(`/queuewatch/${f.stage}/`), text).toBe(true);
          }
        }
      }
    }
  });

  it('counts and watches its own metrics only: the service name is the force', () => {
    for (const [f, other] of both() as Array<[Force, Force]>) {
      for (const fn of functionsOf(f)) {
        expect(fn.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(`queuewatch-${f.stage}`);
      }
      const custom = Object.values(resourcesOf(f.app))
        .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.Namespace === 'Queuewatch')
        .map((r) => r.Properties?.Dimensions);
      expect(custom.length).toBeGreaterThan(0);
      for (const dimensions of custom) {
        expect(dimensions).toEqual([{ Name: 'service', Value: `queuewatch-${f.stage}` }]);
      }
      const body = dashboardBody(f);
      const searches = body.match(/SEARCH\([^)]*\)/g) ?? [];
      expect(searches.length).toBeGreaterThan(0);
      for (const search of searches) expect(search).toContain(`service=\\"queuewatch-${f.stage}\\"`);
      expect(body.includes(`"service","queuewatch-${f.stage}"`)).toBe(true);
      expect(body.includes(`queuewatch-${other.stage}`)).toBe(false);
    }
  });

  it("subscribes each force's people to its own topics, checked against its own admin config", () => {
    for (const [f] of both() as Array<[Force, Force]>) {
      const subscriptions = Object.values(resourcesOf(f.data)).filter(
        (r) => r.Type === 'AWS::SNS::Subscription',
      );
      const alertTopic = { Ref: logicalId(f.stacks.data, f.stacks.data.alertTopic) };
      const opsTopic = { Ref: logicalId(f.stacks.data, f.stacks.data.opsTopic) };
      const on = (topic: Json) =>
        subscriptions
          .filter((s) => JSON.stringify(s.Properties?.TopicArn) === JSON.stringify(topic))
          .map((s) => [s.Properties?.Endpoint, s.Properties?.FilterPolicy]);
      const district = f.stage === 'north' ? 'D01' : 'S01';
      expect(on(alertTopic)).toEqual(
        expect.arrayContaining([
          [
            f.stage === 'north' ? '+447700900001' : '+447700900002',
            expect.objectContaining({ group: [`district-supervisor@${district}`] }),
          ],
          ['regional-duty@example.org', expect.objectContaining({ group: ['senior-officer@force'] })],
        ]),
      );
      expect(on(opsTopic)).toEqual([[`ops-${f.stage.slice(0, 1)}@example.org`, undefined]]);
      expect(subscriptions).toHaveLength(3);
    }
  });

  it("lets only the force's own scan publish to its alert topic", () => {
    for (const [f] of both() as Array<[Force, Force]>) {
      const alertExport = new RegExp(
        `^queuewatch-${f.stage}-data:ExportsOutputRef${logicalId(f.stacks.data, f.stacks.data.alertTopic)}`,
      );
      const publishing = roleStatements(f).filter((s) => actionsOf(s).includes('sns:Publish'));
      const topics = publishing.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
      expect(
        topics.some((t) => alertExport.test(String((t as Record<string, Json>)['Fn::ImportValue']))),
      ).toBe(true);
      for (const t of topics) expect(JSON.stringify(t)).toContain(`queuewatch-${f.stage}-data:`);
      // The topic's own policy allows nobody (enforceSSL only denies plain HTTP).
      const policies = Object.values(resourcesOf(f.data)).filter((r) => r.Type === 'AWS::SNS::TopicPolicy');
      for (const p of policies) {
        const document = p.Properties?.PolicyDocument as {
          Statement: Array<{ Effect: string; Resource: Json }>;
        };
        for (const s of document.Statement) {
          if (s.Effect === 'Allow') {
            expect(JSON.stringify(s.Resource)).toContain(logicalId(f.stacks.data, f.stacks.data.opsTopic));
          }
        }
      }
    }
  });
});

describe('choosing forces', () => {
  it('builds one force alone with -c force=STAGE, whatever state the others are in', () => {
    const broken = structuredClone(FORCES);
    (broken.forces[0] as { subscribers: unknown[] }).subscribers = [{ protocol: 'pigeon' }];
    const app = testApp({ deployConfig: deployConfig('one-broken.json', broken), force: 'south' });
    const built = buildQueuewatchApp(app, { entries: STAND_IN_ENTRIES });
    expect(built.map((f) => f.data.stackName)).toEqual(['queuewatch-south-data']);
    expect(app.node.children.map((c) => c.node.id).sort()).toEqual([
      'queuewatch-south-app',
      'queuewatch-south-data',
    ]);
  });

  it('refuses a force the file does not have, listing those it has', () => {
    expect(() => appFrom(deployConfig('forces.json', FORCES), { force: 'east' })).toThrow(
      /forces\.json: no force 'east' here \(its forces: north, south\)$/,
    );
  });

  it('puts each force in its own account and region, or where the credentials point', () => {
    vi.stubEnv('CDK_DEFAULT_ACCOUNT', '333333333333');
    vi.stubEnv('CDK_DEFAULT_REGION', 'eu-west-2');
    const spread = structuredClone(FORCES);
    Object.assign(spread.forces[0] as object, { account: '222222222222', region: 'eu-west-1' });
    Object.assign(spread.forces[1] as object, { account: undefined, region: undefined });
    const [first, second] = appFrom(deployConfig('spread.json', spread));
    expect([first.app.account, first.app.region]).toEqual(['222222222222', 'eu-west-1']);
    expect([second?.app.account, second?.app.region]).toEqual(['333333333333', 'eu-west-2']);
    vi.unstubAllEnvs();
  });

  it('builds a single-force file as one stack pair, as before, and selects it by its stage', () => {
    const single = deployConfig('single.json', {
      ...FORCES.forces[0],
      account: undefined,
      region: undefined,
    });
    expect(appFrom(single, { force: 'north' }).map((f) => f.app.stackName)).toEqual(['queuewatch-north-app']);
    expect(() => appFrom(single, { force: 'south' })).toThrow(/no force 'south' here \(its forces: north\)$/);
  });
});
