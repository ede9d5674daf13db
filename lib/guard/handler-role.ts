/**
 * The guard function's role and what it may do in each mode, with the AwsSolutions findings those
 * permissions inherently raise, each acknowledged with its reason.
 */
import { CfnElement, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE } from '../classification';
import {
  EVIDENCE_PREFIXES,
  GUARD_ACCESS_POINT_READ_ACTIONS,
  GUARD_ACCESS_POINT_TIGHTEN_ACTIONS,
  GUARD_BUCKET_READ_ACTIONS,
  GUARD_BUCKET_TIGHTEN_ACTIONS,
  GUARD_MULTI_REGION_ACCESS_POINT_READ_ACTIONS,
  GUARD_OBJECT_ACL_READ_ACTIONS,
  GUARD_OBJECT_ACL_TIGHTEN_ACTIONS,
  GUARD_ROLE_PATH,
  GuardMode,
} from '../guard-facts';
import { SensitiveRegistryBucket } from '../sensitive-registry-bucket';
import { grantSecurityHubFindings } from './security-hub-permissions';

/** What the role's permissions are granted on. */
export interface HandlerPermissionsProps {
  readonly mode: GuardMode;
  readonly evidenceBucket: SensitiveRegistryBucket;
  readonly notificationTopic: sns.ITopic;
  /** The key of the notice topic when the guard created it; undefined for a supplied topic. */
  readonly noticeTopicKey?: kms.Key;
  /** Grant what Security Hub findings need (see security-hub-permissions.ts). @default false */
  readonly securityHubFindings?: boolean;
}

/**
 * Creates the function's role (construct id `HandlerRole`) on the guard's IAM path, where a registry's
 * network perimeter lets it read and tighten access settings from outside the registry's VPC endpoints;
 * tagged as the guard, which an organization's on-call topic requires of publishers. It may write to the
 * function's own log group only.
 *
 * @example
 * const role = renderHandlerRole(this, logGroup);
 */
export function renderHandlerRole(guard: Construct, logGroup: logs.ILogGroup): iam.Role {
  const role = new iam.Role(guard, 'HandlerRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'registry-guard drift guard: reads and closes public S3 buckets',
    path: GUARD_ROLE_PATH,
  });
  // An organization's on-call topic lets only roles carrying this tag publish to it.
  Tags.of(role).add(GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE);
  // Written inline instead of AWSLambdaBasicExecutionRole: only this function's log group.
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  return role;
}

/**
 * Grants what the handler may do. Both modes read, evaluate and notify; only `remediate` may change a
 * bucket, the account's Block Public Access or the evidence bucket, so a guard deployed to watch cannot act
 * even if its mode variable is flipped by hand.
 *
 * @example
 * grantHandlerPermissions(role, { mode, evidenceBucket, notificationTopic, noticeTopicKey });
 */
export function grantHandlerPermissions(role: iam.Role, props: HandlerPermissionsProps): void {
  grantReads(role, props.evidenceBucket);
  grantNotices(role, props.notificationTopic, props.noticeTopicKey);
  if (props.mode === 'remediate') grantTightening(role, props.evidenceBucket);
  if (props.securityHubFindings === true) grantSecurityHubFindings(role, props.mode, props.evidenceBucket);
  // Decrypt to read the guard's records back; GenerateDataKey only to write evidence, in remediate mode.
  const evidenceKeyActions =
    props.mode === 'remediate' ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:Decrypt'];
  props.evidenceBucket.encryptionKey.grant(role, ...evidenceKeyActions);
}

function grantReads(role: iam.Role, evidenceBucket: SensitiveRegistryBucket): void {
  const partition = Stack.of(role).partition;
  const evidence = evidenceBucket.bucket;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadBuckets',
      actions: [...GUARD_BUCKET_READ_ACTIONS],
      // Any bucket of the account can drift: bucket ARNs carry no account, so this is every bucket the
      // role's account owns or is granted, and no object.
      resources: [`arn:${partition}:s3:::*`],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadAccessPoints',
      actions: [...GUARD_ACCESS_POINT_READ_ACTIONS],
      resources: [accessPointArns(role)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadObjectAcls',
      // ACLs only, never an object's data: a data event names any object of any bucket of the account.
      actions: [...GUARD_OBJECT_ACL_READ_ACTIONS],
      resources: [`arn:${partition}:s3:::*/*`],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadMultiRegionAccessPoints',
      actions: [...GUARD_MULTI_REGION_ACCESS_POINT_READ_ACTIONS],
      resources: [multiRegionAccessPointArns(role)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AccountLevelCalls',
      // The account's listings (buckets, access points, Multi-Region Access Points, which the sweep judges),
      // its Block Public Access and PutEvaluations accept no resource ARN.
      actions: [
        's3:ListAllMyBuckets',
        's3:ListAccessPoints',
        's3:ListMultiRegionAccessPoints',
        's3:GetAccountPublicAccessBlock',
        'config:PutEvaluations',
      ],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadRemediationHistory',
      actions: ['s3:ListBucket'],
      resources: [evidence.bucketArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadGuardRecords',
      // Its own records only (pending notices, incident claims, the registry ledger), never a backup.
      actions: ['s3:GetObject'],
      resources: guardRecordPrefixes().map((prefix) => evidence.arnForObjects(`${prefix}*`)),
    }),
  );
}

function grantNotices(
  role: iam.Role,
  notificationTopic: sns.ITopic,
  noticeTopicKey: kms.Key | undefined,
): void {
  if (noticeTopicKey === undefined) {
    notificationTopic.grantPublish(role);
  } else {
    // Exactly what publishing to an encrypted topic needs, instead of grantPublish's kms:GenerateDataKey*.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'NotifyOnCall',
        actions: ['sns:Publish'],
        resources: [notificationTopic.topicArn],
      }),
    );
    noticeTopicKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
}

/** Remediate mode only: close buckets and the account, write evidence, clear delivered notices. */
function grantTightening(role: iam.Role, evidenceBucket: SensitiveRegistryBucket): void {
  const partition = Stack.of(role).partition;
  const evidence = evidenceBucket.bucket;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TightenBuckets',
      actions: [...GUARD_BUCKET_TIGHTEN_ACTIONS],
      resources: [`arn:${partition}:s3:::*`],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TightenAccessPoints',
      actions: [...GUARD_ACCESS_POINT_TIGHTEN_ACTIONS],
      resources: [accessPointArns(role)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TightenObjectAcls',
      actions: [...GUARD_OBJECT_ACL_TIGHTEN_ACTIONS],
      resources: [`arn:${partition}:s3:::*/*`],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TightenAccount',
      actions: ['s3:PutAccountPublicAccessBlock'],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteEvidence',
      actions: ['s3:PutObject'],
      resources: [evidence.arnForObjects('*')],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ClearDeliveredNotices',
      // A pending notice is deleted once SNS took it; no other object is ever deleted.
      actions: ['s3:DeleteObject'],
      resources: [evidence.arnForObjects(`${EVIDENCE_PREFIXES.pendingNotices}*`)],
    }),
  );
}

/**
 * Acknowledges the AwsSolutions-IAM5 findings that follow from what the guard must do, each with the
 * reason; `mode` decides which wildcards exist, so no acknowledgement outlives its finding.
 *
 * @example
 * acknowledgeRoleFindings(role, evidenceBucket, mode);
 */
export function acknowledgeRoleFindings(
  role: iam.Role,
  evidenceBucket: SensitiveRegistryBucket,
  mode: GuardMode,
): void {
  const acknowledge = (id: string, reason: string): void => Validations.of(role).acknowledge({ id, reason });
  acknowledge(
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*]',
    mode === 'remediate'
      ? 'Any bucket of the account can drift public, so bucket-level reads and closes apply to every bucket ARN; object-level actions are granted separately, on object ACLs only.'
      : 'Any bucket of the account can drift public, so bucket-level reads apply to every bucket ARN; no change is granted, and object-level reads only on object ACLs.',
  );
  acknowledge(
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*/*]',
    mode === 'remediate'
      ? 'A CloudTrail data event can name any object of any bucket: the guard reads that object’s ACL and removes only its public grants; no action on object data (GetObject, PutObject, DeleteObject) is granted.'
      : 'A CloudTrail data event can name any object of any bucket: the guard reads that object’s ACL only; no action on object data and no change is granted.',
  );
  acknowledge(
    'AwsSolutions-IAM5[Resource::*]',
    mode === 'remediate'
      ? 'ListAllMyBuckets, ListAccessPoints, ListMultiRegionAccessPoints, Get/PutAccountPublicAccessBlock and config:PutEvaluations accept no resource ARN.'
      : 'ListAllMyBuckets, ListAccessPoints, ListMultiRegionAccessPoints, GetAccountPublicAccessBlock and config:PutEvaluations accept no resource ARN.',
  );
  acknowledge(
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:<AWS::Region>:<AWS::AccountId>:accesspoint/*]',
    mode === 'remediate'
      ? 'Any access point of the account and Region can open a bucket: the guard reads each one an event names or the sweep lists, and removes only public statements from its policy.'
      : 'Any access point of the account and Region can open a bucket: the guard reads each one an event names or the sweep lists, and changes none.',
  );
  acknowledge(
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3::<AWS::AccountId>:accesspoint/*]',
    'Any Multi-Region Access Point of the account can open its buckets: the guard reads each one an event names or the sweep lists, and changes none.',
  );
  // The finding names the bucket by its logical id, which only the stack can tell.
  const evidenceId = Stack.of(role).getLogicalId(evidenceBucket.bucket.node.defaultChild as CfnElement);
  for (const prefix of guardRecordPrefixes()) {
    acknowledge(
      `AwsSolutions-IAM5[Resource::<${evidenceId}.Arn>/${prefix}*]`,
      `The guard reads back its own records, one object per notice, incident or bucket under ${prefix}; it reads no backup.`,
    );
  }
  if (mode === 'remediate') {
    acknowledge(
      `AwsSolutions-IAM5[Resource::<${evidenceId}.Arn>/*]`,
      'Evidence keys are <bucket>/<timestamp>-<id>.json, one per change, beside the guard records: the guard writes new objects (PutObject) anywhere in its own evidence bucket, and deletes only delivered pending notices.',
    );
  }
}

/** Access points are regional: those of the guard's own account and Region. */
function accessPointArns(role: iam.Role): string {
  const stack = Stack.of(role);
  return `arn:${stack.partition}:s3:${stack.region}:${stack.account}:accesspoint/*`;
}

/** Multi-Region Access Point ARNs carry no Region. */
function multiRegionAccessPointArns(role: iam.Role): string {
  const stack = Stack.of(role);
  return `arn:${stack.partition}:s3::${stack.account}:accesspoint/*`;
}

/** The evidence prefixes the guard reads back: its pending notices, incident claims and registry ledger. */
function guardRecordPrefixes(): string[] {
  return [
    EVIDENCE_PREFIXES.pendingNotices,
    EVIDENCE_PREFIXES.incidents,
    EVIDENCE_PREFIXES.registries,
    EVIDENCE_PREFIXES.sweep,
  ];
}
