/**
 * What a bucket's outcome says to AWS Security Hub, in the AWS Security Finding Format (ASFF): pure functions
 * from an outcome to a finding, and from an open finding to its resolution. Sending them, in batches, and
 * remembering which are open is security-hub.ts's job.
 *
 * One finding per subject and kind, under a stable Id: a bucket remediated twice updates its one
 * "remediated" finding instead of adding a second. The subject is the bucket's own settings, or a way into
 * it (an access point, a Multi-Region Access Point, an object's ACL), each keyed apart (see
 * {@link subjectKeyOf}). Kinds, severities and the workflow are in docs/runbook.md, "Security Hub findings".
 */
import { createHash } from 'crypto';
import type { AwsSecurityFinding, Partition, Resource, SeverityLabel } from '@aws-sdk/client-securityhub';
import { GuardMode } from '../../guard-facts';
import { truncate } from './evaluations';
import { describeAction } from './notice';
import { oneLine } from './one-line';
import { BucketOutcome, WayIn } from './outcome';
import { bucketArnOf, partitionOf } from './partition';
import { restoreCommandFor } from './restore-command';

/** The only ASFF schema version Security Hub accepts. */
export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** ASFF limits (AwsSecurityFinding in the Security Hub API reference). */
export const MAX_FINDING_TITLE_LENGTH = 256;
export const MAX_FINDING_DESCRIPTION_LENGTH = 1024;
export const MAX_RECOMMENDATION_TEXT_LENGTH = 512;
/** Where every finding's GeneratorId starts; the kind follows. */
export const GENERATOR_PREFIX = 'registry-guard/public-access-guard';

/**
 * What a finding tells: the guard closed a public bucket (`remediated`), tried and did not fully succeed or
 * left it public (`failed`), or could not read it and so treats it as possibly public (`unverifiable`).
 */
export type FindingKind = 'remediated' | 'failed' | 'unverifiable';

/** Every kind, in the order a bucket's open findings are resolved. */
export const FINDING_KINDS: readonly FindingKind[] = ['remediated', 'failed', 'unverifiable'];

/** What a finding says about where and when besides the outcome. */
export interface FindingContext {
  readonly accountId: string;
  readonly region: string;
  readonly mode: GuardMode;
  /** What triggered the run, in words. */
  readonly trigger: string;
  readonly now: Date;
}

/** When an earlier import of the same finding first saw the problem: kept, so an update does not reset it. */
export interface FindingHistory {
  readonly createdAt: string;
  readonly firstObservedAt: string;
}

/**
 * The kind of finding an outcome makes, or undefined when it makes none: only a NON_COMPLIANT bucket the
 * guard acted on or could not read, and only once per incident (a duplicate's owner reports it).
 *
 * @example
 * findingKindOf(unverifiableOutcome('roll', 'GetBucketPolicy failed with AccessDenied')); // 'unverifiable'
 */
export function findingKindOf(outcome: BucketOutcome): FindingKind | undefined {
  if (outcome.compliance !== 'NON_COMPLIANT' || outcome.incident?.role === 'duplicate') return undefined;
  if (outcome.unverifiable !== undefined) return 'unverifiable';
  const remediation = outcome.remediation;
  if (remediation === undefined) return undefined;
  if (remediation.stillPublic || remediation.actions.some((action) => action.status === 'failed')) {
    return 'failed';
  }
  const changed = remediation.actions.some(
    (action) => action.kind !== 'evidence' && action.status === 'done',
  );
  return changed ? 'remediated' : undefined;
}

/**
 * Severity by what happened and to what. A registry bucket (or one whose classification could not be read:
 * unknown is treated as a registry) ranks above an ordinary one; a bucket the public can still reach ranks
 * above one that was closed.
 *
 * | kind | registry or unknown | ordinary |
 * | --- | --- | --- |
 * | failed, still public | CRITICAL | HIGH |
 * | failed, closed anyway | HIGH | MEDIUM |
 * | remediated | HIGH | MEDIUM |
 * | unverifiable | HIGH | MEDIUM |
 *
 * @example
 * severityOf('remediated', outcome); // 'HIGH' for a registry bucket
 */
export function severityOf(kind: FindingKind, outcome: BucketOutcome): SeverityLabel {
  const registry = outcome.isRegistry !== false;
  if (kind === 'failed' && outcome.remediation?.stillPublic === true) return registry ? 'CRITICAL' : 'HIGH';
  return registry ? 'HIGH' : 'MEDIUM';
}

/**
 * The product ARN of the account's default integration: where a custom integration imports its own
 * findings (`product/<account>/default`, not `product/aws/...`).
 *
 * @example
 * productArnOf({ accountId: '123456789012', region: 'eu-west-1' });
 * // 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default'
 */
export function productArnOf(context: Pick<FindingContext, 'accountId' | 'region'>): string {
  const { accountId, region } = context;
  return `arn:${partitionOf(region)}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/**
 * The finding's Id: the same for the same subject (see {@link subjectKeyOf}; a bucket's own settings are
 * keyed by its name) and kind, in this account and Region, whatever the run.
 *
 * @example
 * findingIdOf({ accountId: '123456789012', region: 'eu-west-1' }, 'roll', 'remediated');
 * // 'registry-guard/eu-west-1/123456789012/roll/remediated'
 */
export function findingIdOf(
  context: Pick<FindingContext, 'accountId' | 'region'>,
  subjectKey: string,
  kind: FindingKind,
): string {
  return `registry-guard/${context.region}/${context.accountId}/${subjectKey}/${kind}`;
}

/**
 * What an outcome's findings are about, as a key of the Id and of the open record: `<bucket>` for the
 * bucket's own settings; `<bucket>/<way in>` for a way into it; `<way in>` alone when its bucket is unknown
 * (it could not be read); `account:<id>:access-points` when listing the account's access points failed. A
 * way in is `access-point:<name>`, `multi-region-access-point:<name>` or `object-acl:<hash of key and
 * version>`: each holds a `:`, which no bucket name does, so no subject's key is another's.
 *
 * @example
 * subjectKeyOf(outcome); // 'electoral-roll/access-point:roll-analytics'
 */
export function subjectKeyOf(outcome: BucketOutcome): string {
  const wayIn = outcome.wayIn;
  if (wayIn === undefined) return outcome.bucket;
  if ('accountId' in wayIn) return `account:${safeName(wayIn.accountId)}:${wayIn.kind}`;
  if (wayIn.kind === 'object-acl') return `${outcome.bucket}/${wayInKeyOf(wayIn)}`;
  return wayIn.bucketUnknown === true ? wayInKeyOf(wayIn) : `${outcome.bucket}/${wayInKeyOf(wayIn)}`;
}

/**
 * The key of the access point (or Multi-Region Access Point) alone, when the outcome read it or found it
 * gone: the subject of findings made when it could not be read, which no longer hold. Undefined when the
 * outcome is about another subject or could not read it either.
 *
 * @example
 * unreadWayInKeyOf(outcome); // 'access-point:roll-analytics'
 */
export function unreadWayInKeyOf(outcome: BucketOutcome): string | undefined {
  const wayIn = outcome.wayIn;
  if (wayIn === undefined || !('name' in wayIn)) return undefined;
  if (wayIn.bucketUnknown === true && outcome.unverifiable !== undefined) return undefined;
  return wayInKeyOf(wayIn);
}

type OneWayIn = Exclude<WayIn, { readonly accountId: string }>;

function wayInKeyOf(wayIn: OneWayIn): string {
  if (wayIn.kind === 'object-acl') {
    const digest = createHash('sha256')
      .update(`${wayIn.key}\u0000${wayIn.versionId ?? ''}`)
      .digest('hex');
    return `object-acl:${digest.slice(0, 32)}`;
  }
  return `${wayIn.kind}:${safeName(wayIn.name)}`;
}

/**
 * A name as it may go into an Id or an ARN: as it is when it is one S3 could have given (lower-case letters,
 * digits, dots, hyphens), else a hash of it, so text from an event cannot break either.
 */
function safeName(name: string): string {
  if (/^[a-z0-9][a-z0-9.-]{0,62}$/.test(name)) return name;
  return `sha256-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

/**
 * The resources a finding names: the bucket (by its ARN), and the access point or Multi-Region Access Point
 * the outcome judged; only the way in when its bucket is unknown; the account when its listing failed.
 */
function resourcesOf(outcome: BucketOutcome, context: FindingContext): Resource[] {
  const partition = partitionOf(context.region);
  const where = {
    ...(isAsffPartition(partition) ? { Partition: partition } : {}),
    Region: context.region,
  };
  const bucket: Resource = { Type: 'AwsS3Bucket', Id: bucketArnOf(outcome.bucket, context.region), ...where };
  const wayIn = outcome.wayIn;
  if (wayIn === undefined || wayIn.kind === 'object-acl') return [bucket];
  if ('accountId' in wayIn) {
    // ASFF names an account by this Id, not by an ARN.
    return [{ Type: 'AwsAccount', Id: `AWS::::Account:${safeName(wayIn.accountId)}`, ...where }];
  }
  const way: Resource =
    wayIn.kind === 'access-point'
      ? {
          Type: 'AwsS3AccessPoint',
          Id: `arn:${partition}:s3:${context.region}:${context.accountId}:accesspoint/${safeName(wayIn.name)}`,
          ...where,
        }
      : {
          // ASFF has no type for a Multi-Region Access Point; it is global, so no Region either.
          Type: 'Other',
          Id: `arn:${partition}:s3::${context.accountId}:accesspoint/${safeName(wayIn.alias ?? wayIn.name)}`,
          ...(isAsffPartition(partition) ? { Partition: partition } : {}),
        };
  return wayIn.bucketUnknown === true ? [way] : [bucket, way];
}

/** The subject in words, for the title: the bucket, a way into it, or a way in alone. */
function subjectWordsOf(outcome: BucketOutcome): string {
  const bucket = `${outcome.isRegistry === true ? 'registry bucket' : 'S3 bucket'} ${outcome.bucket}`;
  const wayIn = outcome.wayIn;
  if (wayIn === undefined) return bucket;
  switch (wayIn.kind) {
    case 'access-points':
      return `the access points of account ${wayIn.accountId}`;
    case 'multi-region-access-points':
      return `the Multi-Region Access Points of account ${wayIn.accountId}`;
    case 'object-acl':
      return `an object's ACL in ${bucket}`;
    default: {
      const way = `${wayIn.kind === 'access-point' ? 'access point' : 'Multi-Region Access Point'} ${wayIn.name}`;
      return wayIn.bucketUnknown === true ? way : `${way} of ${bucket}`;
    }
  }
}

/**
 * The finding for one outcome of `kind` (see {@link findingKindOf}): ACTIVE, compliance FAILED, workflow NEW.
 * `earlier` keeps CreatedAt and FirstObservedAt of the finding this one updates.
 *
 * @example
 * const finding = composeFinding(outcome, 'remediated', { accountId, region, mode, trigger, now });
 */
export function composeFinding(
  outcome: BucketOutcome,
  kind: FindingKind,
  context: FindingContext,
  earlier?: FindingHistory,
): AwsSecurityFinding {
  const now = context.now.toISOString();
  const severity = severityOf(kind, outcome);
  const types = typesOf(kind);
  const evidence = outcome.remediation?.evidence;
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: findingIdOf(context, subjectKeyOf(outcome), kind),
    ProductArn: productArnOf(context),
    ProductName: 'registry-guard',
    GeneratorId: `${GENERATOR_PREFIX}/${kind}`,
    AwsAccountId: context.accountId,
    Types: types,
    CreatedAt: earlier?.createdAt ?? now,
    UpdatedAt: now,
    FirstObservedAt: earlier?.firstObservedAt ?? now,
    LastObservedAt: now,
    Severity: { Label: severity, Original: severity },
    // Severity and Types for updates: BatchImportFindings takes a provider's later values from here.
    FindingProviderFields: { Severity: { Label: severity, Original: severity }, Types: types },
    Title: truncate(oneLine(titleOf(kind, outcome)), MAX_FINDING_TITLE_LENGTH),
    Description: truncate(oneLine(descriptionOf(kind, outcome)), MAX_FINDING_DESCRIPTION_LENGTH),
    Resources: resourcesOf(outcome, context),
    Compliance: { Status: 'FAILED' },
    // Taken only when the finding is created: afterwards the workflow is the security team's (and the
    // guard's BatchUpdateFindings when the bucket is found closed), and Security Hub puts a RESOLVED finding
    // back to NEW itself when an update makes it ACTIVE and FAILED again.
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
    Remediation: { Recommendation: { Text: recommendationOf(kind, outcome) } },
    ProductFields: {
      'registry-guard/Kind': kind,
      'registry-guard/RegistryBucket':
        outcome.isRegistry === undefined ? 'unknown' : outcome.isRegistry ? 'yes' : 'no',
      'registry-guard/Mode': context.mode,
      'registry-guard/Trigger': truncate(oneLine(context.trigger), 2048),
      'registry-guard/Subject': truncate(oneLine(subjectKeyOf(outcome)), 2048),
      ...(evidence === undefined
        ? {}
        : { 'registry-guard/Evidence': evidence.uri, 'registry-guard/EvidenceSha256': evidence.sha256 }),
    },
  };
}

/**
 * The same finding once its bucket is found closed: compliance PASSED and ARCHIVED, as of `now`. Sent by
 * BatchImportFindings before the workflow moves to RESOLVED, so that the bucket opening again (ACTIVE and
 * FAILED once more) makes Security Hub put the workflow back to NEW.
 *
 * @example
 * const resolved = resolvedFinding(openFinding, new Date());
 */
export function resolvedFinding(open: AwsSecurityFinding, now: Date): AwsSecurityFinding {
  // The workflow is left out: BatchImportFindings may not change it on an existing finding.
  const rest: AwsSecurityFinding = { ...open };
  delete rest.Workflow;
  return {
    ...rest,
    UpdatedAt: now.toISOString(),
    Compliance: { Status: 'PASSED' },
    RecordState: 'ARCHIVED',
  };
}

/** The history an open finding carries, for the update that replaces it. */
export function historyOf(open: AwsSecurityFinding): FindingHistory | undefined {
  if (open.CreatedAt === undefined) return undefined;
  return { createdAt: open.CreatedAt, firstObservedAt: open.FirstObservedAt ?? open.CreatedAt };
}

/** ASFF finding types: `namespace/category/classifier`. */
function typesOf(kind: FindingKind): string[] {
  if (kind === 'unverifiable') {
    return ['Software and Configuration Checks/AWS Security Best Practices/S3 Bucket Access Unverifiable'];
  }
  return [
    'Effects/Data Exposure/Public S3 Bucket',
    'Software and Configuration Checks/AWS Security Best Practices/S3 Block Public Access',
  ];
}

function titleOf(kind: FindingKind, outcome: BucketOutcome): string {
  const what = subjectWordsOf(outcome);
  switch (kind) {
    case 'remediated':
      return `registry-guard closed public ${what}`;
    case 'failed':
      return outcome.remediation?.stillPublic === true
        ? `${what} is STILL PUBLIC: registry-guard could not close it`
        : `registry-guard could not fully close ${what}`;
    case 'unverifiable':
      return `registry-guard could not verify ${what}: treat it as possibly public`;
  }
}

function descriptionOf(kind: FindingKind, outcome: BucketOutcome): string {
  const parts: string[] = [];
  if (kind === 'unverifiable') {
    parts.push(
      `The guard could not read ${outcome.wayIn === undefined ? "the bucket's" : 'its'} access settings (${outcome.unverifiable ?? 'unknown'}), so it is treated as possibly public.`,
    );
  } else if (outcome.reasons.length > 0) {
    parts.push(`What was public: ${outcome.reasons.join('; ')}.`);
  } else if (outcome.problems.length > 0) {
    parts.push(`Why it is non-compliant: ${outcome.problems.join('; ')}.`);
  }
  const remediation = outcome.remediation;
  if (remediation !== undefined) {
    parts.push(`What was done: ${remediation.actions.map(describeAction).join('; ')}.`);
    if (remediation.stillPublic) parts.push('STILL PUBLIC: the public can still reach it.');
  } else {
    parts.push('Nothing was changed.');
  }
  const evidence = remediation?.evidence;
  if (evidence !== undefined) parts.push(`Evidence: ${evidence.uri} (sha256 ${evidence.sha256}).`);
  return parts.join(' ');
}

/**
 * What to do next, at most {@link MAX_RECOMMENDATION_TEXT_LENGTH} characters. The restore command is never
 * cut: a command cut short is worse than none, so when it does not fit it is left to the notice.
 */
function recommendationOf(kind: FindingKind, outcome: BucketOutcome): string {
  const evidence = outcome.remediation?.evidence;
  if (outcome.remediation?.stillPublic === true) {
    return 'Close the bucket by hand now: turn on its Block Public Access and remove the public statements and grants (docs/runbook.md, "Still public").';
  }
  if (kind === 'unverifiable') {
    return 'Find out why the guard\'s role was refused or throttled and check the bucket by hand; treat it as public until then (docs/runbook.md, "When the guard may not read a bucket").';
  }
  const inNotice =
    'Check that the change was not intended; how to restore the previous settings is in the on-call notice (docs/runbook.md).';
  if (evidence === undefined) return inNotice;
  const command = restoreCommandFor(evidence);
  // A control character in it (from a version id S3 would never give) is not smoothed over: left out.
  if (oneLine(command) !== command) return inNotice;
  const withWords = `Only if the change was intended, put the previous settings back (a dry run; add --apply to change anything): ${command}`;
  if (withWords.length <= MAX_RECOMMENDATION_TEXT_LENGTH) return withWords;
  return command.length <= MAX_RECOMMENDATION_TEXT_LENGTH ? command : inNotice;
}

/** The partitions ASFF's Resource.Partition accepts; a Resource in another one goes without it. */
function isAsffPartition(partition: string): partition is Partition {
  return ['aws', 'aws-cn', 'aws-us-gov', 'aws-us-iso', 'aws-us-iso-b'].includes(partition);
}
