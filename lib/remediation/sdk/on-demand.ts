/**
 * The SDK clients that many events never use, loaded the first time one does: Config only for Config's
 * events, SNS only when a notice goes out, STS only outside Lambda (in Lambda the function's ARN names the
 * account). In the shipped bundle a `require` inside a function is evaluated when it runs, so an event that
 * needs none of them does not pay for evaluating them. SQS likewise, only when a sweep hands out work, and
 * Security Hub only when findings are on and a run has one to send or resolve. S3 and S3 Control are
 * imported as usual: every event that reads or changes anything needs both.
 *
 * Each module re-exports only what the guard uses, so the bundle still keeps just those commands.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as ConfigServiceSdk from './config-service';
import type * as SecurityHubSdk from './security-hub-sdk';
import type * as SnsSdk from './sns';
import type * as SqsSdk from './sqs';
import type * as StsSdk from './sts';

/** @example const { PutEvaluationsCommand } = configServiceSdk(); */
export function configServiceSdk(): typeof ConfigServiceSdk {
  return require('./config-service') as typeof ConfigServiceSdk;
}

/**
 * Only with SECURITY_HUB_FINDINGS on, and only once a run has a finding to send or to resolve.
 * @example const { BatchImportFindingsCommand } = securityHubSdk();
 */
export function securityHubSdk(): typeof SecurityHubSdk {
  // In the shipped handler this is a file of its own beside index.js (lib/guard/handler-bundle.ts).
  return require('./security-hub-sdk') as typeof SecurityHubSdk;
}

/** @example const { PublishCommand } = snsSdk(); */
export function snsSdk(): typeof SnsSdk {
  return require('./sns') as typeof SnsSdk;
}

/** @example const { SendMessageBatchCommand } = sqsSdk(); */
export function sqsSdk(): typeof SqsSdk {
  return require('./sqs') as typeof SqsSdk;
}

/** @example const { GetCallerIdentityCommand } = stsSdk(); */
export function stsSdk(): typeof StsSdk {
  return require('./sts') as typeof StsSdk;
}
