// Which force a construct belongs to. Each of a force's stacks declares its force once, as it is
// built; every function and custom metric inside takes its service name from that, so what a force
// publishes and what its alarms and dashboard watch are its own, even in an account it shares.

import { Lazy, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { serviceName } from '#shared/delivery/names.ts';
import { SERVICE } from '#shared/lambda/observability.ts';

const FORCE_CONTEXT = 'queuewatch:force';

/** Call first thing in a force's stack constructor: context can only be set before any child. */
export function declareForce(stack: Stack, stage: string): void {
  stack.node.setContext(FORCE_CONTEXT, stage);
}

/** The stage of the force whose stack holds `scope`, if that stack declared one. */
export function forceOf(scope: IConstruct): string | undefined {
  const stage: unknown = Stack.of(scope).node.tryGetContext(FORCE_CONTEXT);
  return typeof stage === 'string' ? stage : undefined;
}

/** The service name of the force whose stack holds `scope`; plain `queuewatch` in a stack that
 * declared no force (a construct tested on its own). */
export function serviceOf(scope: IConstruct): string {
  const stage = forceOf(scope);
  return stage === undefined ? SERVICE : serviceName(stage);
}

/** The same, for a value built before its scope is known (a metric): settled where it is written
 * into a template, so a metric shared between stacks would still name each stack's own force. */
export function lazyServiceName(): string {
  return Lazy.uncachedString({ produce: (context) => serviceOf(context.scope) });
}
