import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { QueuewatchFunction } from '#infra/lambda-defaults.ts';
import { tableFromDefinition } from '#infra/tables.ts';
import { MIRROR_TABLE, STATE_TABLE } from '#shared/adapters/tables.ts';
import { STAND_IN_HANDLER, testApp } from './support.ts';

function fixture() {
  const stack = new Stack(testApp(), 'defaults');
  const key = new Key(stack, 'Key', { enableKeyRotation: true });
  const settings = { stage: 'unit', production: false, key };
  const fn = new QueuewatchFunction(stack, 'Fn', {
    functionName: 'queuewatch-unit-fn',
    description: 'unit',
    entry: STAND_IN_HANDLER,
    key,
    production: false,
    timeout: Duration.seconds(10),
    memorySize: 128,
  });
  return { fn, mirror: tableFromDefinition(stack, MIRROR_TABLE, settings), settings, stack };
}

describe('the Lambda defaults construct', () => {
  it('caps the V8 heap at three quarters of the memory, so the heap grows as a small one does', () => {
    const { stack } = fixture();
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 128,
      Environment: {
        Variables: Match.objectLike({ NODE_OPTIONS: '--max-old-space-size=96' }),
      },
    });
  });

  it('refuses to grant Query on an index the table does not have', () => {
    const { fn, mirror } = fixture();
    expect(() => fn.bindTable(mirror, MIRROR_TABLE, { queryIndex: 'all-cases' })).toThrow(
      "table 'mirror' has no index 'all-cases'",
    );
  });

  it('refuses Scan with write-only or index-only access', () => {
    const { fn, mirror } = fixture();
    expect(() => fn.bindTable(mirror, MIRROR_TABLE, 'write', { scan: true })).toThrow(/scan needs read/);
    expect(() => fn.bindTable(mirror, MIRROR_TABLE, { queryIndex: 'open-cases' }, { scan: true })).toThrow(
      /scan needs read/,
    );
  });

  it('sets the environment variable the shared definition names, with the grant', () => {
    const { fn, stack, settings } = fixture();
    const state = tableFromDefinition(stack, STATE_TABLE, settings);
    fn.bindTable(state, STATE_TABLE, 'read');
    const template = Template.fromStack(stack);
    const stateRef = { Ref: stack.getLogicalId(state.node.defaultChild as CfnElement) };
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATE_TABLE: stateRef }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:GetItem', 'dynamodb:Query']),
            Resource: { 'Fn::GetAtt': [stateRef.Ref, 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('refuses to narrow a Scan or an index Query to leading keys, which cannot limit them', () => {
    const { fn, mirror } = fixture();
    expect(() => fn.bindTable(mirror, MIRROR_TABLE, 'read', { scan: true, leadingKeys: ['x/*'] })).toThrow(
      /leadingKeys cannot limit/,
    );
    expect(() =>
      fn.bindTable(mirror, MIRROR_TABLE, { queryIndex: 'open-cases' }, { leadingKeys: ['x/*'] }),
    ).toThrow(/leadingKeys cannot limit/);
  });

  it('wants an absolute SSM parameter name', () => {
    const { fn } = fixture();
    expect(() => fn.bindParameter('queuewatch/unit/config', 'CONFIG_PARAMETER')).toThrow(/must start with/);
  });
});
