/**
 * The part of Security Hub's SDK the guard uses; loaded through on-demand.ts, never imported for its values.
 * The shipped handler carries it as a file of its own beside index.js (lib/guard/handler-bundle.ts): its
 * models are large, and only a guard with Security Hub findings on ever loads them.
 */
export {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
