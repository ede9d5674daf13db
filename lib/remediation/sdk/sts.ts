/** The part of STS's SDK the guard uses; loaded through on-demand.ts, never imported for its values. */
export { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
