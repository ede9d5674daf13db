/**
 * The one judgement of "public", shared by the nag pack, the CLI and the remediation Lambda.
 * Pure functions: no CDK, no AWS SDK, no I/O.
 */
export * from './acl';
export * from './block-public-access';
export * from './bucket-exposure';
export * from './external-access';
export { MIN_IPV4_PREFIX, MIN_IPV6_PREFIX, parseCidr, whyCidrUnbounded } from './ip-ranges';
export type { CidrBlock } from './ip-ranges';
export * from './policy';
export { LIVE_POLICY_CONTEXT } from './policy-values';
export type { TemplateContext } from './policy-values';
