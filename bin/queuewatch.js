#!/usr/bin/env node
// The `queuewatch` command: runs the CLI compiled into dist/cli (npm ci builds it; so does
// `npm run build`), on plain node, so that it starts in a fraction of a second.

// The AWS SDK's notice about Node 20 support is for us, not for admins running the CLI.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Stack traces point into the TypeScript sources, but only when asked for: source maps cost start-up.
if (process.env.QUEUEWATCH_DEBUG) process.setSourceMapsEnabled(true);

let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js'))
    throw error;
  process.stderr.write(
    'queuewatch: the CLI is not built (no dist/cli/main.js): run `npm run build` (npm ci does it too), then try again\n',
  );
  process.exit(70);
}
process.exitCode = await cli.run(process.argv.slice(2));
