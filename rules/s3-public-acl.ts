import { bucketAccessOf } from './bucket-access';
import { RegistryGuardRule, RuleLevel } from './rule';

/** Every bucket: no canned ACL, in any branch, may grant to AllUsers or AuthenticatedUsers. */
export const S3PublicAcl: RegistryGuardRule = {
  name: 'S3PublicAcl',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::S3::Bucket'],
  info: 'The S3 bucket ACL grants access to the public.',
  explanation:
    'AccessControl PublicRead, PublicReadWrite or AuthenticatedRead grants to AllUsers or AuthenticatedUsers (any AWS ' +
    'account); an AccessControl chosen at deploy time cannot be shown to be private. Remove AccessControl and set ' +
    'OwnershipControls to BucketOwnerEnforced so ACLs are disabled. On an ordinary bucket whose own BlockPublicAcls ' +
    'or IgnorePublicAcls is on, or whose ACLs are disabled, the finding is RegistryGuard-S3PublicAclBlocked instead.',
  check(bucket, index) {
    const access = bucketAccessOf(bucket, index);
    if (!access.isRegistry && access.aclStoppedBy !== undefined) return [];
    return access.publicGrants.map((grant) => grant.text);
  },
};

/** Ordinary buckets: a public ACL that the bucket's own settings refuse or neutralise. */
export const S3PublicAclBlocked: RegistryGuardRule = {
  name: 'S3PublicAclBlocked',
  level: RuleLevel.WARNING,
  resourceTypes: ['AWS::S3::Bucket'],
  info: "The S3 bucket ACL grants access to the public, but the bucket's own settings stop it.",
  explanation:
    'With BlockPublicAcls on (or ACLs disabled by BucketOwnerEnforced), S3 refuses the public ACL and the deployment ' +
    'fails; with IgnorePublicAcls on, the grant has no effect. Remove AccessControl.',
  check(bucket, index) {
    const access = bucketAccessOf(bucket, index);
    if (access.isRegistry || access.aclStoppedBy === undefined) return [];
    return access.publicGrants.map(
      (grant) => `${grant.text} (stopped by the bucket's ${access.aclStoppedBy})`,
    );
  },
};
