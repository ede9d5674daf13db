import { judgePolicy } from '../lib/exposure';
import { RegistryGuardRule } from './rule';

/** Every bucket: no attached bucket policy may grant access to the public. */
export const S3PublicPolicy: RegistryGuardRule = {
  name: 'S3PublicPolicy',
  level: 'error',
  resourceTypes: ['AWS::S3::Bucket'],
  info: 'The S3 bucket policy grants access to the public.',
  explanation:
    'A statement allows a principal that is not fixed ("*", a wildcard, NotPrincipal) without a condition that ' +
    'limits access to fixed values of aws:SourceVpce, aws:SourceIp (a CIDR of /8 or narrower), aws:PrincipalOrgID ' +
    'or another key from the S3 User Guide\'s "The meaning of public". Grant to named principals, or add such a condition.',
  check(bucket, index) {
    const problems: string[] = [];
    for (const policy of index.bucketPolicies(bucket.logicalId)) {
      const verdict = judgePolicy(policy.properties.PolicyDocument, { kind: 'bucket', context: index });
      for (const statement of verdict.publicStatements) {
        problems.push(`${policy.logicalId} ${statement.label}: ${statement.reason}`);
      }
    }
    return problems;
  },
};
