/**
 * registry-guard/remediation: the drift-guard Lambda. `handler` is the Lambda entry point; the building
 * blocks below are exported for tests, custom wiring and reuse.
 *
 * Events: AWS Config custom-rule events, EventBridge "AWS API Call via CloudTrail" events for S3, and
 * CloudFormation requests for the `Custom::RegistryGuardAccountBlockPublicAccess` custom resource.
 *
 * Environment (names in `GUARD_ENVIRONMENT` of lib/guard-facts.ts): GUARD_MODE (`remediate` | `report`,
 * default `remediate`; anything else means report), EVIDENCE_BUCKET (evidence, remediation history, the
 * registry ledger, incident claims and pending notices; without it policies and ACLs are never rewritten,
 * loops are not detected and removed registry tags are not noticed), NOTIFY_TOPIC_ARN (on-call SNS topic),
 * MAX_EXEMPTION_DAYS (default 90), RELEASED_REGISTRY_BUCKETS, INCIDENT_WINDOW_SECONDS (default 900).
 */
import { defaultDeps } from './clients';
import { createHandler, GuardHandler } from './handler';
import { GuardResult } from './report/run-report';
import { InvocationContext } from './run-context';

export * from './errors';
export * from './settings';
export * from './events';
export * from './run-context';
export * from './read/bucket-state';
export * from './read/bucket-list';
export * from './read/account-state';
export * from './read/registry-ledger';
export * from './read/sweep-cursor';
export * from './decide/exemption';
export * from './decide/decision';
export * from './decide/rewrite';
export * from './decide/incident';
export * from './act/evidence';
export * from './act/actions';
export * from './act/incident-claim';
export * from './act/remediate';
export * from './act/rewrite-grants';
export * from './act/close-unreadable';
export * from './act/guard-account';
export * from './report/outcome';
export * from './report/evaluations';
export * from './report/notice';
export * from './report/pending-notices';
export * from './report/run-report';
export * from './guard-bucket';
export * from './answer/cloudformation-response';
export * from './answer/guard-account-deployment';
export * from './concurrency';
export { SWEEP_TIME_RESERVE_MS } from './triggers/config-sweep';
export { CLIENT_RETRY_SETTINGS, defaultDeps } from './clients';
export { createHandler, DEFAULT_SWEEP_CONCURRENCY } from './handler';
export type { GuardDependencies, GuardHandler } from './handler';

let containerHandler: GuardHandler | undefined;

/**
 * The Lambda entry point: `createHandler(defaultDeps())`, built on the first invocation and kept for the
 * container's life, so importing this module creates no clients.
 *
 * @example
 * // CDK: new lambda.NodejsFunction(this, 'Guard', { entry: require.resolve('registry-guard/remediation'), handler: 'handler' })
 */
export const handler = (event: unknown, context?: InvocationContext): Promise<GuardResult> => {
  containerHandler ??= createHandler(defaultDeps());
  return containerHandler(event, context);
};
