/**
 * The access settings every bucket the kit creates shares, whatever it holds: registry data, access logs,
 * evidence or the guard's code. One definition, so tightening the baseline tightens every bucket.
 */
import * as s3 from 'aws-cdk-lib/aws-s3';

/** Nobody outside the account by policy or ACL, no ACLs at all, TLS 1.2 or later only, every version kept. */
export const LOCKED_DOWN_BUCKET_ACCESS = {
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  versioned: true,
} as const satisfies Partial<s3.BucketProps>;
