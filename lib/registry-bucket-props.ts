/**
 * What SensitiveRegistryBucket refuses, and why: the props that would weaken a registry bucket, the props it
 * does not have, and the checks of the props it does. Kept apart from the construct, which reads as what
 * it builds.
 */
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RegistryGuardValidationError } from './errors';
import { judgeBlockPublicAccess, judgeCannedAcl } from './exposure';
import type { RegistryObjectLock, SensitiveRegistryBucketProps } from './sensitive-registry-bucket';
// A value import back into the construct's module, used only when a replication destination is checked
// (long after both modules have loaded): the destination must really be a SensitiveRegistryBucket.
import { SensitiveRegistryBucket } from './sensitive-registry-bucket';

/**
 * A prop was refused because it would weaken the registry bucket, or is not a prop at all. `prop` names it.
 * A {@link RegistryGuardValidationError}, so `Errors.isValidationError` recognises it.
 *
 * @example
 * try {
 *   new SensitiveRegistryBucket(stack, 'Roll', untrustedProps);
 * } catch (error) {
 *   if (Errors.isValidationError(error)) console.error(error.constructPath, error.message);
 *   if (error instanceof SensitiveRegistryBucketPropError) console.error(error.prop);
 * }
 *
 * @jsii ignore TypeScript only: jsii classes cannot extend Error
 */
export class SensitiveRegistryBucketPropError extends RegistryGuardValidationError {
  constructor(
    registry: Construct,
    /** The refused prop, as the caller spelt it. */
    readonly prop: string,
    problem: string,
  ) {
    super('SensitiveRegistryBucket', registry, problem);
    this.name = 'SensitiveRegistryBucketPropError';
  }
}

const SUPPORTED_PROPS: ReadonlySet<string> = new Set<keyof SensitiveRegistryBucketProps>([
  'bucketName',
  'encryptionKey',
  'objectLock',
  'accessLogsBucket',
  'accessLogsPrefix',
  'allowedOrganizationId',
  'allowedVpcEndpointIds',
  'trustedAccountIds',
  'abortIncompleteMultipartUploadAfter',
  'noncurrentVersionExpiration',
  'replicationDestination',
  'cors',
]);

/** Why a value is refused, and what to do instead. */
interface Refusal {
  readonly why: string;
  readonly instead: string;
}

const WEBSITE_HOSTING: Refusal = {
  why: 'website hosting serves objects publicly, over plain HTTP',
  instead: 'never serve the registry; publish what may be public from a separate bucket',
};

/**
 * `s3.BucketProps` that a JavaScript caller or a `{ ...bucketProps }` spread could pass: each is accepted only
 * with a value that changes nothing the construct enforces, and otherwise refused.
 */
const WEAKENING_PROPS: Readonly<Record<string, Refusal & { readonly safe: (value: unknown) => boolean }>> = {
  publicReadAccess: {
    safe: (value) => !value,
    why: 'it grants s3:GetObject on every object to anyone on the internet',
    instead: 'grant named principals access with grantRead()',
  },
  websiteIndexDocument: { safe: () => false, ...WEBSITE_HOSTING },
  websiteErrorDocument: { safe: () => false, ...WEBSITE_HOSTING },
  websiteRedirect: { safe: () => false, ...WEBSITE_HOSTING },
  websiteRoutingRules: { safe: () => false, ...WEBSITE_HOSTING },
  accessControl: {
    safe: () => false,
    why: 'ACLs are disabled (object ownership BucketOwnerEnforced), and a canned ACL can make the bucket public',
    instead: 'remove it and grant access with grantRead(), grantWrite() or grantReadWrite()',
  },
  blockPublicAccess: {
    safe: isBlockAll,
    why: 'all four Block Public Access settings stay on, or a policy or ACL could make the registry public',
    instead: 'remove it: the bucket always uses BlockPublicAccess.BLOCK_ALL',
  },
  objectOwnership: {
    safe: (value) => value === s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    why: 'any other object ownership re-enables ACLs, through which a writer can make an object public',
    instead: 'remove it: the bucket always uses BUCKET_OWNER_ENFORCED',
  },
  encryption: {
    safe: (value) => value === s3.BucketEncryption.KMS,
    why: 'the registry is encrypted with SSE-KMS under a customer-managed key, which you can scope and revoke',
    instead: 'remove it, and pass encryptionKey to choose the key',
  },
  enforceSSL: {
    safe: (value) => value === true,
    why: 'it would allow requests over plain HTTP',
    instead: 'remove it: the bucket policy always denies requests without TLS',
  },
  minimumTLSVersion: {
    safe: (value) => typeof value === 'number' && value >= 1.2,
    why: 'TLS versions below 1.2 have known weaknesses',
    instead: 'remove it: the bucket policy always denies TLS below 1.2',
  },
  versioned: {
    safe: (value) => value === true,
    why: 'without versioning an overwrite or delete destroys the record for good',
    instead: 'remove it, and set noncurrentVersionExpiration to bound what old versions cost',
  },
  autoDeleteObjects: {
    safe: (value) => !value,
    why: 'it would empty the registry when its stack is deleted',
    instead: 'remove it, and empty the bucket by hand under your retention rules',
  },
  removalPolicy: {
    safe: (value) => value === RemovalPolicy.RETAIN,
    why: 'deleting or replacing the stack must never delete the registry or its key',
    instead:
      'remove it (the bucket and key are always retained), and delete them by hand when the law allows',
  },
};

/** `s3.BucketProps` whose job a differently named SensitiveRegistryBucket prop does. */
const PROPS_WITH_ANOTHER_NAME: Readonly<Record<string, string>> = {
  serverAccessLogsBucket: 'accessLogsBucket, which is verified to be locked down',
  serverAccessLogsPrefix: 'accessLogsPrefix',
  objectLockEnabled: 'objectLock',
  objectLockDefaultRetention: 'objectLock',
  replicationRules: 'replicationDestination',
  lifecycleRules: 'abortIncompleteMultipartUploadAfter and noncurrentVersionExpiration',
};

/** S3 actions of a grant, by the resource they apply to. */

const MAX_OBJECT_LOCK_DAYS = 365 * 100;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]+$/;
const ACCOUNT_ID = /^[0-9]{12}$/;

function refuse(scope: Construct, prop: string, refusal: Refusal): never {
  throw new SensitiveRegistryBucketPropError(
    scope,
    prop,
    `${prop} is refused: ${refusal.why}. Instead, ${refusal.instead}.`,
  );
}

/**
 * Refuses props that would weaken a registry bucket, and props that are not props at all, with
 * {@link SensitiveRegistryBucketPropError} naming the prop and what to do instead.
 *
 * @example
 * validateProps(this, props); // in the SensitiveRegistryBucket constructor
 */
export function validateProps(scope: Construct, props: SensitiveRegistryBucketProps): void {
  for (const [prop, value] of Object.entries(props as Record<string, unknown>)) {
    if (value === undefined || SUPPORTED_PROPS.has(prop)) continue;
    const weakening = WEAKENING_PROPS[prop];
    if (weakening !== undefined) {
      if (!weakening.safe(value)) refuse(scope, prop, weakening);
      continue;
    }
    refuse(scope, prop, {
      why: 'it is not a SensitiveRegistryBucket prop, and an ignored prop would silently fall back to a default',
      instead:
        prop in PROPS_WITH_ANOTHER_NAME
          ? `use ${PROPS_WITH_ANOTHER_NAME[prop]}`
          : `check the spelling against the supported props: ${[...SUPPORTED_PROPS].join(', ')}`,
    });
  }
  validateEncryptionKey(scope, props.encryptionKey);
  validateObjectLock(scope, props.objectLock);
  validateLifecycle(scope, props);
  validateAccessLogsBucket(scope, props.accessLogsBucket);
  validatePerimeter(scope, props);
  validateReplication(scope, props.replicationDestination, props.objectLock);
  validateCors(scope, props.cors);
}

function isBlockAll(value: unknown): boolean {
  if (!(value instanceof s3.BlockPublicAccess)) return false;
  return (
    value.blockPublicAcls === true &&
    value.ignorePublicAcls === true &&
    value.blockPublicPolicy === true &&
    value.restrictPublicBuckets === true
  );
}

function validateEncryptionKey(scope: Construct, key: kms.IKey | undefined): void {
  if (key === undefined) return;
  const aliasName = (key as Partial<kms.IAlias>).aliasName;
  const keyArn = JSON.stringify(Stack.of(scope).resolve(key.keyArn));
  if (
    (typeof aliasName === 'string' && aliasName.startsWith('alias/aws/')) ||
    keyArn.includes('alias/aws/')
  ) {
    refuse(scope, 'encryptionKey', {
      why: 'AWS-managed keys (alias/aws/...) cannot be scoped, audited or revoked by you',
      instead: 'pass a customer-managed kms.Key, or omit encryptionKey to have one created',
    });
  }
}

function validateObjectLock(scope: Construct, objectLock: RegistryObjectLock | undefined): void {
  if (objectLock === undefined) return;
  if (objectLock.mode !== 'GOVERNANCE' && objectLock.mode !== 'COMPLIANCE') {
    refuse(scope, 'objectLock', {
      why: `mode '${String(objectLock.mode)}' does not exist`,
      instead: "use mode 'GOVERNANCE' or 'COMPLIANCE'",
    });
  }
  const problem = wholeDaysProblem(objectLock.retention, MAX_OBJECT_LOCK_DAYS);
  if (problem !== undefined) {
    refuse(scope, 'objectLock', {
      why: `retention ${problem}`,
      instead: 'give a retention of whole days, at least Duration.days(1)',
    });
  }
}

function validateLifecycle(scope: Construct, props: SensitiveRegistryBucketProps): void {
  for (const prop of ['abortIncompleteMultipartUploadAfter', 'noncurrentVersionExpiration'] as const) {
    const problem = wholeDaysProblem(props[prop]);
    if (problem !== undefined) {
      refuse(scope, prop, {
        why: `S3 lifecycle rules count in whole days, and ${problem}`,
        instead: 'give whole days, at least Duration.days(1)',
      });
    }
  }
}

/** Why a duration is not a whole number of days within [1, maxDays], or undefined when it is (or is a token). */
function wholeDaysProblem(duration: Duration | undefined, maxDays?: number): string | undefined {
  if (duration === undefined || duration.isUnresolved()) return undefined;
  const days = duration.toDays({ integral: false });
  if (days < 1) return `${duration.toHumanString()} is under one day`;
  if (!Number.isInteger(days)) return `${duration.toHumanString()} is not a whole number of days`;
  if (maxDays !== undefined && days > maxDays) return `${duration.toHumanString()} is over ${maxDays} days`;
  return undefined;
}

function validateAccessLogsBucket(scope: Construct, logs: s3.IBucket | undefined): void {
  if (logs === undefined) return;
  if (!(logs instanceof s3.Bucket)) {
    refuse(scope, 'accessLogsBucket', {
      why: 'an imported bucket cannot be verified to be locked down',
      instead: 'pass an s3.Bucket defined in this app, or omit accessLogsBucket to have one created',
    });
  }
  const [problem] = logBucketProblems(scope, logs);
  if (problem !== undefined) {
    refuse(scope, 'accessLogsBucket', {
      why: problem,
      instead: 'lock the log bucket down, or omit accessLogsBucket to have one created',
    });
  }
}

/** What keeps a log bucket from being verifiably locked down, or from receiving S3 server access logs. */
/**
 * Why a server-access-log bucket in the same app cannot take the registry's logs (checked at synth, once
 * the log bucket's own settings are final).
 */
export function logBucketProblems(registry: Construct, logs: s3.Bucket): string[] {
  const logsStack = Stack.of(logs);
  const cfn = logs.node.defaultChild as s3.CfnBucket;
  const problems: string[] = [];
  const offSettings = judgeBlockPublicAccess(
    logsStack.resolve(cfn.publicAccessBlockConfiguration),
  ).settingsOff;
  if (offSettings.length > 0) {
    problems.push(
      `the log bucket must have all four Block Public Access settings on (off: ${offSettings.join(', ')})`,
    );
  }
  if (cfn.websiteConfiguration !== undefined) problems.push('the log bucket hosts a website');
  const accessControl = logsStack.resolve(cfn.accessControl);
  if (accessControl !== undefined && typeof accessControl !== 'string') {
    problems.push('the log bucket has an ACL that cannot be verified before deployment');
  } else if (typeof accessControl === 'string' && judgeCannedAcl(accessControl).isPublic) {
    problems.push(`the log bucket has the public ACL ${accessControl}`);
  }
  if (JSON.stringify(logsStack.resolve(cfn.bucketEncryption) ?? {}).includes('aws:kms')) {
    problems.push('S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS; use SSE-S3');
  }
  if (cfn.objectLockEnabled !== undefined && logsStack.resolve(cfn.objectLockEnabled) !== false) {
    problems.push('S3 server access logging cannot deliver to a bucket with Object Lock');
  }
  const registryStack = Stack.of(registry);
  if (
    differsWhenResolved(registryStack.account, logsStack.account) ||
    differsWhenResolved(registryStack.region, logsStack.region)
  ) {
    problems.push('S3 delivers server access logs only to a bucket in the same account and Region');
  }
  return problems;
}

function differsWhenResolved(left: string, right: string): boolean {
  return !Token.isUnresolved(left) && !Token.isUnresolved(right) && left !== right;
}

function validatePerimeter(scope: Construct, props: SensitiveRegistryBucketProps): void {
  const organizationId = props.allowedOrganizationId;
  if (
    organizationId !== undefined &&
    !Token.isUnresolved(organizationId) &&
    !ORGANIZATION_ID.test(organizationId)
  ) {
    refuse(scope, 'allowedOrganizationId', {
      why: `'${organizationId}' is not an AWS Organization id`,
      instead: 'pass the id AWS Organizations shows, o- followed by 10 to 32 lowercase letters or digits',
    });
  }
  validateTrustedAccounts(scope, props.trustedAccountIds);
  const endpoints = props.allowedVpcEndpointIds;
  if (endpoints === undefined || Token.isUnresolved(endpoints)) return;
  if (endpoints.length === 0) {
    refuse(scope, 'allowedVpcEndpointIds', {
      why: 'an empty list would deny every request',
      instead: 'list at least one endpoint, or omit allowedVpcEndpointIds',
    });
  }
  for (const endpoint of endpoints) {
    if (!Token.isUnresolved(endpoint) && !VPC_ENDPOINT_ID.test(endpoint)) {
      refuse(scope, 'allowedVpcEndpointIds', {
        why: `'${endpoint}' is not a VPC endpoint id`,
        instead: 'pass endpoint ids such as vpce-0a1b2c3d4e5f60718 (a gateway or interface endpoint for S3)',
      });
    }
  }
}

/**
 * The pack and the CLI read trusted accounts from the template: a token would reach it as an expression
 * neither can read, and the account would silently not be trusted.
 */
function validateTrustedAccounts(scope: Construct, accountIds: string[] | undefined): void {
  if (accountIds === undefined) return;
  if (Token.isUnresolved(accountIds) || accountIds.some((account) => Token.isUnresolved(account))) {
    refuse(scope, 'trustedAccountIds', {
      why: 'a value resolved at deploy time cannot be read by RegistryGuard-S3RegistryExternalAccess, which checks the template',
      instead: 'list the 12-digit account ids literally',
    });
  }
  for (const account of accountIds) {
    if (!ACCOUNT_ID.test(account)) {
      refuse(scope, 'trustedAccountIds', {
        why: `'${account}' is not an AWS account id`,
        instead: 'list 12-digit account ids such as 111122223333',
      });
    }
  }
}

function validateReplication(
  scope: Construct,
  destination: SensitiveRegistryBucket | undefined,
  objectLock: RegistryObjectLock | undefined,
): void {
  if (destination === undefined) return;
  if (!(destination instanceof SensitiveRegistryBucket)) {
    refuse(scope, 'replicationDestination', {
      why: 'the replica must be as protected as the original',
      instead: 'pass another SensitiveRegistryBucket',
    });
  }
  if (differsWhenResolved(Stack.of(scope).account, Stack.of(destination).account)) {
    refuse(scope, 'replicationDestination', {
      why: 'replication to another account is not supported: its bucket and key policies are not managed here',
      instead: 'replicate to a SensitiveRegistryBucket in the same account',
    });
  }
  if (differsWhenResolved(Stack.of(scope).region, Stack.of(destination).region)) {
    refuse(scope, 'replicationDestination', {
      why: "a replica in another Region is in another stack, and the replication rule must name that stack's bucket and key, which CDK cannot pass between Regions (a KMS key has no name to generate)",
      instead:
        'replicate to a SensitiveRegistryBucket in the same stack or Region, or configure cross-Region replication on the deployed buckets with the replica key ARN',
    });
  }
  const destinationLock = (destination.bucket.node.defaultChild as s3.CfnBucket).objectLockEnabled;
  if (objectLock !== undefined && destinationLock !== true) {
    refuse(scope, 'replicationDestination', {
      why: 'S3 replicates objects from an Object Lock bucket only to a bucket that also has Object Lock',
      instead: 'give the destination SensitiveRegistryBucket an objectLock too',
    });
  }
}

function validateCors(scope: Construct, cors: s3.CorsRule[] | undefined): void {
  for (const rule of cors ?? []) {
    if (rule.allowedOrigins.includes('*')) {
      refuse(scope, 'cors', {
        why: 'AllowedOrigins "*" lets any web page use the registry from a visitor\'s browser',
        instead: 'list the exact origins of your applications',
      });
    }
  }
}
