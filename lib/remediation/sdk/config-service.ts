/** The part of Config's SDK the guard uses; loaded through on-demand.ts, never imported for its values. */
export { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
