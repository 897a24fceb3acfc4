// Builds the stacks for the infra tests (bundling skipped, stand-in handlers) and reads grants out
// of the synthesized templates in terms a reader can check: which actions on which named resource.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, type CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as z from 'zod';
import { PROJECT_ROOT } from '#infra/deployment.ts';
import type { QueuewatchFunction } from '#infra/lambda-defaults.ts';
import { buildQueuewatch, type QueuewatchOptions, type QueuewatchStacks } from '#infra/queuewatch.ts';
import { type Deployment, deploymentSchema } from '#shared/delivery/subscriptions.ts';

export const STAND_IN_HANDLER = fileURLToPath(new URL('./fixtures/stand-in-handler.ts', import.meta.url));
export const STAND_IN_ENTRIES = {
  scan: STAND_IN_HANDLER,
  ingest: STAND_IN_HANDLER,
  digest: STAND_IN_HANDLER,
  ack: STAND_IN_HANDLER,
  signals: STAND_IN_HANDLER,
};

/** Skips esbuild for every stack: a template is all these tests read. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

/** cdk.json's context (the feature flags), which `cdk synth` gives the app: the tests build the same
 * app as the CLI does. */
export const CDK_JSON_CONTEXT: Record<string, unknown> = z
  .object({ context: z.record(z.string(), z.unknown()) })
  .parse(JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8'))).context;

/** An app as `cdk synth` builds it (cdk.json's context), without bundling, writing to a scratch
 * directory. cfn-lint checks the templates (lint.test.ts); CDK's own schema validation would only
 * add seconds. */
export function testApp(context: Record<string, unknown> = {}, outdir = tempOutdir()): App {
  return new App({
    outdir,
    context: { ...CDK_JSON_CONTEXT, ...NO_BUNDLING, ...context },
    builtinCloudFormationValidation: false,
  });
}

/** Synthetic contacts only: an Ofcom drama number and example.org addresses. */
export const DEPLOYMENT: Deployment = deploymentSchema.parse({
  stage: 'test',
  subscribers: [
    { protocol: 'sms', endpoint: '+447700900123', audience: 'district-supervisor', district: 'D01' },
    {
      protocol: 'email',
      endpoint: 'd02-supervisors@example.org',
      audience: 'district-supervisor',
      district: 'D02',
    },
    {
      protocol: 'email',
      endpoint: 'dcs-northgate@example.org',
      audience: 'director-childrens-services',
      localAuthority: 'la-northgate',
      levels: ['escalation'],
    },
    { protocol: 'email', endpoint: 'senior@example.org', audience: 'senior-officer' },
  ],
  opsEmails: ['duty@example.org'],
});

export const PRODUCTION: Deployment = { ...DEPLOYMENT, stage: 'prod', production: true };

export function tempOutdir(): string {
  return mkdtempSync(join(tmpdir(), 'queuewatch-infra-'));
}

export interface Synthesized extends QueuewatchStacks {
  cdkApp: App;
  dataTemplate: Template;
  appTemplate: Template;
}

export function synthesize(
  deployment: Deployment = DEPLOYMENT,
  options: Omit<QueuewatchOptions, 'deployment'> = {},
): Synthesized {
  const cdkApp = testApp();
  const stacks = buildQueuewatch(cdkApp, { entries: STAND_IN_ENTRIES, ...options, deployment });
  return {
    ...stacks,
    cdkApp,
    dataTemplate: Template.fromStack(stacks.data),
    appTemplate: Template.fromStack(stacks.app),
  };
}

export function logicalId(stack: Stack, element: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(element.node.defaultChild as CfnElement);
}

type Json = unknown;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json | Json[];
}

/** Every statement in the identity policies attached to a role. */
export function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Array<{
    Properties: { Roles: Json[]; PolicyDocument: { Statement: Statement[] } };
  }>;
  return policies
    .filter((p) =>
      p.Properties.Roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/**
 * A function's grants as `{ resource label: sorted actions }`. A resource is labelled by the first
 * entry of `names` whose logical id (or literal text) its ARN contains, plus any `/index/NAME`;
 * `*` stays `*`, and anything unrecognised is labelled by its JSON so a test shows it.
 */
export function grantsOf(
  template: Template,
  fn: QueuewatchFunction,
  names: Record<string, string>,
): Record<string, string[]> {
  const roleId = logicalId(fn.role.stack, fn.role);
  const grants: Record<string, Set<string>> = {};
  for (const s of statementsOf(template, roleId)) {
    if (s.Effect !== 'Allow') throw new Error(`unexpected ${s.Effect} statement`);
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    for (const resource of resources) {
      const text = JSON.stringify(resource);
      const index = /\/index\/([^"]+)"/.exec(text)?.[1];
      const name = resource === '*' ? '*' : Object.entries(names).find(([, id]) => text.includes(id))?.[0];
      const label = name ? `${name}${index ? `/index/${index}` : ''}` : text;
      grants[label] ??= new Set();
      for (const a of actions) grants[label].add(a);
    }
  }
  return Object.fromEntries(Object.entries(grants).map(([k, v]) => [k, [...v].sort()]));
}

/** Logical ids of the data stack's resources, for `grantsOf`. */
export function dataNames(s: QueuewatchStacks) {
  const { data } = s;
  return {
    mirror: logicalId(data, data.tables.mirror),
    ledger: logicalId(data, data.tables.ledger),
    audit: logicalId(data, data.tables.audit),
    state: logicalId(data, data.tables.state),
    rejects: logicalId(data, data.tables.rejects),
    acklinks: logicalId(data, data.tables.acklinks),
    flow: logicalId(data, data.tables.flow),
    key: logicalId(data, data.key),
    opsKey: logicalId(data, data.opsKey),
    alertTopic: logicalId(data, data.alertTopic),
    opsTopic: logicalId(data, data.opsTopic),
    ingestQueue: logicalId(data, data.ingestQueue),
    ingestDeadLetterQueue: logicalId(data, data.ingestDeadLetterQueue),
  };
}
