/**
 * The one context of an invocation: the clients, the settings, what triggered it and where, the clock, and
 * the facts read once and shared by every bucket (the account's Block Public Access, the registry ledger).
 * Every stage (read, decide, act, report, answer) takes it; none builds its own.
 */
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SNSClient } from '@aws-sdk/client-sns';
import { AccountBlockPublicAccessReading, readAccountBlockPublicAccess } from './read/account-state';
import { RegistryLedger } from './read/registry-ledger';
import { GuardSettings } from './settings';

/** The subset of a logger the guard uses; Powertools' `Logger` fits it. */
export interface GuardLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** The part of Lambda's context object the guard uses. */
export interface InvocationContext {
  /** Milliseconds left before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
  /** `arn:<partition>:lambda:<region>:<account>:function:<name>`: the guard's own account and Region. */
  readonly invokedFunctionArn?: string;
  readonly awsRequestId?: string;
}

/** What kind of event started the run; notices and dedupe differ for a sweep. */
export type TriggerKind =
  | 'config-change'
  | 'config-scheduled'
  | 'bucket-api-call'
  | 'account-api-call'
  | 'access-point-api-call'
  | 'multi-region-access-point-api-call'
  | 'object-acl-api-call'
  | 'account-block-public-access-request';

/** Everything a stage may need, for one invocation. */
export interface RunContext {
  readonly s3: S3Client;
  readonly s3Control: S3ControlClient;
  readonly config: ConfigServiceClient;
  readonly sns: SNSClient;
  /** Undefined when the handler was given none: findings are then logged as not sent. */
  readonly securityHub?: SecurityHubClient;
  readonly settings: GuardSettings;
  readonly logger: GuardLogger;
  /** What triggered the run, in words: `CloudTrail PutBucketPolicy at ...`. */
  readonly trigger: string;
  readonly triggerKind: TriggerKind;
  /** The guard's own account: events for any other are refused before this context exists. */
  readonly accountId: string;
  /** The guard's own Region (AWS_REGION, else the function's ARN); undefined only outside Lambda. */
  readonly region?: string;
  /** For CloudTrail events, who made the change. */
  readonly callerArn?: string;
  readonly now: () => Date;
  /** A short random id for each evidence object. */
  readonly newId: () => string;
  /** Milliseconds left in the invocation; Infinity outside Lambda. */
  readonly remainingMs: () => number;
  /** The account's Block Public Access, read once on first use and shared by every bucket. */
  readonly accountBlockPublicAccess: () => Promise<AccountBlockPublicAccessReading>;
  readonly registries: RegistryLedger;
}

/** What {@link createRunContext} needs besides what it derives. */
export type RunContextInput = Omit<RunContext, 'accountBlockPublicAccess' | 'registries'>;

/**
 * Builds the run's context; the account's Block Public Access is read lazily, once, and an unreadable
 * setting is logged once.
 *
 * @example
 * const run = createRunContext({ s3, s3Control, config, sns, settings, logger, trigger, triggerKind, accountId, region, now, newId, remainingMs });
 */
export function createRunContext(input: RunContextInput): RunContext {
  let accountReading: Promise<AccountBlockPublicAccessReading> | undefined;
  // Copied with their getters, not spread: the handler passes clients as getters so that a client is built
  // (and Config's or SNS's SDK loaded) only when a stage first uses it.
  const inputWithGetters = Object.defineProperties(
    {},
    Object.getOwnPropertyDescriptors(input),
  ) as RunContextInput;
  return Object.assign(inputWithGetters, {
    accountBlockPublicAccess: () => {
      accountReading ??= readAccountBlockPublicAccess(input.s3Control, input.accountId).then((reading) => {
        if (reading.status === 'unreadable') {
          input.logger.error(
            'Account-level Block Public Access could not be read: judging buckets without it',
            {
              accountId: input.accountId,
              error: reading.error,
            },
          );
        }
        return reading;
      });
      return accountReading;
    },
    registries: new RegistryLedger(input.s3, input.settings.evidenceBucket),
  });
}
