/**
 * SensitiveRegistryBucket: an S3 bucket for a sensitive registry (a voter roll, a health or civil
 * registry), locked down by default and refusing the props that would weaken it.
 */
import { Duration, RemovalPolicy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  REGISTRY_CLASSIFICATION_TAG_KEY,
  REGISTRY_CLASSIFICATION_TAG_VALUE,
  TRUSTED_ACCOUNTS_METADATA_KEY,
} from './classification';
import { GUARD_BUCKET_READ_ACTIONS, GUARD_BUCKET_TIGHTEN_ACTIONS, GUARD_ROLE_PATH } from './guard-facts';
import { tieKeyToServices } from './key-policy';
import { LOCKED_DOWN_BUCKET_ACCESS } from './locked-down-bucket';
import { logBucketProblems, validateProps } from './registry-bucket-props';

export { SensitiveRegistryBucketPropError } from './registry-bucket-props';

/**
 * Object Lock for registries that must be immutable.
 *
 * @example
 * const objectLock: RegistryObjectLock = { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(3650) };
 */
export interface RegistryObjectLock {
  /**
   * `GOVERNANCE`: users with `s3:BypassGovernanceRetention` can still delete a locked version.
   * `COMPLIANCE`: nobody can, the root user included, until the retention ends. Required.
   */
  readonly mode: s3.ObjectLockMode;
  /**
   * How long each new object version is locked: a whole number of days, at least one, under 100 years.
   * Required.
   */
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
   * @default a new key with automatic rotation on, retained when the stack is deleted, whose policy lets the
   * account's principals use it only through S3 and create grants only for AWS resources
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Object Lock, for registries that must be immutable. Only settable when the bucket is created. A registry
   * with Object Lock can only replicate to a registry that also has Object Lock.
   * @default no Object Lock (versioning still keeps every overwritten or deleted version)
   */
  readonly objectLock?: RegistryObjectLock;

  /**
   * Where server access logs go. Must be an `s3.Bucket` defined in this app, in the registry's account and
   * Region, with all four Block Public Access settings on, no website hosting, no public ACL, no Object Lock
   * and SSE-S3 encryption (S3 log delivery cannot write to an SSE-KMS bucket). Imported buckets are refused:
   * their settings cannot be verified.
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
   * (`aws:SourceVpce`). AWS service principals are let through, but roles are not: the console, a
   * deployment role outside the VPC and the role S3 Replication uses are all denied. Plan access first.
   *
   * One exception, for the drift guard (`PublicAccessGuard`), which runs outside any VPC: roles of this
   * bucket's account on the IAM path `GUARD_ROLE_PATH` (`/registry-guard/`) may, from anywhere, call the
   * bucket-level actions the guard reads and tightens with (`GUARD_BUCKET_READ_ACTIONS` and
   * `GUARD_BUCKET_TIGHTEN_ACTIONS`: the bucket's policy, ACL, Block Public Access, tags and ownership
   * controls) and nothing else; no object action (`s3:GetObject`, `s3:PutObject`, ...) is exempted. Their IAM
   * policies must still allow those actions. Anyone who may create roles on that path can use the exception:
   * restrict `iam:CreateRole` on it (with an SCP, for instance).
   * @default no network perimeter
   */
  readonly allowedVpcEndpointIds?: string[];

  /**
   * Accounts outside this bucket's own that the registry may be shared with: grants to them pass
   * `RegistryGuard-S3RegistryExternalAccess`. The zone of trust is otherwise the bucket's account, plus the
   * organization of `allowedOrganizationId` for grants confined to it with `aws:PrincipalOrgID`. Literal
   * 12-digit ids, written into the template's metadata so the pack and the CLI read the same list.
   * Trusting an account does not grant it anything: grant with `grantRead()` or a policy statement.
   * @default no account besides the bucket's own
   */
  readonly trustedAccountIds?: string[];

  /**
   * Incomplete multipart uploads are aborted after this long, so abandoned parts do not linger.
   * A whole number of days, at least one.
   * @default Duration.days(7)
   */
  readonly abortIncompleteMultipartUploadAfter?: Duration;

  /**
   * Noncurrent (overwritten or deleted) versions expire after this long. A whole number of days, at least one.
   * @default noncurrent versions are kept forever
   */
  readonly noncurrentVersionExpiration?: Duration;

  /**
   * Replicate every object to another registry bucket in the same account and Region (a replica in another
   * Region is refused: CDK cannot pass its key between Regions). The destination must itself be a
   * `SensitiveRegistryBucket`, so the copy is as protected as the original; replicas are encrypted with the
   * destination's key. Delete markers are not replicated, so a delete in the source leaves the copy intact.
   * @default no replication
   */
  readonly replicationDestination?: SensitiveRegistryBucket;

  /**
   * CORS rules, for browser applications that read the registry directly. `AllowedOrigins` `*` is refused.
   * @default no CORS
   */
  readonly cors?: s3.CorsRule[];
}

interface RegistryActions {
  readonly bucket: string[];
  readonly objects: string[];
}

const READ_ACTIONS: RegistryActions = {
  bucket: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'],
  objects: ['s3:GetObject', 's3:GetObjectVersion'],
};

// s3:DeleteObjectVersion is left out on purpose: a writer must not be able to destroy the versions that
// make a mistaken overwrite or delete recoverable.
const WRITE_ACTIONS: RegistryActions = {
  bucket: ['s3:ListBucketMultipartUploads'],
  objects: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:DeleteObject'],
};

// kms:Decrypt on write: a multipart upload reads back the data key of its own parts.
const READ_KMS_ACTIONS = ['kms:Decrypt'];
const WRITE_KMS_ACTIONS = ['kms:GenerateDataKey', 'kms:Decrypt'];

const DEFAULT_ACCESS_LOGS_PREFIX = 'registry-access-logs/';
const DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_AFTER = Duration.days(7);

/**
 * An S3 bucket for a sensitive registry: SSE-KMS with a customer-managed key, Block Public Access all on,
 * ACLs disabled, TLS 1.2 only, versioned, access-logged to a locked-down bucket, retained on delete,
 * tagged `registry-guard:classification=sensitive-registry`. Props that would weaken it are refused with a
 * {@link SensitiveRegistryBucketPropError}.
 *
 * @example
 * import { Duration } from 'aws-cdk-lib';
 * import { SensitiveRegistryBucket } from 'registry-guard';
 *
 * const roll = new SensitiveRegistryBucket(this, 'ElectoralRoll', {
 *   allowedOrganizationId: 'o-a1b2c3d4e5',
 *   noncurrentVersionExpiration: Duration.days(365),
 *   objectLock: { mode: s3.ObjectLockMode.GOVERNANCE, retention: Duration.days(30) },
 * });
 * roll.grantRead(auditorRole); // s3 reads and kms:Decrypt on the roll's key, nothing more
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
    // JavaScript callers can pass null where TypeScript callers cannot.
    const checkedProps = props ?? {};
    validateProps(this, checkedProps);

    this.encryptionKey = checkedProps.encryptionKey ?? this.renderKey();
    this.accessLogsBucket = checkedProps.accessLogsBucket ?? this.renderAccessLogsBucket();
    const replicationRole = this.renderReplicationRole(checkedProps.replicationDestination);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: checkedProps.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.encryptionKey,
      bucketKeyEnabled: true,
      ...LOCKED_DOWN_BUCKET_ACCESS,
      objectLockEnabled: checkedProps.objectLock !== undefined ? true : undefined,
      objectLockDefaultRetention: renderObjectLockRetention(checkedProps.objectLock),
      lifecycleRules: [renderLifecycleRule(checkedProps)],
      cors: checkedProps.cors,
      replicationRole,
      replicationRules: renderReplicationRules(checkedProps.replicationDestination),
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    Tags.of(this.bucket).add(REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE);
    this.recordTrustedAccounts(checkedProps.trustedAccountIds ?? []);
    this.enableAccessLogging(checkedProps.accessLogsPrefix ?? DEFAULT_ACCESS_LOGS_PREFIX);
    this.addEncryptionDenies();
    this.addPerimeterDenies(checkedProps);
    if (replicationRole !== undefined && checkedProps.replicationDestination !== undefined) {
      this.grantReplication(replicationRole, checkedProps.replicationDestination, checkedProps.objectLock);
    }
  }

  /**
   * Lets the grantee list the registry and read its objects (current and earlier versions), and decrypt them
   * with the registry's key. No ACL, policy or configuration reads: `s3:GetBucket*` and `s3:List*` are not granted.
   *
   * @example
   * registry.grantRead(auditorRole);
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, READ_ACTIONS, READ_KMS_ACTIONS);
  }

  /**
   * Lets the grantee upload (multipart included) and delete objects, encrypting with the registry's key.
   * Deleting leaves the earlier version in place: versioning is always on, and `s3:DeleteObjectVersion` is
   * not granted.
   *
   * @example
   * registry.grantWrite(ingestFunction);
   */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(grantee, WRITE_ACTIONS, WRITE_KMS_ACTIONS);
  }

  /**
   * {@link grantRead} and {@link grantWrite} together.
   *
   * @example
   * registry.grantReadWrite(registrarRole);
   */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grantActions(
      grantee,
      {
        bucket: [...READ_ACTIONS.bucket, ...WRITE_ACTIONS.bucket],
        objects: [...READ_ACTIONS.objects, ...WRITE_ACTIONS.objects],
      },
      [...new Set([...READ_KMS_ACTIONS, ...WRITE_KMS_ACTIONS])],
    );
  }

  /**
   * Explicit actions rather than `s3.Bucket`'s own grants: those add `s3:GetBucket*`, `s3:List*`,
   * `s3:DeleteObject*` (permanent version deletion) and Object Lock retention changes, more than a
   * registry's readers and writers need.
   */
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
    const key = new kms.Key(this, 'Key', {
      description: `Encrypts the sensitive registry ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Readers, writers, replication and Config delivery all reach the key through S3 (SSE-KMS).
    tieKeyToServices(key, ['s3']);
    return key;
  }

  private renderAccessLogsBucket(): s3.Bucket {
    const logs = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access log delivery does not support target buckets whose default encryption is SSE-KMS,
      // so the log bucket uses SSE-S3.
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...LOCKED_DOWN_BUCKET_ACCESS,
      lifecycleRules: [
        { abortIncompleteMultipartUploadAfter: DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_AFTER },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
      autoDeleteObjects: false,
    });
    // cdk-nag's AwsSolutions-S1 does not ask a server-access-log target to log itself: no acknowledgement.
    return logs;
  }

  /**
   * A role of our own rather than the one `s3.Bucket` creates: without a feature flag that one is named
   * `CDKReplicationRole`, so two replicating registries in one account would collide, and its policy grants
   * more (`s3:ReplicateDelete`, `s3:ObjectOwnerOverrideToBucketOwner`) than this replication needs.
   */
  private renderReplicationRole(destination: SensitiveRegistryBucket | undefined): iam.Role | undefined {
    if (destination === undefined) return undefined;
    return new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: `Replicates the sensitive registry ${this.node.path} to ${destination.node.path}`,
    });
  }

  private grantReplication(
    role: iam.Role,
    destination: SensitiveRegistryBucket,
    objectLock: RegistryObjectLock | undefined,
  ): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [this.bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
          // Locked versions carry their retention and legal hold to the replica.
          ...(objectLock !== undefined ? ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] : []),
        ],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        // No s3:ReplicateDelete: delete markers are not replicated.
        actions: ['s3:ReplicateObject', 's3:ReplicateTags'],
        resources: [destination.bucket.arnForObjects('*')],
      }),
    );
    this.encryptionKey.grant(role, 'kms:Decrypt');
    destination.encryptionKey.grant(role, 'kms:Encrypt');
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
    const logsStack = Stack.of(this.accessLogsBucket);
    // Naming this bucket's ARN from a log bucket in another stack would make the two stacks depend on each
    // other; the account condition still keeps other accounts' buckets out.
    const sourceArn =
      logsStack === Stack.of(this) ? { ArnLike: { 'aws:SourceArn': this.bucket.bucketArn } } : {};
    this.accessLogsBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.accessLogsBucket.arnForObjects(`${prefix}*`)],
        conditions: { ...sourceArn, StringEquals: { 'aws:SourceAccount': logsStack.account } },
      }),
    );
    // The log bucket could still be opened after this construct checked it; check again at synthesis.
    const logs = this.accessLogsBucket as s3.Bucket;
    this.node.addValidation({
      validate: () =>
        logBucketProblems(this, logs).map(
          (problem) => `SensitiveRegistryBucket ${this.node.path}: accessLogsBucket: ${problem}`,
        ),
    });
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
        // IfExists: an upload without the header gets the bucket's default, SSE-KMS with this key.
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

  /**
   * A stack bound to an account renders that account literally in its ARNs, where the template's
   * `AWS::AccountId` is not seen: it is recorded as trusted too, so the registry's own grants pass.
   */
  private recordTrustedAccounts(trustedAccountIds: readonly string[]): void {
    const stackAccount = Stack.of(this).account;
    const accounts = Token.isUnresolved(stackAccount)
      ? trustedAccountIds
      : [stackAccount, ...trustedAccountIds];
    if (accounts.length === 0) return;
    (this.bucket.node.defaultChild as s3.CfnBucket).addMetadata(TRUSTED_ACCOUNTS_METADATA_KEY, [
      ...new Set(accounts),
    ]);
  }

  private addPerimeterDenies(props: SensitiveRegistryBucketProps): void {
    const resources = [this.bucket.bucketArn, this.bucket.arnForObjects('*')];
    // AWS services acting as themselves (log delivery, CloudTrail) carry no organization or endpoint.
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
      this.addNetworkPerimeterDenies(props.allowedVpcEndpointIds, resources, unlessAwsService);
    }
  }

  /**
   * Two statements instead of one `s3:*`: the drift guard runs outside any VPC, and must still read and
   * tighten this bucket's access settings. Everything but the guard's bucket-level actions is denied outside
   * the endpoints to everyone; those actions are denied outside the endpoints to everyone but roles on the
   * guard's path of this account. Together they deny exactly what the single statement denied, less the
   * guard's bucket-level actions for the guard's roles.
   */
  private addNetworkPerimeterDenies(
    endpointIds: string[],
    resources: string[],
    unlessAwsService: Record<string, Record<string, string>>,
  ): void {
    const guardActions = [...GUARD_BUCKET_READ_ACTIONS, ...GUARD_BUCKET_TIGHTEN_ACTIONS];
    const outsideEndpoints = { StringNotEquals: { 'aws:SourceVpce': endpointIds } };
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyRequestsOutsideVpcEndpoints',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        notActions: guardActions,
        resources,
        conditions: { ...outsideEndpoints, ...unlessAwsService },
      }),
    );
    const stack = Stack.of(this.bucket);
    const guardRoles = `arn:${stack.partition}:iam::${stack.account}:role${GUARD_ROLE_PATH}*`;
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyGuardActionsOutsideVpcEndpointsExceptGuard',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: guardActions,
        // Every one of these actions is bucket-level: the bucket ARN is the only resource they apply to.
        resources: [this.bucket.bucketArn],
        conditions: {
          ...outsideEndpoints,
          // Negated: a principal with no ARN (anonymous) is denied too.
          ArnNotLike: { 'aws:PrincipalArn': guardRoles },
          ...unlessAwsService,
        },
      }),
    );
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
    abortIncompleteMultipartUploadAfter:
      props.abortIncompleteMultipartUploadAfter ?? DEFAULT_ABORT_INCOMPLETE_MULTIPART_UPLOAD_AFTER,
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
