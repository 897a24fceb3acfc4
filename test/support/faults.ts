// Fault injection for the integration tests: SDK middleware on real clients (against dynalite and
// moto_server) that fails, delays or throttles chosen calls, or "kills" the process at a chosen
// call (that call and every later one never return, as if the Lambda container died there).

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';

/** What a call is to: the scan's dependencies, as the fault table names them. */
export type Target = 'mirror' | 'ledger' | 'audit' | 'state' | 'publish' | 'ops' | 'ssm';

export interface KillPoint {
  target: Target;
  /** Only calls of this SDK command count (e.g. 'PutItemCommand'); any when absent. */
  command?: string;
  /** The call that never returns: 1 for the first. */
  nth: number;
}

export interface FaultPlan {
  /** Every call to these fails (after the SDK's own retries). */
  fail?: readonly Target[];
  /** Every call to these waits this long first. */
  delayMs?: Partial<Record<Target, number>>;
  /** Every nth call to these fails once with a throttling error (a retry goes through). */
  throttleEvery?: Partial<Record<Target, number>>;
  kill?: KillPoint;
}

type Classify = (command: string, input: Record<string, unknown>) => Target | undefined;

const failure = (name: string, status: number) =>
  Object.assign(new Error(`injected ${name}`), { name, $metadata: { httpStatusCode: status } });

export class FaultInjector {
  plan: FaultPlan = {};
  /** Calls seen per target (and per target and command), since the last heal. */
  readonly calls = new Map<string, number>();
  killed = false;
  private onKilled: (() => void) | undefined;
  readonly whenKilled = new Promise<void>((resolve) => {
    this.onKilled = resolve;
  });

  /** Stops injecting (a new container after a crash, or the outage over). */
  heal(): void {
    this.plan = {};
    this.killed = false;
    this.calls.clear();
  }

  private count(key: string): number {
    const n = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, n);
    return n;
  }

  /** Calls already throttled once: their retry goes through (the input object is the same). */
  private readonly throttled = new WeakSet<object>();

  private async before(target: Target, command: string, input: object): Promise<void> {
    if (this.killed) return new Promise<void>(() => {});
    const nth = this.count(target);
    const nthOfCommand = this.count(`${target}:${command}`);
    const kill = this.plan.kill;
    if (
      kill &&
      kill.target === target &&
      (kill.command ? kill.command === command && nthOfCommand === kill.nth : nth === kill.nth)
    ) {
      this.killed = true;
      this.onKilled?.();
      return new Promise<void>(() => {});
    }
    const delay = this.plan.delayMs?.[target];
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (this.plan.fail?.includes(target)) throw failure('ServiceUnavailable', 503);
    const every = this.plan.throttleEvery?.[target];
    if (every && nth % every === 0 && !this.throttled.has(input)) {
      this.throttled.add(input);
      throw failure('ThrottlingException', 400);
    }
  }

  private attach(client: { middlewareStack: { add: (...args: never[]) => void } }, classify: Classify): void {
    const middleware =
      (
        next: (args: { input: Record<string, unknown> }) => Promise<unknown>,
        context: { commandName?: string },
      ) =>
      async (args: { input: Record<string, unknown> }) => {
        const command = context.commandName ?? '';
        const target = classify(command, args.input);
        // A call already past this point when the kill comes completes, as a request in flight may.
        if (target) await this.before(target, command, args.input);
        return next(args);
      };
    // Inside the SDK's retry step, so each attempt meets the fault (a throttle is retried).
    (client.middlewareStack.add as (m: unknown, o: unknown) => void)(middleware, {
      step: 'finalizeRequest',
      priority: 'low',
      name: 'faultInjection',
    });
  }

  /** DynamoDB calls, told apart by the table they touch. */
  attachDynamo(
    client: DynamoDBClient,
    tables: Record<'mirror' | 'ledger' | 'audit' | 'state', string>,
  ): void {
    const byName = new Map<string, Target>(Object.entries(tables).map(([id, name]) => [name, id as Target]));
    this.attach(client as never, (_command, input) => {
      const name =
        typeof input.TableName === 'string'
          ? input.TableName
          : Object.keys((input.RequestItems as Record<string, unknown> | undefined) ?? {})[0];
      return name ? byName.get(name) : undefined;
    });
  }

  /** SNS calls: the alert topic is `publish`, the ops topic `ops`. */
  attachSns(client: SNSClient, alertTopicArn: string): void {
    this.attach(client as never, (command, input) =>
      command === 'PublishCommand' ? (input.TopicArn === alertTopicArn ? 'publish' : 'ops') : undefined,
    );
  }

  attachSsm(client: SSMClient): void {
    this.attach(client as never, () => 'ssm');
  }
}
