import { bucketAccessOf, publicStatementsOfPolicy } from './bucket-access';
import { RegistryGuardRule, RuleLevel } from './rule';

/**
 * Every bucket policy: no statement may grant access to the public. Reported on the bucket it is attached
 * to; a policy whose bucket this template does not define (a name, an import) is reported on itself.
 */
export const S3PublicPolicy: RegistryGuardRule = {
  name: 'S3PublicPolicy',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy'],
  info: 'The S3 bucket policy grants access to the public.',
  explanation:
    'A statement allows a principal that is not fixed ("*", a wildcard, NotPrincipal, a federated identity provider, ' +
    'a value unknown before deployment) without a condition that limits access to fixed values of aws:SourceVpce, ' +
    'aws:SourceIp (a CIDR of /8 or narrower), aws:PrincipalOrgID or another key from the S3 User Guide\'s "The ' +
    'meaning of public". Grant to named principals, or add such a condition. On an ordinary bucket whose own ' +
    'BlockPublicPolicy or RestrictPublicBuckets is on, the finding is RegistryGuard-S3PublicPolicyBlocked instead.',
  check(resource, index) {
    if (resource.type === 'AWS::S3::BucketPolicy') {
      if (index.bucketLogicalId(resource.properties.Bucket) !== undefined) return [];
      return publicStatementsOfPolicy(resource, index).map(
        (statement) => `${statement.text} (attached to a bucket this template does not define)`,
      );
    }
    const access = bucketAccessOf(resource, index);
    if (!access.isRegistry && access.policyStoppedBy !== undefined) return [];
    return access.publicStatements.map((statement) => statement.text);
  },
};

/** Ordinary buckets: a public policy that the bucket's own Block Public Access refuses or neutralises. */
export const S3PublicPolicyBlocked: RegistryGuardRule = {
  name: 'S3PublicPolicyBlocked',
  level: RuleLevel.WARNING,
  resourceTypes: ['AWS::S3::Bucket'],
  info: "The S3 bucket policy grants access to the public, but the bucket's Block Public Access stops it.",
  explanation:
    'With BlockPublicPolicy on, S3 refuses to attach a public policy, so the deployment fails; with ' +
    "RestrictPublicBuckets on, a public policy admits only AWS services and the bucket owner's account. Either way " +
    'the statement does not do what it says (and one attached by an earlier deployment stays until removed): ' +
    'remove it, or grant to named principals.',
  check(bucket, index) {
    const access = bucketAccessOf(bucket, index);
    if (access.isRegistry || access.policyStoppedBy === undefined) return [];
    return access.publicStatements.map(
      (statement) => `${statement.text} (stopped by the bucket's ${access.policyStoppedBy})`,
    );
  },
};
