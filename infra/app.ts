// The CDK app that cdk.json runs: a stack pair per force. Settings come from context and the
// deployment config; see buildQueuewatchApp for the keys. A config problem ends the synth with the
// list of problems on stderr and a non-zero status, not a stack trace.

import { App } from 'aws-cdk-lib';
import { ConfigError } from '#shared/config/compile.ts';
import { ContextError, DeploymentConfigError } from './deployment.ts';
import { buildQueuewatchApp } from './queuewatch.ts';

try {
  const app = new App();
  for (const force of buildQueuewatchApp(app)) {
    for (const warning of force.warnings) process.stderr.write(`queuewatch: WARNING ${warning}\n`);
  }
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`queuewatch: invalid admin config:\n${error.message.replace(/^/gm, '  ')}\n`);
  } else if (error instanceof DeploymentConfigError || error instanceof ContextError) {
    process.stderr.write(`queuewatch: ${error.message}\n`);
  } else {
    throw error;
  }
  process.exitCode = 1;
}
