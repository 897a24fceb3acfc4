// The CDK app that cdk.json runs. Settings come from context and the deployment config; see
// buildQueuewatchApp for the keys.

import { App } from 'aws-cdk-lib';
import { buildQueuewatchApp } from './queuewatch.ts';

const app = new App();
buildQueuewatchApp(app);
app.synth();
