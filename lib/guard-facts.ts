/**
 * Facts the drift guard's construct (lib/public-access-guard.ts, lib/sensitive-registry-bucket.ts) and its
 * handler (lib/remediation) must agree on, defined once: the events it listens to, its modes, the actions its
 * role needs, where it keeps its records, and the environment it reads.
 */

/**
 * What the guard does about a public bucket. The values are what the construct writes to the function's
 * `GUARD_MODE` environment variable and the handler reads back.
 */
export enum GuardMode {
  /** Close public buckets (Block Public Access on; for registries, public statements and grants removed). */
  REMEDIATE = 'remediate',
  /** Only judge, evaluate and notify: change nothing. */
  REPORT = 'report',
}

/** CloudTrail events (CloudTrail's names, not the SDK's) that can open, or unmark, one bucket. */
export const BUCKET_EVENT_NAMES = [
  'CreateBucket',
  'PutBucketPolicy',
  'PutBucketAcl',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutBucketOwnershipControls',
  // Tags carry a bucket's registry classification and its exemption: changing them is a guarded change.
  'PutBucketTagging',
  'DeleteBucketTagging',
] as const;

/** CloudTrail events for the account's Block Public Access. */
export const ACCOUNT_EVENT_NAMES = ['PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock'] as const;

/**
 * CloudTrail events (S3 Control's calls, logged with eventSource `s3.amazonaws.com`) that can open a bucket
 * through one of its access points. There is no event for an access point's own Block Public Access: S3 sets
 * it at creation and has no call to change it afterwards.
 */
export const ACCESS_POINT_EVENT_NAMES = [
  'CreateAccessPoint',
  'PutAccessPointPolicy',
  'DeleteAccessPointPolicy',
] as const;

/**
 * CloudTrail events for Multi-Region Access Points. S3 routes their control-plane calls to us-west-2, so
 * CloudTrail records them there: only a guard deployed in us-west-2 receives them.
 */
export const MULTI_REGION_ACCESS_POINT_EVENT_NAMES = [
  'CreateMultiRegionAccessPoint',
  'PutMultiRegionAccessPointPolicy',
] as const;

/**
 * CloudTrail data events that can make one object public through its ACL. CloudTrail records them only for
 * buckets a trail's (advanced) event selector names, for `AWS::S3::Object`; without that the guard never
 * hears of them, and the sweep does not read object ACLs. Uploads count only with a public canned ACL
 * ({@link PUBLIC_CANNED_ACLS}) or a grant header naming a group ({@link OBJECT_GRANT_HEADERS}); a multipart
 * upload's object does not exist when CreateMultipartUpload is recorded, and CompleteMultipartUpload carries
 * no ACL, so neither is among them (docs/runbook.md, section 18).
 */
export const OBJECT_ACL_EVENT_NAMES = ['PutObjectAcl', 'PutObject', 'CopyObject'] as const;

/** Canned ACLs (`x-amz-acl`) that grant AllUsers or AuthenticatedUsers. */
export const PUBLIC_CANNED_ACLS = ['public-read', 'public-read-write', 'authenticated-read'] as const;

/**
 * Request headers that grant a permission to a list of grantees (`uri="http://acs.amazonaws.com/groups/
 * global/AllUsers", id="<canonical id>"`). An upload is guarded when one of them names a group: its value
 * holds {@link GROUP_GRANTEE_MARK}, which every group URI has and no canonical id (hex) has.
 */
export const OBJECT_GRANT_HEADERS = [
  'x-amz-grant-read',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
  'x-amz-grant-write',
] as const;

/**
 * What a grant header naming a group (a URI) holds, whatever the URI's case or scheme: the EventBridge rule
 * matches `*<mark>*` and the handler `includes(mark)`, so the two take exactly the same uploads.
 */
export const GROUP_GRANTEE_MARK = '/';

/** Every CloudTrail event of the seconds-level fast path: the EventBridge rule matches exactly these. */
export const GUARDED_API_CALLS = [
  ...BUCKET_EVENT_NAMES,
  ...ACCOUNT_EVENT_NAMES,
  ...ACCESS_POINT_EVENT_NAMES,
  ...MULTI_REGION_ACCESS_POINT_EVENT_NAMES,
] as const;

/** A CloudTrail event name the guard acts on for one bucket. */
export type BucketEventName = (typeof BUCKET_EVENT_NAMES)[number];
/** A CloudTrail event name the guard acts on for the account. */
export type AccountEventName = (typeof ACCOUNT_EVENT_NAMES)[number];
/** A CloudTrail event name the guard acts on for one access point. */
export type AccessPointEventName = (typeof ACCESS_POINT_EVENT_NAMES)[number];
/** A CloudTrail data event name the guard acts on for one object's ACL. */
export type ObjectAclEventName = (typeof OBJECT_ACL_EVENT_NAMES)[number];
/** A CloudTrail event name the guard acts on for one Multi-Region Access Point. */
export type MultiRegionAccessPointEventName = (typeof MULTI_REGION_ACCESS_POINT_EVENT_NAMES)[number];

/** What the guard reads on any bucket: its judgement needs exactly these. */
export const GUARD_BUCKET_READ_ACTIONS = [
  's3:GetBucketPolicy',
  's3:GetBucketAcl',
  's3:GetBucketPublicAccessBlock',
  's3:GetBucketTagging',
  's3:GetBucketOwnershipControls',
] as const;

/** What the guard changes on a bucket, each only ever to tighten it (remediate mode only). */
export const GUARD_BUCKET_TIGHTEN_ACTIONS = [
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutBucketAcl',
  's3:PutBucketPublicAccessBlock',
] as const;

/** What the guard reads on an access point of the account (S3 Control), to judge it. */
export const GUARD_ACCESS_POINT_READ_ACTIONS = ['s3:GetAccessPoint', 's3:GetAccessPointPolicy'] as const;

/** What the guard changes on an access point: only its policy, only to remove public statements. */
export const GUARD_ACCESS_POINT_TIGHTEN_ACTIONS = [
  's3:PutAccessPointPolicy',
  's3:DeleteAccessPointPolicy',
] as const;

/** What the guard reads on a Multi-Region Access Point; it never changes one (the change is asynchronous). */
export const GUARD_MULTI_REGION_ACCESS_POINT_READ_ACTIONS = [
  's3:GetMultiRegionAccessPoint',
  's3:GetMultiRegionAccessPointPolicy',
] as const;

/** What the guard reads on an object named by a data event: its ACL (of the version named, when one is). */
export const GUARD_OBJECT_ACL_READ_ACTIONS = ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'] as const;

/** What the guard changes on such an object: only its ACL, only to remove public grants. */
export const GUARD_OBJECT_ACL_TIGHTEN_ACTIONS = ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'] as const;

/**
 * IAM path of the guard's role. A registry's network perimeter (`allowedVpcEndpointIds`) lets roles on this
 * path of the bucket's own account through for {@link GUARD_BUCKET_READ_ACTIONS} and
 * {@link GUARD_BUCKET_TIGHTEN_ACTIONS} only: the guard runs outside any VPC.
 */
export const GUARD_ROLE_PATH = '/registry-guard/';

/**
 * Key prefixes of the guard's own records in its evidence bucket. No bucket name starts with `_`, so none of
 * them mixes with a bucket's evidence (`<bucket>/<timestamp>-<id>.json`).
 */
export const EVIDENCE_PREFIXES = {
  /** Notices acted on but not yet delivered: written before publishing, deleted once SNS took them. */
  pendingNotices: '_pending-notices/',
  /**
   * Pending-notice records that could not be parsed, moved aside (same name) so they neither block the
   * notices behind them nor fail every later invocation; kept for a person to read, never retried.
   */
  unreadablePendingNotices: '_pending-notices-unreadable/',
  /** One object per incident (bucket and observed state): the claim that makes twenty events one page. */
  incidents: '_incidents/',
  /** One object per bucket ever seen as a registry: a removed tag does not make it ordinary. */
  registries: '_registries/',
  /** Where a sweep that ran short of time left off, so the next one starts there. */
  sweep: '_sweep/',
  /** Account-level evidence. */
  account: '_account/',
  /**
   * One object per open Security Hub finding (`<bucket>/<kind>.json`, the finding as last imported): the
   * findings to resolve when the bucket is found closed, so a sweep of closed buckets calls Security Hub for
   * none of the others.
   */
  securityHubFindings: '_security-hub-findings/',
} as const;

/** An exemption may last at most this many days from the day it is seen, unless configured otherwise. */
export const DEFAULT_MAX_EXEMPTION_DAYS = 90;

/** Environment variables the handler reads; the construct sets them. */
export const GUARD_ENVIRONMENT = {
  mode: 'GUARD_MODE',
  evidenceBucket: 'EVIDENCE_BUCKET',
  notifyTopicArn: 'NOTIFY_TOPIC_ARN',
  maxExemptionDays: 'MAX_EXEMPTION_DAYS',
  /** Comma-separated bucket names a human released from registry status through the deployment. */
  releasedRegistries: 'RELEASED_REGISTRY_BUCKETS',
  /** Seconds within which events for one bucket and one observed state are one incident. */
  incidentWindowSeconds: 'INCIDENT_WINDOW_SECONDS',
  /**
   * The SQS queue a periodic sweep hands its pages and batches of buckets to; without it the sweep judges
   * every bucket in the one invocation (small accounts, tests).
   */
  sweepQueueUrl: 'SWEEP_QUEUE_URL',
  /**
   * The organization (`o-...`) whose members a registry's policy may grant when a condition confines the grant
   * to it. Set by the deployment, not read from a tag: whoever may tag a bucket must not widen its zone.
   */
  trustedOrganizationId: 'GUARD_TRUSTED_ORGANIZATION_ID',
  /** Comma-separated account ids a registry's policy may grant besides the guard's own account. */
  trustedAccountIds: 'GUARD_TRUSTED_ACCOUNT_IDS',
  /** `true` when remediations, failed remediations and unverifiable buckets become Security Hub findings. */
  securityHubFindings: 'SECURITY_HUB_FINDINGS',
} as const;
