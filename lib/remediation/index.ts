/**
 * registry-guard/remediation: the drift-guard Lambda. `handler` is the Lambda entry point; the building
 * blocks below are exported for tests, custom wiring and reuse.
 *
 * Events: AWS Config custom-rule events, EventBridge "AWS API Call via CloudTrail" events for S3, and
 * CloudFormation requests for the `Custom::RegistryGuardAccountBlockPublicAccess` custom resource.
 *
 * Environment: GUARD_MODE (`remediate` | `report`, default `remediate`; anything else means report),
 * EVIDENCE_BUCKET (evidence objects and remediation history; without it policies and ACLs are never
 * rewritten and loops are not detected), NOTIFY_TOPIC_ARN (on-call SNS topic).
 */
import { defaultDeps } from './clients';
import { createHandler, GuardHandler, GuardResult } from './handler';

export * from './errors';
export * from './settings';
export * from './events';
export * from './bucket-state';
export * from './bucket-list';
export * from './account-state';
export * from './exemption';
export * from './decision';
export * from './rewrite';
export * from './evidence';
export * from './actions';
export * from './remediate';
export * from './outcome';
export * from './evaluations';
export * from './notice';
export * from './guard-bucket';
export * from './guard-account';
export * from './cloudformation-response';
export * from './guard-account-deployment';
export * from './concurrency';
export { CLIENT_RETRY_SETTINGS, defaultDeps } from './clients';
export { createHandler, DEFAULT_SWEEP_CONCURRENCY } from './handler';
export type { GuardDependencies, GuardHandler, GuardLogger, GuardResult } from './handler';

let containerHandler: GuardHandler | undefined;

/**
 * The Lambda entry point: `createHandler(defaultDeps())`, built on the first invocation and kept for the
 * container's life, so importing this module creates no clients.
 *
 * @example
 * // CDK: new lambda.NodejsFunction(this, 'Guard', { entry: require.resolve('registry-guard/remediation'), handler: 'handler' })
 */
export const handler = (event: unknown): Promise<GuardResult> => {
  containerHandler ??= createHandler(defaultDeps());
  return containerHandler(event);
};
