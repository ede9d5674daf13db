/** The part of SQS's SDK the guard uses; loaded through on-demand.ts, never imported for its values. */
export { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
