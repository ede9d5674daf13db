/**
 * Computes the narrowest change that closes a registry bucket's policy or ACL: only what the exposure
 * judgement names as public goes; every other statement and grant stays as it was. Pure.
 */
import { Grant } from '@aws-sdk/client-s3';
import { judgeAcl, judgePolicy, PublicGrant, PublicStatement } from '../../exposure';
import { BucketAcl } from '../read/bucket-state';

/** What to do with a bucket policy. */
export type PolicyRewrite =
  | { readonly kind: 'unchanged' }
  /** Write `policy`: the original document with only the public statements removed. */
  | {
      readonly kind: 'replace';
      readonly policy: string;
      readonly removed: readonly PublicStatement[];
      readonly keptStatements: number;
    }
  /** Every statement was public: delete the policy. */
  | { readonly kind: 'delete'; readonly removed: readonly PublicStatement[] }
  /** The policy cannot be taken apart statement by statement: a person must look. */
  | { readonly kind: 'impossible'; readonly why: string };

/**
 * Removes the statements {@link judgePolicy} finds public from a policy as S3 returned it (a bucket's, or
 * with `kind` `accessPoint` an access point's, where `s3:DataAccessPointArn` conditions count). The rest of the
 * document (`Version`, `Id`, every other statement) is kept as parsed.
 *
 * @example
 * const rewrite = policyWithoutPublicStatements(JSON.stringify({
 *   Version: '2012-10-17',
 *   Statement: [
 *     { Sid: 'Public', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::roll/*' },
 *     { Sid: 'Auditors', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/Audit' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::roll/*' },
 *   ],
 * }));
 * // { kind: 'replace', policy: '{"Version":"2012-10-17","Statement":[{"Sid":"Auditors",...}]}', ... }
 */
export function policyWithoutPublicStatements(
  policyText: string | undefined,
  kind: 'bucket' | 'accessPoint' = 'bucket',
): PolicyRewrite {
  const verdict = judgePolicy(policyText, { kind });
  if (!verdict.isPublic || policyText === undefined) return { kind: 'unchanged' };
  const unreadable = verdict.publicStatements.find((statement) => statement.index < 0);
  if (unreadable !== undefined) return { kind: 'impossible', why: unreadable.reason };
  const document = JSON.parse(policyText) as Record<string, unknown>;
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const publicIndexes = new Set(verdict.publicStatements.map((statement) => statement.index));
  const kept = statements.filter((_statement, index) => !publicIndexes.has(index));
  if (kept.length === 0) return { kind: 'delete', removed: verdict.publicStatements };
  return {
    kind: 'replace',
    policy: JSON.stringify({ ...document, Statement: kept }),
    removed: verdict.publicStatements,
    keptStatements: kept.length,
  };
}

/** What to do with a bucket ACL. */
export interface AclRewrite {
  /** True when at least one grant is public and must go. */
  readonly changed: boolean;
  /** The ACL to write: the same owner, every grant that is not public. */
  readonly acl: { readonly Owner?: BucketAcl['Owner']; readonly Grants: Grant[] };
  readonly removed: readonly PublicGrant[];
}

/**
 * Removes the grants {@link judgeAcl} finds public (to AllUsers or AuthenticatedUsers); keeps the owner and
 * every other grant, LogDelivery included.
 *
 * @example
 * aclWithoutPublicGrants({
 *   Owner: { ID: 'owner' },
 *   Grants: [
 *     { Grantee: { Type: 'CanonicalUser', ID: 'owner' }, Permission: 'FULL_CONTROL' },
 *     { Grantee: { Type: 'Group', URI: 'http://acs.amazonaws.com/groups/global/AllUsers' }, Permission: 'READ' },
 *   ],
 * }).acl.Grants.length; // 1
 */
export function aclWithoutPublicGrants(acl: BucketAcl): AclRewrite {
  const kept: Grant[] = [];
  const removed: PublicGrant[] = [];
  for (const grant of acl.Grants ?? []) {
    // A grant the judgement cannot read is kept: the guard removes only what it can name as public, and
    // Block Public Access (IgnorePublicAcls) neutralises the rest; verification then reports it unverified.
    const { publicGrants } = judgeAcl([grant]);
    if (publicGrants.length > 0) removed.push(...publicGrants);
    else kept.push(grant);
  }
  return { changed: removed.length > 0, acl: { Owner: acl.Owner, Grants: kept }, removed };
}
