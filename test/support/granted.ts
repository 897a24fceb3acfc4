// Which AWS calls a deployed function made, from moto's request recorder, and whether its role's
// policies allow each one: the check that a grant the code needs was not left out of the stack
// (moto, like dynalite, does not enforce IAM, so a missing grant shows only on AWS).

import { readFileSync, writeFileSync } from 'node:fs';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';

/** One call: its IAM action (`dynamodb:BatchWriteItem`), the resource it touched (an ARN, `*` when
 * the call names none) and the partition key values it touched (for `dynamodb:LeadingKeys`). */
export interface Call {
  action: string;
  resource: string;
  leadingKeys: string[];
}

interface Recorded {
  headers: Record<string, string>;
  url: string;
  body?: string;
  body_encoded?: boolean;
}

/** Runs `work` with moto recording every request, and returns the calls it made. */
export async function recordCalls(
  endpoint: string,
  file: string,
  where: { region: string; account: string },
  work: () => Promise<unknown>,
): Promise<Call[]> {
  writeFileSync(file, '');
  await fetch(`${endpoint}/moto-api/recorder/start-recording`, { method: 'POST' });
  try {
    await work();
  } finally {
    await fetch(`${endpoint}/moto-api/recorder/stop-recording`, { method: 'POST' });
  }
  // One JSON object per request; moto's threads can write two onto one line, so split on where
  // each begins rather than on newlines.
  return readFileSync(file, 'utf8')
    .split(/(?=\{"headers": )/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .flatMap((part) => callsOf(JSON.parse(part) as Recorded, where));
}

function callsOf(entry: Recorded, where: { region: string; account: string }): Call[] {
  const header = (name: string) =>
    Object.entries(entry.headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';
  const raw = entry.body_encoded
    ? Buffer.from(entry.body ?? '', 'base64').toString('utf8')
    : (entry.body ?? '');
  const target = header('x-amz-target');
  if (target.startsWith('DynamoDB_20120810.')) {
    const action = `dynamodb:${target.slice('DynamoDB_20120810.'.length)}`;
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    const table = (name: string) => `arn:aws:dynamodb:${where.region}:${where.account}:table/${name}`;
    const keysOf = (item: unknown) => {
      const first = Object.values((item ?? {}) as Record<string, { S?: string }>)[0];
      return first?.S !== undefined ? [first.S] : [];
    };
    if (typeof body.TableName === 'string') {
      const index = typeof body.IndexName === 'string' ? `/index/${body.IndexName}` : '';
      return [
        { action, resource: table(body.TableName) + index, leadingKeys: keysOf(body.Key ?? body.Item) },
      ];
    }
    const requests = (body.RequestItems ?? {}) as Record<string, unknown>;
    return Object.keys(requests).map((name) => ({ action, resource: table(name), leadingKeys: [] }));
  }
  if (target.startsWith('AmazonSSM.')) {
    const body = JSON.parse(raw || '{}') as { Name?: string };
    const name = String(body.Name ?? '').replace(/^\//, '');
    return [
      {
        action: `ssm:${target.slice('AmazonSSM.'.length)}`,
        resource: `arn:aws:ssm:${where.region}:${where.account}:parameter/${name}`,
        leadingKeys: [],
      },
    ];
  }
  const form = new URLSearchParams(raw);
  if (new URL(entry.url).host && form.get('Action') === 'Publish') {
    return [{ action: 'sns:Publish', resource: form.get('TopicArn') ?? '*', leadingKeys: [] }];
  }
  return [];
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** Whether an Allow statement among these covers the call (Deny statements are not used here). */
export function allows(statements: readonly Statement[], call: Call): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow') return false;
    if (!list(s.Action).some((a) => glob(a).test(call.action))) return false;
    if (!list(s.Resource).some((r) => glob(r).test(call.resource))) return false;
    const leading = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    if (leading === undefined) return true;
    return (
      call.leadingKeys.length > 0 && call.leadingKeys.every((k) => list(leading).some((p) => glob(p).test(k)))
    );
  });
}

/** Every statement of a role's policies (inline and attached), as deployed. */
export async function roleStatements(iam: IAMClient, roleArn: string): Promise<Statement[]> {
  const RoleName = roleArn.split('/').at(-1) as string;
  const documents: string[] = [];
  const { PolicyNames = [] } = await iam.send(new ListRolePoliciesCommand({ RoleName }));
  for (const PolicyName of PolicyNames) {
    const { PolicyDocument = '{}' } = await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }));
    documents.push(PolicyDocument);
  }
  const { AttachedPolicies = [] } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
  for (const { PolicyArn } of AttachedPolicies) {
    const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn }));
    const { PolicyVersion } = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn, VersionId: Policy?.DefaultVersionId }),
    );
    documents.push(PolicyVersion?.Document ?? '{}');
  }
  return documents.flatMap((text) => {
    const document = JSON.parse(
      text.startsWith('%7B') || text.startsWith('%7b') ? decodeURIComponent(text) : text,
    );
    return list(document.Statement ?? []) as unknown as Statement[];
  });
}
