/**
 * registry-guard/remediation: the drift-guard Lambda. `handler` is the Lambda entry point; `createHandler`
 * builds one around clients of your own; `parseGuardEvent` and `policyWithoutPublicStatements` are the two
 * building blocks worth calling alone. Everything else in this folder is the handler's inside: import it by
 * path in tests, never from here, so it can change without a new major version.
 *
 * Events: AWS Config custom-rule events, EventBridge "AWS API Call via CloudTrail" events for S3, and
 * CloudFormation requests for the `Custom::RegistryGuardAccountBlockPublicAccess` custom resource.
 *
 * Environment (names in `GUARD_ENVIRONMENT` of lib/guard-facts.ts): GUARD_MODE (`remediate` | `report`,
 * default `remediate`; anything else means report), EVIDENCE_BUCKET (evidence, remediation history, the
 * registry ledger, incident claims and pending notices; without it policies and ACLs are never rewritten,
 * loops are not detected and removed registry tags are not noticed), NOTIFY_TOPIC_ARN (on-call SNS topic),
 * MAX_EXEMPTION_DAYS (default 90), RELEASED_REGISTRY_BUCKETS, INCIDENT_WINDOW_SECONDS (default 900),
 * SWEEP_QUEUE_URL (the sweep queue a periodic sweep fans out through; the function also consumes it),
 * GUARD_TRUSTED_ORGANIZATION_ID and GUARD_TRUSTED_ACCOUNT_IDS (a registry's zone of trust besides the account),
 * SECURITY_HUB_FINDINGS (`true`: remediations, failed remediations and unverifiable buckets become Security
 * Hub findings).
 */
export { handler } from './entry';
export { createHandler } from './handler';
export type { GuardDependencies, GuardHandler } from './handler';
export type { SweepTuning } from './sweep/fan-out';
export type { GuardLogger, InvocationContext } from './run-context';
export type { GuardEnvironment } from './settings';
export { GuardMode } from '../guard-facts';
export type {
  AccessPointEventName,
  AccountEventName,
  BucketEventName,
  MultiRegionAccessPointEventName,
  ObjectAclEventName,
} from '../guard-facts';

// What one invocation did: GuardResult and every type it names.
export type { GuardResult } from './report/run-report';
export type { SecurityHubDelivery } from './report/security-hub';
export type { BucketOutcome, WayIn } from './report/outcome';
export type { ComplianceVerdict } from './decide/decision';
export type { IncidentClaim } from './act/incident-claim';
export type { RemediationOutcome } from './act/remediate';
export type { ActionKind, ActionRecord, ActionStatus } from './act/actions';
export type { EvidenceRef } from './act/evidence';
export type { AccountOutcome } from './act/guard-account';
export type { AccountNoticeInput } from './report/notice';
export type { AccountBlockPublicAccessReading } from './read/account-state';
export type { CloudFormationRequestIds, CloudFormationResponse } from './answer/cloudformation-response';

export {
  DeliveryError,
  InvalidCustomResourceRequestError,
  InvalidEventError,
  StillPublicError,
} from './errors';
export type { RejectedCustomResourceRequest } from './errors';

export { parseGuardEvent } from './events';
export type {
  AccessPointApiCallEvent,
  AccountApiCallEvent,
  AccountBlockPublicAccessRequestEvent,
  ApiCallEventFields,
  BucketApiCallEvent,
  ConfigChangeEvent,
  ConfigRuleEventFields,
  ConfigScheduledEvent,
  CustomResourceRequestType,
  GuardEvent,
  MultiRegionAccessPointApiCallEvent,
  ObjectAclApiCallEvent,
  ParseOptions,
} from './events';

export { policyWithoutPublicStatements } from './decide/rewrite';
export type { PolicyRewrite } from './decide/rewrite';
export type { PublicStatement } from '../exposure/policy';
