/** The part of SNS's SDK the guard uses; loaded through on-demand.ts, never imported for its values. */
export { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
