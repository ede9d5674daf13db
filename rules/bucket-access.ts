/**
 * What a template says about one bucket's ways in: its public policy statements, its ACL in every branch,
 * and the Block Public Access and ownership settings that would refuse or neutralise them. Shared by the
 * public-access rules so each bucket is judged once, whichever rule asks first.
 */
import { AclVerdict, judgeBlockPublicAccess, judgeCannedAcl, judgePolicy } from '../lib/exposure';
import { BlockPublicAccessSetting, BLOCK_PUBLIC_ACCESS_SETTINGS } from '../lib/exposure/block-public-access';
import { ABSENT, alternativesOf, intrinsicName } from '../lib/exposure/policy-values';
import { fieldsOf, isRegistryBucket, listOf, TemplateIndex, TemplateResource } from './template-model';

/** A public statement of a policy attached to the bucket, named for the finding. */
export interface PublicPolicyStatement {
  /** `BucketPolicy statement 1 (Sid "Public"): Principal "*" is everyone, ...`. */
  readonly text: string;
}

/** A public grant of the bucket's `AccessControl`, or why it cannot be read. */
export interface PublicAclGrant {
  readonly text: string;
}

/** One bucket's ways in and what would stop them, judged once per template. */
export interface BucketAccess {
  readonly isRegistry: boolean;
  readonly publicStatements: readonly PublicPolicyStatement[];
  readonly publicGrants: readonly PublicAclGrant[];
  /**
   * The setting of the bucket's own Block Public Access that keeps its policy from ever being public
   * (`BlockPublicPolicy` refuses it, `RestrictPublicBuckets` neutralises it), when one is on in every branch.
   */
  readonly policyStoppedBy?: BlockPublicAccessSetting;
  /** Likewise for the ACL: `BlockPublicAcls`, `IgnorePublicAcls`, or `BucketOwnerEnforced` (ACLs disabled). */
  readonly aclStoppedBy?: BlockPublicAccessSetting | 'BucketOwnerEnforced';
}

const judged = new WeakMap<TemplateResource, BucketAccess>();

/** The access of one `AWS::S3::Bucket` of the template. */
export function bucketAccessOf(bucket: TemplateResource, index: TemplateIndex): BucketAccess {
  let access = judged.get(bucket);
  if (access === undefined) {
    access = judgeBucket(bucket, index);
    judged.set(bucket, access);
  }
  return access;
}

function judgeBucket(bucket: TemplateResource, index: TemplateIndex): BucketAccess {
  const settingsOn = blockPublicAccessOnInEveryBranch(
    bucket.properties.PublicAccessBlockConfiguration,
    index,
  );
  const policyStoppedBy = (['BlockPublicPolicy', 'RestrictPublicBuckets'] as const).find((setting) =>
    settingsOn.has(setting),
  );
  const aclSetting = (['BlockPublicAcls', 'IgnorePublicAcls'] as const).find((setting) =>
    settingsOn.has(setting),
  );
  return {
    isRegistry: isRegistryBucket(bucket),
    publicStatements: index
      .bucketPolicies(bucket.logicalId)
      .flatMap((policy) => publicStatementsOfPolicy(policy, index)),
    publicGrants: publicGrantsOfAccessControl(bucket.properties.AccessControl, index),
    policyStoppedBy,
    aclStoppedBy: aclSetting ?? (aclsDisabled(bucket, index) ? 'BucketOwnerEnforced' : undefined),
  };
}

/** The public statements of one `AWS::S3::BucketPolicy`, each named with the policy's logical id. */
export function publicStatementsOfPolicy(
  policy: TemplateResource,
  index: TemplateIndex,
): PublicPolicyStatement[] {
  return judgePolicy(policy.properties.PolicyDocument, {
    kind: 'bucket',
    context: index,
  }).publicStatements.map((statement) => ({
    text: `${policy.logicalId} ${statement.label}: ${statement.reason}`,
  }));
}

/** Public grants of a template's `AccessControl`, in every branch; a value built at deploy time is unreadable. */
function publicGrantsOfAccessControl(accessControl: unknown, index: TemplateIndex): PublicAclGrant[] {
  const grants: PublicAclGrant[] = [];
  for (const alternative of alternativesOf(accessControl, index)) {
    if (alternative.value === ABSENT || alternative.value === undefined) continue;
    const when = alternative.when === '' ? '' : ` ${alternative.when}`;
    const verdict = readCannedAcl(alternative.value);
    if (verdict.unreadable !== undefined)
      grants.push({ text: `AccessControl${when}: ${verdict.unreadable}` });
    for (const grant of verdict.publicGrants) {
      grants.push({
        text: `AccessControl ${grant.source}${when} grants ${grant.permission} to ${grant.grantee}`,
      });
    }
  }
  return grants;
}

function readCannedAcl(value: unknown): AclVerdict {
  if (typeof value === 'string') return judgeCannedAcl(value);
  const builtBy = intrinsicName(value);
  const why =
    builtBy === undefined
      ? 'AccessControl is not a canned ACL name, so it cannot be shown to be private'
      : `AccessControl is chosen at deploy time (${builtBy}), so it cannot be shown to be private`;
  return { isPublic: true, publicGrants: [], unreadable: why };
}

/** The settings that are on in every branch of a `PublicAccessBlockConfiguration`. */
function blockPublicAccessOnInEveryBranch(
  configuration: unknown,
  index: TemplateIndex,
): ReadonlySet<BlockPublicAccessSetting> {
  let settingsOn = new Set<BlockPublicAccessSetting>(BLOCK_PUBLIC_ACCESS_SETTINGS);
  for (const alternative of alternativesOf(configuration, index)) {
    const value = alternative.value === ABSENT ? undefined : alternative.value;
    const onHere = new Set(judgeBlockPublicAccess(value).settingsOn);
    settingsOn = new Set([...settingsOn].filter((setting) => onHere.has(setting)));
  }
  return settingsOn;
}

/** `OwnershipControls` with `BucketOwnerEnforced` in every branch: ACLs are disabled and grant nothing. */
function aclsDisabled(bucket: TemplateResource, index: TemplateIndex): boolean {
  return alternativesOf(bucket.properties.OwnershipControls, index).every(({ value }) =>
    listOf(fieldsOf(value).Rules).some((rule) => fieldsOf(rule).ObjectOwnership === 'BucketOwnerEnforced'),
  );
}
