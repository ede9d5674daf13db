/**
 * registry-guard: what a user of the package calls, and every type those name. Named one by one (no
 * `export *`), so that nothing becomes API that semver must keep by being exported from a module for a
 * neighbour's sake; test/package/public-api.test.ts holds the list.
 */

// Constructs and their props.
export { SensitiveRegistryBucket } from './sensitive-registry-bucket';
export type { RegistryObjectLock, SensitiveRegistryBucketProps } from './sensitive-registry-bucket';
export { PublicAccessGuard } from './public-access-guard';
export type { PublicAccessGuardOptions, PublicAccessGuardProps } from './public-access-guard';
export { GuardMode } from './guard-facts';
export { OrganizationGuardrails } from './organization/organization-guardrails';
export type { OrganizationGuardrailsProps } from './organization/organization-guardrails';
// The types of OrganizationGuardrails' `hubs` and `memberStack`. Values, with their props, since jsii gives
// every class of the assembly a constructor in Python, Java and .NET, which the jsii runtime finds only
// among the package's exports at run time.
export { OrganizationRegionalHub } from './organization/regional-hub';
export type { OrganizationRegionalHubProps } from './organization/regional-hub';
export { GuardMemberStack } from './organization/member-guard-stack';
export type { GuardMemberStackProps } from './organization/member-guard-stack';

// Errors of invalid construct input.
export { Errors, RegistryGuardValidationError } from './errors';
export { SensitiveRegistryBucketPropError } from './registry-bucket-props';

// The cdk-nag pack.
export { RegistryGuardChecks } from '../rules/registry-guard-checks';
export type { RegistryGuardChecksProps } from '../rules/registry-guard-checks';

// The judgement of "public".
export { judgeAccessPoint, judgePolicy } from './exposure/policy';
export type {
  AccessPointAccess,
  AccessPointNetworkOrigin,
  PolicyJudgementOptions,
  PolicyKind,
  PolicyVerdict,
  PublicStatement,
} from './exposure/policy';
export type { TemplateContext } from './exposure/policy-values';
export { judgeAcl } from './exposure/acl';
export type { AclVerdict, PublicGrant, PublicGroup } from './exposure/acl';
export { judgeBlockPublicAccess } from './exposure/block-public-access';
export type { BlockPublicAccessSetting, BlockPublicAccessVerdict } from './exposure/block-public-access';
export { judgeBucketExposure } from './exposure/bucket-exposure';
export type { BucketAccessState, BucketExposure, NeutralisingLevel } from './exposure/bucket-exposure';

// The judgement of access outside a zone of trust (IAM Access Analyzer's question, before deployment).
export { judgeExternalAccess } from './exposure/external-access';
export type {
  ExternalAccessOptions,
  ExternalAccessVerdict,
  ExternalStatement,
  TrustZone,
} from './exposure/external-access';

// Checking templates without a CDK app, and writing a rule of your own for it.
export { checkTemplate, evaluateTemplate } from '../rules/check-template';
export type { CheckTemplateOptions, Finding, RuleEvaluation } from '../rules/check-template';
export type {
  AcceptedAcknowledgement,
  AcknowledgementVerdict,
  RefusalCause,
  RefusedAcknowledgement,
} from '../rules/acknowledgement';
export { REGISTRY_GUARD_RULES } from '../rules/all-rules';
export { RuleLevel } from '../rules/rule';
export type { AppFacts, RegistryGuardRule } from '../rules/rule';
export { TemplateIndex } from '../rules/template-model';
export type { ITemplateIndex, TemplateResource } from '../rules/template-model';
// The same for every jsii language (Python, Java, .NET): no free functions, no readonly arrays.
export { TemplateChecks } from '../rules/template-checks';
export type { TemplateChecksOptions } from '../rules/template-checks';
export type { IAppFacts, IRegistryGuardRule } from '../rules/rule';
