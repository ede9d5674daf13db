/**
 * SensitiveRegistryBucket: an S3 bucket for a sensitive registry (a voter roll, a health or civil
 * registry), locked down by default and refusing the props that would weaken it.
 */
import { Duration, RemovalPolicy, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE } from './classification';
import { judgeBlockPublicAccess, judgeCannedAcl } from './exposure';

/** Object Lock for registries that must be immutable. */
export interface RegistryObjectLock {
  /**
   * `GOVERNANCE`: users with `s3:BypassGovernanceRetention` can still delete a locked version.
   * `COMPLIANCE`: nobody can, the root user included, until the retention ends.
   */
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** How long each new object version is locked. At least one day. */
  readonly retention: Duration;
}

/** Properties of a {@link SensitiveRegistryBucket}. Every one is optional: the defaults are the safe choice. */
export interface SensitiveRegistryBucketProps {
  /**
   * Physical bucket name.
   * @default a name CloudFormation generates
   */
  readonly bucketName?: string;

  /**
   * The customer-managed KMS key that encrypts the registry. AWS-managed keys (`alias/aws/s3`) are refused:
   * you cannot scope, audit or revoke them.
   * @default a new key with automatic rotation on, retained when the stack is deleted
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Object Lock, for registries that must be immutable. Only settable when the bucket is created.
   * @default no Object Lock (versioning still keeps every overwritten or deleted version)
   */
  readonly objectLock?: RegistryObjectLock;

  /**
   * Where server access logs go. Must be an `s3.Bucket` defined in this app with all four Block Public
   * Access settings on, no website hosting, no public ACL, and SSE-S3 encryption (S3 log delivery cannot
   * write to an SSE-KMS bucket). Imported buckets are refused: their settings cannot be verified.
   * @default a dedicated log bucket, as locked down as the registry except for SSE-S3 encryption
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Prefix of the access log objects.
   * @default 'registry-access-logs/'
   */
  readonly accessLogsPrefix?: string;

  /**
   * Data perimeter: deny every request from principals outside this AWS Organization (`aws:PrincipalOrgID`).
   * AWS service principals acting on their own behalf are let through.
   * @default no organization perimeter
   */
  readonly allowedOrganizationId?: string;

  /**
   * Network perimeter: deny every request that does not arrive through one of these VPC endpoints
   * (`aws:SourceVpce`). AWS service principals are let through. This also blocks the console and any
   * deployment role outside the VPC: plan access before turning it on.
   * @default no network perimeter
   */
  readonly allowedVpcEndpointIds?: string[];

  /**
   * Incomplete multipart uploads are aborted after this long, so abandoned parts do not linger.
   * @default Duration.days(7)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;

  /**
   * Noncurrent (overwritten or deleted) versions expire after this long.
   * @default noncurrent versions are kept forever
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * Replicate every object to another registry bucket in the same account. The destination must itself be a
   * `SensitiveRegistryBucket`, so the copy is as protected as the original.
   * @default no replication
   */
  readonly replicationDestination?: SensitiveRegistryBucket;

  /**
   * CORS rules, for browser applications that read the registry directly. `AllowedOrigins` `*` is refused.
   * @default no CORS
   */
  readonly cors?: s3.CorsRule[];
}

/** A prop was refused because it would weaken the registry bucket. `prop` names it. */
export class SensitiveRegistryBucketPropError extends Error {
  constructor(
    readonly prop: string,
    message: string,
  ) {
    super(message);
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
  'abortIncompleteMultipartUploadAfter',
  'noncurrentVersionExpiration',
  'replicationDestination',
  'cors',
]);

/**
 * `s3.BucketProps` that a JavaScript caller or a `{ ...bucketProps }` spread could pass: each is accepted only
 * with the value the construct already enforces, and otherwise refused with the reason.
 */
const WEAKENING_PROPS: Readonly<
  Record<string, { readonly safe: (value: unknown) => boolean; readonly why: string }>
> = {
  publicReadAccess: { safe: (value) => value === false, why: 'would grant s3:GetObject to everyone' },
  websiteIndexDocument: { safe: () => false, why: 'website hosting serves objects anonymously over HTTP' },
  websiteErrorDocument: { safe: () => false, why: 'website hosting serves objects anonymously over HTTP' },
  websiteRedirect: { safe: () => false, why: 'website hosting serves objects anonymously over HTTP' },
  websiteRoutingRules: { safe: () => false, why: 'website hosting serves objects anonymously over HTTP' },
  accessControl: {
    safe: () => false,
    why: 'ACLs are disabled (object ownership BucketOwnerEnforced); grant access with grantRead/grantWrite',
  },
  blockPublicAccess: {
    safe: (value) => value === s3.BlockPublicAccess.BLOCK_ALL,
    why: 'all four Block Public Access settings stay on',
  },
  objectOwnership: {
    safe: (value) => value === s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    why: 'would re-enable ACLs, through which any writer can make an object public',
  },
  encryption: {
    safe: (value) => value === s3.BucketEncryption.KMS,
    why: 'the registry is encrypted with a customer-managed KMS key; pass encryptionKey to choose it',
  },
  enforceSSL: { safe: (value) => value === true, why: 'would allow plain-HTTP requests' },
  minimumTLSVersion: {
    safe: (value) => typeof value === 'number' && value >= 1.2,
    why: 'TLS below 1.2 is refused',
  },
  versioned: { safe: (value) => value === true, why: 'without versioning an overwrite or delete is final' },
  autoDeleteObjects: {
    safe: (value) => value === false,
    why: 'would empty the registry when its stack is deleted',
  },
  removalPolicy: {
    safe: (value) => value === RemovalPolicy.RETAIN,
    why: 'the registry and its key are retained when the stack is deleted',
  },
  serverAccessLogsBucket: {
    safe: () => false,
    why: 'use accessLogsBucket, which is verified to be locked down',
  },
};

/** S3 actions of a grant, by the resource they apply to. */
interface RegistryActions {
  readonly bucket: string[];
  readonly objects: string[];
}

const READ_ACTIONS: RegistryActions = {
  bucket: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'],
  objects: ['s3:GetObject', 's3:GetObjectVersion'],
};

const WRITE_ACTIONS: RegistryActions = {
  bucket: ['s3:ListBucketMultipartUploads'],
  objects: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject'],
};

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;

/**
 * An S3 bucket for a sensitive registry: SSE-KMS with a customer-managed key, Block Public Access all on,
 * ACLs disabled, TLS 1.2 only, versioned, access-logged to a locked-down bucket, retained on delete,
 * tagged `registry-guard:classification=sensitive-registry`.
 *
 * @example
 * const roll = new SensitiveRegistryBucket(this, 'ElectoralRoll', {
 *   allowedOrganizationId: 'o-a1b2c3d4e5',
 *   noncurrentVersionExpiration: Duration.days(365),
 * });
 * roll.grantRead(auditorRole);
 */
export class SensitiveRegistryBucket extends Construct {
  /** The registry bucket. */
  readonly bucket: s3.Bucket;
  /** The customer-managed key that encrypts it. */
  readonly encryptionKey: kms.IKey;
  /** The bucket that receives its server access logs. */
  readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: SensitiveRegistryBucketProps = {}) {
    super(scope, id);
    validateProps(this, props);

    this.encryptionKey = props.encryptionKey ?? this.renderKey();
    this.accessLogsBucket = props.accessLogsBucket ?? this.renderAccessLogsBucket();
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectLockEnabled: props.objectLock !== undefined ? true : undefined,
      objectLockDefaultRetention: renderObjectLockRetention(props.objectLock),
      lifecycleRules: [renderLifecycleRule(props)],
      cors: props.cors,
      replicationRules: renderReplicationRules(props.replicationDestination),
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    Tags.of(this.bucket).add(REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE);
    this.enableAccessLogging(props.accessLogsPrefix ?? 'registry-access-logs/');
    this.addEncryptionDenies();
    this.addPerimeterDenies(props);
  }

  /**
   * Lets the grantee list the registry and read its objects (current and earlier versions), and decrypt them
   * with the registry's key. No ACL, policy or configuration reads: `s3:GetBucket*` and `s3:List*` are not granted.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, READ_ACTIONS, ['kms:Decrypt']);
  }

  /**
   * Lets the grantee upload (multipart included) and delete objects, encrypting with the registry's key.
   * Deleting leaves the earlier version in place: versioning is always on.
   */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    // Multipart uploads need kms:Decrypt to read back the data key of their own parts.
    return this.grantActions(grantee, WRITE_ACTIONS, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /** {@link grantRead} and {@link grantWrite} together. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(
      grantee,
      {
        bucket: [...READ_ACTIONS.bucket, ...WRITE_ACTIONS.bucket],
        objects: [...READ_ACTIONS.objects, ...WRITE_ACTIONS.objects],
      },
      ['kms:GenerateDataKey', 'kms:Decrypt'],
    );
  }

  private grantActions(grantee: iam.IGrantable, s3Actions: RegistryActions, kmsActions: string[]): iam.Grant {
    const bucketGrant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: s3Actions.bucket,
      resourceArns: [this.bucket.bucketArn],
      resource: this.bucket,
    });
    const objectsGrant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: s3Actions.objects,
      resourceArns: [this.bucket.arnForObjects('*')],
      resource: this.bucket,
    });
    return bucketGrant.combine(objectsGrant).combine(this.encryptionKey.grant(grantee, ...kmsActions));
  }

  private renderKey(): kms.IKey {
    return new kms.Key(this, 'Key', {
      description: `Encrypts the sensitive registry ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private renderAccessLogsBucket(): s3.Bucket {
    const logs = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access log delivery cannot write to a bucket whose default encryption is SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket of a registry; logging its own access would log into itself.',
    });
    return logs;
  }

  /**
   * Server access logging delivered by bucket policy, never by ACL: CDK's own wiring falls back to the
   * LogDeliveryWrite ACL when a feature flag is off in the log bucket's scope, and ACLs stay disabled here.
   */
  private enableAccessLogging(prefix: string): void {
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.accessLogsBucket.bucketName,
      logFilePrefix: prefix,
    };
    this.accessLogsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogsBucket.arnForObjects(`${prefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        },
      }),
    );
  }

  private addEncryptionDenies(): void {
    const objects = this.bucket.arnForObjects('*');
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsWithOtherEncryption',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyUploadsWithOtherKmsKeys',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [objects],
        conditions: {
          StringNotEqualsIfExists: {
            's3:x-amz-server-side-encryption-aws-kms-key-id': this.encryptionKey.keyArn,
          },
        },
      }),
    );
  }

  private addPerimeterDenies(props: SensitiveRegistryBucketProps): void {
    const resources = [this.bucket.bucketArn, this.bucket.arnForObjects('*')];
    const unlessAwsService = { BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' } };
    if (props.allowedOrganizationId !== undefined) {
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyPrincipalsOutsideOrganization',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:*'],
          resources,
          conditions: {
            StringNotEqualsIfExists: { 'aws:PrincipalOrgID': props.allowedOrganizationId },
            ...unlessAwsService,
          },
        }),
      );
    }
    if (props.allowedVpcEndpointIds !== undefined) {
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyRequestsOutsideVpcEndpoints',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:*'],
          resources,
          conditions: {
            StringNotEquals: { 'aws:SourceVpce': props.allowedVpcEndpointIds },
            ...unlessAwsService,
          },
        }),
      );
    }
  }
}

function renderObjectLockRetention(
  objectLock: RegistryObjectLock | undefined,
): s3.ObjectLockRetention | undefined {
  if (objectLock === undefined) return undefined;
  return objectLock.mode === 'COMPLIANCE'
    ? s3.ObjectLockRetention.compliance(objectLock.retention)
    : s3.ObjectLockRetention.governance(objectLock.retention);
}

function renderLifecycleRule(props: SensitiveRegistryBucketProps): s3.LifecycleRule {
  return {
    id: 'registry-guard-housekeeping',
    abortIncompleteMultipartUploadAfter: props.abortIncompleteMultipartUploadAfter ?? Duration.days(7),
    noncurrentVersionExpiration: props.noncurrentVersionExpiration,
  };
}

function renderReplicationRules(
  destination: SensitiveRegistryBucket | undefined,
): s3.ReplicationRule[] | undefined {
  if (destination === undefined) return undefined;
  return [
    {
      destination: destination.bucket,
      priority: 1,
      sseKmsEncryptedObjects: true,
      kmsKey: destination.encryptionKey,
      deleteMarkerReplication: false,
    },
  ];
}

function refuse(scope: Construct, prop: string, why: string): never {
  throw new SensitiveRegistryBucketPropError(
    prop,
    `SensitiveRegistryBucket ${scope.node.path}: ${prop} is refused: ${why}.`,
  );
}

function validateProps(scope: Construct, props: SensitiveRegistryBucketProps): void {
  for (const [prop, value] of Object.entries(props as Record<string, unknown>)) {
    if (value === undefined || SUPPORTED_PROPS.has(prop)) continue;
    const weakening = WEAKENING_PROPS[prop];
    if (weakening === undefined) {
      refuse(
        scope,
        prop,
        `it is not a SensitiveRegistryBucket prop (supported: ${[...SUPPORTED_PROPS].join(', ')})`,
      );
    }
    if (!weakening.safe(value)) refuse(scope, prop, weakening.why);
  }
  validateEncryptionKey(scope, props.encryptionKey);
  validateObjectLock(scope, props.objectLock);
  validateAccessLogsBucket(scope, props.accessLogsBucket);
  validatePerimeter(scope, props);
  validateReplication(scope, props.replicationDestination);
  validateCors(scope, props.cors);
}

function validateEncryptionKey(scope: Construct, key: kms.IKey | undefined): void {
  if (key === undefined) return;
  const aliasName = (key as Partial<kms.IAlias>).aliasName;
  const keyArn = JSON.stringify(Stack.of(scope).resolve(key.keyArn));
  if (
    (typeof aliasName === 'string' && aliasName.startsWith('alias/aws/')) ||
    keyArn.includes('alias/aws/')
  ) {
    refuse(
      scope,
      'encryptionKey',
      'AWS-managed keys cannot be scoped, audited or revoked by you; pass a customer-managed key',
    );
  }
}

function validateObjectLock(scope: Construct, objectLock: RegistryObjectLock | undefined): void {
  if (objectLock === undefined) return;
  if (objectLock.mode !== 'GOVERNANCE' && objectLock.mode !== 'COMPLIANCE') {
    refuse(
      scope,
      'objectLock',
      `mode must be 'GOVERNANCE' or 'COMPLIANCE', not '${String(objectLock.mode)}'`,
    );
  }
  if (!Token.isUnresolved(objectLock.retention) && objectLock.retention.toDays({ integral: false }) < 1) {
    refuse(scope, 'objectLock', 'retention must be at least one day');
  }
}

function validateAccessLogsBucket(scope: Construct, logs: s3.IBucket | undefined): void {
  if (logs === undefined) return;
  if (!(logs instanceof s3.Bucket)) {
    refuse(
      scope,
      'accessLogsBucket',
      'an imported bucket cannot be verified to be locked down; pass an s3.Bucket defined in this app',
    );
  }
  const stack = Stack.of(logs);
  const cfn = logs.node.defaultChild as s3.CfnBucket;
  const offSettings = judgeBlockPublicAccess(stack.resolve(cfn.publicAccessBlockConfiguration)).settingsOff;
  if (offSettings.length > 0) {
    refuse(
      scope,
      'accessLogsBucket',
      `the log bucket must have all four Block Public Access settings on (off: ${offSettings.join(', ')})`,
    );
  }
  if (cfn.websiteConfiguration !== undefined)
    refuse(scope, 'accessLogsBucket', 'the log bucket hosts a website');
  const accessControl = stack.resolve(cfn.accessControl);
  if (typeof accessControl === 'string' && judgeCannedAcl(accessControl).isPublic) {
    refuse(scope, 'accessLogsBucket', `the log bucket has the public ACL ${accessControl}`);
  }
  if (JSON.stringify(stack.resolve(cfn.bucketEncryption) ?? {}).includes('aws:kms')) {
    refuse(
      scope,
      'accessLogsBucket',
      'S3 server access logging cannot deliver to a bucket encrypted with SSE-KMS; use SSE-S3',
    );
  }
}

function validatePerimeter(scope: Construct, props: SensitiveRegistryBucketProps): void {
  const organizationId = props.allowedOrganizationId;
  if (
    organizationId !== undefined &&
    !Token.isUnresolved(organizationId) &&
    !ORGANIZATION_ID.test(organizationId)
  ) {
    refuse(
      scope,
      'allowedOrganizationId',
      `'${organizationId}' is not an AWS Organization id (o-xxxxxxxxxx)`,
    );
  }
  const endpoints = props.allowedVpcEndpointIds;
  if (endpoints === undefined) return;
  if (endpoints.length === 0)
    refuse(scope, 'allowedVpcEndpointIds', 'an empty list would deny every request');
  for (const endpoint of endpoints) {
    if (!Token.isUnresolved(endpoint) && !VPC_ENDPOINT_ID.test(endpoint)) {
      refuse(scope, 'allowedVpcEndpointIds', `'${endpoint}' is not a VPC endpoint id (vpce-...)`);
    }
  }
}

function validateReplication(scope: Construct, destination: SensitiveRegistryBucket | undefined): void {
  if (destination !== undefined && !(destination instanceof SensitiveRegistryBucket)) {
    refuse(
      scope,
      'replicationDestination',
      'the replica must be another SensitiveRegistryBucket, as protected as the original',
    );
  }
}

function validateCors(scope: Construct, cors: s3.CorsRule[] | undefined): void {
  for (const rule of cors ?? []) {
    if (rule.allowedOrigins.includes('*')) {
      refuse(
        scope,
        'cors',
        'AllowedOrigins "*" lets any web page use the registry from a browser; list your origins',
      );
    }
  }
}
