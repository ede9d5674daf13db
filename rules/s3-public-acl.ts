import { judgeCannedAcl } from '../lib/exposure';
import { RegistryGuardRule } from './rule';

/** Every bucket: no canned ACL may grant to AllUsers or AuthenticatedUsers. */
export const S3PublicAcl: RegistryGuardRule = {
  name: 'S3PublicAcl',
  level: 'error',
  resourceTypes: ['AWS::S3::Bucket'],
  info: 'The S3 bucket ACL grants access to the public.',
  explanation:
    'AccessControl PublicRead, PublicReadWrite or AuthenticatedRead grants to AllUsers or AuthenticatedUsers (any AWS ' +
    'account). Remove AccessControl and set OwnershipControls to BucketOwnerEnforced so ACLs are disabled.',
  check(bucket) {
    const accessControl = bucket.properties.AccessControl;
    if (accessControl === undefined) return [];
    if (typeof accessControl !== 'string')
      return ['AccessControl is not a plain canned ACL name, so it cannot be shown to be private'];
    return judgeCannedAcl(accessControl).publicGrants.map(
      (grant) => `AccessControl ${accessControl} grants ${grant.permission} to ${grant.grantee}`,
    );
  },
};
