// An EventBridge Scheduler target that invokes one Lambda function with a fixed input, through a
// role that may invoke exactly that function (the stock LambdaInvoke target also grants every
// version and alias, `ARN:*`), assumable only by this account's schedules.

import { type Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type {
  ISchedule,
  IScheduleTarget,
  ScheduleTargetConfig,
  ScheduleTargetInput,
} from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';

export class ScheduledInvoke implements IScheduleTarget {
  private readonly role: Role;

  constructor(
    scope: Construct,
    id: string,
    private readonly fn: IFunction,
    private readonly options: { input: ScheduleTargetInput; maxEventAge: Duration },
  ) {
    const stack = Stack.of(scope);
    this.role = new Role(scope, id, {
      description: `Lets this account's schedules invoke ${fn.node.id} and nothing else`,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule',
              resourceName: '*',
            }),
          },
        },
      }),
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
    );
  }

  bind(_schedule: ISchedule): ScheduleTargetConfig {
    return {
      arn: this.fn.functionArn,
      role: this.role,
      input: this.options.input,
      // A missed run is covered by the next one: no retries, never two runs at once.
      retryPolicy: {
        maximumRetryAttempts: 0,
        maximumEventAgeInSeconds: this.options.maxEventAge.toSeconds(),
      },
    };
  }
}
