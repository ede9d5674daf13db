/**
 * Puts the three judgements together for one bucket: is it public right now, and through what?
 * A public policy has no effect while RestrictPublicBuckets is on, and a public ACL none while
 * IgnorePublicAcls is on, whether the bucket or its account sets them.
 */
import { AclVerdict, judgeAcl } from './acl';
import {
  BLOCK_PUBLIC_ACCESS_SETTINGS,
  BlockPublicAccessSetting,
  BlockPublicAccessVerdict,
  judgeBlockPublicAccess,
} from './block-public-access';
import { judgePolicy, PolicyVerdict } from './policy';
import { TemplateContext } from './policy-values';

/**
 * What is known about a bucket's access settings. Leave out what the bucket does not have.
 *
 * @jsii ignore TypeScript only: the input of a TypeScript-only function
 */
export interface BucketAccessState {
  /** The bucket policy: a JSON string, a parsed document, or a template's `PolicyDocument`. */
  readonly policy?: unknown;
  /** The bucket ACL in any shape {@link judgeAcl} reads. */
  readonly acl?: unknown;
  /** The bucket's own Block Public Access configuration. */
  readonly bucketBlockPublicAccess?: unknown;
  /** The account's Block Public Access configuration, when known. */
  readonly accountBlockPublicAccess?: unknown;
  /** The template's parameters, for a policy read from a template. */
  readonly context?: TemplateContext;
}

/** Where a Block Public Access setting that neutralises a public grant is set. */
export type NeutralisingLevel = 'bucket' | 'account';

/**
 * The judgement of one bucket.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface BucketExposure {
  /** True when the public can reach the bucket through its policy or its ACL today. */
  readonly isPublic: boolean;
  /** True when the policy or ACL is public, whether or not Block Public Access neutralises it. */
  readonly hasPublicGrant: boolean;
  readonly policy: PolicyVerdict;
  readonly acl: AclVerdict;
  readonly bucketBlockPublicAccess: BlockPublicAccessVerdict;
  readonly accountBlockPublicAccess?: BlockPublicAccessVerdict;
  /** Settings on at bucket or account level: what S3 enforces. */
  readonly effectiveBlockPublicAccess: BlockPublicAccessVerdict;
  /** A public policy that RestrictPublicBuckets currently neutralises. */
  readonly policyNeutralised: boolean;
  /**
   * Which level's RestrictPublicBuckets neutralises the public policy: `bucket` whenever the bucket sets it
   * (it holds whatever the account does), `account` when only the account does. Undefined when not neutralised.
   */
  readonly policyNeutralisedBy?: NeutralisingLevel;
  /** A public ACL that IgnorePublicAcls currently neutralises. */
  readonly aclNeutralised: boolean;
  /** Which level's IgnorePublicAcls neutralises the public ACL, as for {@link BucketExposure.policyNeutralisedBy}. */
  readonly aclNeutralisedBy?: NeutralisingLevel;
  /** One sentence per way in, for people. Empty when nothing is public. */
  readonly reasons: readonly string[];
}

/**
 * Judges a bucket from its policy, ACL and Block Public Access settings.
 *
 * @example
 * const exposure = judgeBucketExposure({
 *   policy: '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}',
 *   bucketBlockPublicAccess: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true },
 * });
 * exposure.isPublic; // true: RestrictPublicBuckets is off, so the public policy is in force
 */
export function judgeBucketExposure(state: BucketAccessState): BucketExposure {
  const policy = judgePolicy(state.policy, { kind: 'bucket', context: state.context });
  const acl = state.acl === undefined ? { isPublic: false, publicGrants: [] } : judgeAcl(state.acl);
  const bucketBlockPublicAccess = judgeBlockPublicAccess(state.bucketBlockPublicAccess);
  const accountBlockPublicAccess =
    state.accountBlockPublicAccess === undefined
      ? undefined
      : judgeBlockPublicAccess(state.accountBlockPublicAccess);
  const effectiveBlockPublicAccess = combine(bucketBlockPublicAccess, accountBlockPublicAccess);
  const levels = { bucket: bucketBlockPublicAccess, account: accountBlockPublicAccess };
  const policyNeutralisedBy = policy.isPublic
    ? neutralisingLevel(levels, 'RestrictPublicBuckets')
    : undefined;
  const aclNeutralisedBy = acl.isPublic ? neutralisingLevel(levels, 'IgnorePublicAcls') : undefined;
  const policyNeutralised = policyNeutralisedBy !== undefined;
  const aclNeutralised = aclNeutralisedBy !== undefined;
  const reasons: string[] = [];
  for (const statement of policy.publicStatements) {
    const note =
      policyNeutralisedBy === undefined
        ? ''
        : ` (neutralised by ${policyNeutralisedBy}-level RestrictPublicBuckets)`;
    reasons.push(`bucket policy ${statement.label}: ${statement.reason}${note}`);
  }
  if (acl.unreadable !== undefined) {
    const note =
      aclNeutralisedBy === undefined ? '' : ` (neutralised by ${aclNeutralisedBy}-level IgnorePublicAcls)`;
    reasons.push(`ACL: ${acl.unreadable}${note}`);
  }
  for (const grant of acl.publicGrants) {
    const note =
      aclNeutralisedBy === undefined ? '' : ` (neutralised by ${aclNeutralisedBy}-level IgnorePublicAcls)`;
    reasons.push(`ACL grants ${grant.permission} to ${grant.grantee}${note}`);
  }
  return {
    isPublic: (policy.isPublic && !policyNeutralised) || (acl.isPublic && !aclNeutralised),
    hasPublicGrant: policy.isPublic || acl.isPublic,
    policy,
    acl,
    bucketBlockPublicAccess,
    accountBlockPublicAccess,
    effectiveBlockPublicAccess,
    policyNeutralised,
    policyNeutralisedBy,
    aclNeutralised,
    aclNeutralisedBy,
    reasons,
  };
}

/** The bucket's own setting is named first: it neutralises whatever the account does. */
function neutralisingLevel(
  levels: { bucket: BlockPublicAccessVerdict; account: BlockPublicAccessVerdict | undefined },
  setting: BlockPublicAccessSetting,
): NeutralisingLevel | undefined {
  if (levels.bucket.settingsOn.includes(setting)) return 'bucket';
  if (levels.account?.settingsOn.includes(setting) === true) return 'account';
  return undefined;
}

function combine(
  bucket: BlockPublicAccessVerdict,
  account: BlockPublicAccessVerdict | undefined,
): BlockPublicAccessVerdict {
  if (account === undefined) return bucket;
  const settingsOn = BLOCK_PUBLIC_ACCESS_SETTINGS.filter(
    (setting) => bucket.settingsOn.includes(setting) || account.settingsOn.includes(setting),
  );
  const settingsOff = BLOCK_PUBLIC_ACCESS_SETTINGS.filter((setting) => !settingsOn.includes(setting));
  return { allOn: settingsOff.length === 0, settingsOn, settingsOff };
}
