/**
 * The Lambda entry point, in a module of its own so that the shipped bundle (dist/handler/index.js, built from
 * this file) evaluates nothing but this at require time: the handler's modules and the AWS SDK are loaded by
 * the first invocation, and each client only when an event first needs it (see clients.ts).
 */
import type { GuardHandler } from './handler';
import type { GuardResult } from './report/run-report';
import type { InvocationContext } from './run-context';

let containerHandler: GuardHandler | undefined;

/**
 * The Lambda entry point: `createHandler(defaultDeps())`, built on the first invocation and kept for the
 * container's life, so importing this module creates no clients.
 *
 * @example
 * // CDK: new lambda.NodejsFunction(this, 'Guard', { entry: require.resolve('registry-guard/remediation'), handler: 'handler' })
 */
export const handler = (event: unknown, context?: InvocationContext): Promise<GuardResult> => {
  containerHandler ??= containerHandlerOnFirstUse();
  return containerHandler(event, context);
};

function containerHandlerOnFirstUse(): GuardHandler {
  // require, not import: esbuild evaluates a bundled module when its require runs, so a cold start does not
  // pay for the handler and the SDK before Lambda hands it an event.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { defaultDeps } = require('./clients') as typeof import('./clients');
  const { createHandler } = require('./handler') as typeof import('./handler');
  /* eslint-enable @typescript-eslint/no-require-imports */
  return createHandler(defaultDeps());
}
