/**
 * The Lambda handler: validates the event, then hands each bucket (or the account) to plain functions and
 * delivers what they conclude: evaluations to AWS Config, notices to on-call, answers to CloudFormation,
 * structured logs.
 */
import { randomUUID } from 'crypto';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import {
  AccountBlockPublicAccessReading,
  memoizedCallerAccount,
  readAccountBlockPublicAccess,
} from './account-state';
import { describeError } from './aws-errors';
import { listBucketNames } from './bucket-list';
import {
  CloudFormationRequestIds,
  CloudFormationResponse,
  describeResponseUrl,
  sendCloudFormationResponse,
} from './cloudformation-response';
import { mapWithConcurrency } from './concurrency';
import { DeliveryError, InvalidCustomResourceRequestError } from './errors';
import { EvaluationBatcher, bucketEvaluation } from './evaluations';
import { AccountBlockPublicAccessRequestEvent, describeEvent, GuardEvent, parseGuardEvent } from './events';
import { AccountGuardContext, AccountOutcome, guardAccount } from './guard-account';
import {
  answerAccountBlockPublicAccess,
  answerDeletion,
  answerFailure,
  answerRejectedRequest,
  describeRejectedRequest,
} from './guard-account-deployment';
import { BucketGuardContext, guardBucket, notApplicable } from './guard-bucket';
import { composeAccountNotice, composeBucketNotice, Notice, NoticeContext, publishNotice } from './notice';
import { BucketOutcome, needsNotice, unverifiableOutcome } from './outcome';
import { GuardEnvironment, GuardMode, GuardSettings, readGuardSettings } from './settings';

/** Buckets judged at once during a sweep. */
export const DEFAULT_SWEEP_CONCURRENCY = 8;

/** The subset of a logger the guard uses; Powertools' `Logger` fits it. */
export interface GuardLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Everything the handler talks to, so tests can replace any of it. */
export interface GuardDependencies {
  readonly s3: S3Client;
  readonly s3Control: S3ControlClient;
  readonly config: ConfigServiceClient;
  readonly sns: SNSClient;
  readonly sts: STSClient;
  /** @default a logger that writes nothing */
  readonly logger?: GuardLogger;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Short id for evidence objects. @default the first 8 hex digits of a random UUID */
  readonly newId?: () => string;
  /** @default process.env, read on every invocation */
  readonly env?: GuardEnvironment;
  /** @default {@link DEFAULT_SWEEP_CONCURRENCY} */
  readonly concurrency?: number;
}

/** What one invocation did; Lambda ignores it, tests and callers read it. */
export interface GuardResult {
  /** What triggered the invocation, in words. */
  readonly trigger: string;
  readonly mode: GuardMode;
  /** One outcome per bucket looked at, in order. */
  readonly buckets: readonly BucketOutcome[];
  /** For account-level CloudTrail events and CloudFormation Create and Update requests. */
  readonly account?: AccountOutcome;
  /** For CloudFormation requests: the answer sent to the request's ResponseURL. */
  readonly cloudFormationResponse?: CloudFormationResponse;
  /** Evaluations AWS Config accepted. */
  readonly evaluationsSent: number;
  readonly noticesSent: number;
}

/** The Lambda entry point's type. */
export type GuardHandler = (event: unknown) => Promise<GuardResult>;

const SILENT_LOGGER: GuardLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Builds the handler around its dependencies. Clients are created by the caller, once per container.
 *
 * @throws InvalidEventError (before any AWS call) for an event it does not understand, unless it is a
 *   CloudFormation request it can still answer: that one is answered FAILED instead.
 * @throws DeliveryError after the work is done when an evaluation batch or a notice could not be delivered,
 *   or when the answer to a CloudFormation request could not be sent. Once CloudFormation has its answer
 *   the handler never throws: a retry would run again for a request already answered.
 * @example
 * const handler = createHandler({ s3, s3Control, config, sns, sts, env: { GUARD_MODE: 'report' } });
 * await handler(configEvent);
 */
export function createHandler(deps: GuardDependencies): GuardHandler {
  const logger = deps.logger ?? SILENT_LOGGER;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? (() => randomUUID().slice(0, 8));
  const concurrency = deps.concurrency ?? DEFAULT_SWEEP_CONCURRENCY;
  const callerAccount = memoizedCallerAccount(deps.sts);

  return async (rawEvent: unknown): Promise<GuardResult> => {
    let event: GuardEvent;
    try {
      event = parseGuardEvent(rawEvent);
    } catch (error) {
      logger.error(describeError(error), { event: preview(rawEvent) });
      if (!(error instanceof InvalidCustomResourceRequestError)) throw error;
      const settings = readGuardSettings(deps.env ?? process.env);
      const invocation = new Invocation(deps, logger, settings, describeRejectedRequest(error.request));
      await invocation.answerCloudFormation(error.request, answerRejectedRequest(error));
      return invocation.summarise();
    }
    const settings = readGuardSettings(deps.env ?? process.env);
    const trigger = describeEvent(event);
    if (settings.modeWarning !== undefined) logger.warn(settings.modeWarning, { trigger });
    const invocation = new Invocation(deps, logger, settings, trigger);
    const accountContext = (region: string, callerArn?: string): AccountGuardContext => ({
      s3: deps.s3,
      s3Control: deps.s3Control,
      mode: settings.mode,
      evidenceBucket: settings.evidenceBucket,
      now: now(),
      evidenceId: newId(),
      trigger,
      callerArn,
      region,
    });

    switch (event.kind) {
      case 'config-change': {
        invocation.expectEvaluations(event.resultToken, event.orderingTimestamp);
        if (event.notApplicableReason !== undefined) {
          const outcome = notApplicable(event.bucket, event.notApplicableReason);
          await invocation.deliver(outcome, { accountId: event.accountId, region: event.region });
          return invocation.finish();
        }
        const accountId = event.accountId ?? (await callerAccount());
        const context = invocation.bucketContext(
          accountId,
          event.region ?? settings.region,
          undefined,
          now,
          newId,
        );
        await invocation.deliver(await guardSafely(context, event.bucket), context);
        return invocation.finish();
      }
      case 'config-scheduled': {
        invocation.expectEvaluations(event.resultToken, event.orderingTimestamp);
        const accountId = event.accountId ?? (await callerAccount());
        const context = invocation.bucketContext(accountId, settings.region, undefined, now, newId);
        let buckets: string[];
        try {
          buckets = await listBucketNames(deps.s3, settings.region);
        } catch (error) {
          logger.error(`Sweep: ListBuckets failed: ${describeError(error)}`, { trigger });
          throw error;
        }
        logger.info('Sweeping buckets', { buckets: buckets.length, region: settings.region, trigger });
        await mapWithConcurrency(buckets, concurrency, async (bucket) => {
          await invocation.deliver(await guardSafely(context, bucket), context);
        });
        return invocation.finish();
      }
      case 'bucket-api-call': {
        const context = invocation.bucketContext(event.accountId, event.region, event.callerArn, now, newId);
        await invocation.deliver(await guardSafely(context, event.bucket), context);
        return invocation.finish();
      }
      case 'account-api-call': {
        const outcome = await guardAccount(accountContext(event.region, event.callerArn), event.accountId);
        await invocation.deliverAccount(outcome, { region: event.region, callerArn: event.callerArn });
        return invocation.finish();
      }
      case 'account-block-public-access-request': {
        const request = event;
        const response = await answerSafely(request, logger, async () => {
          // Delete reads and changes nothing: removing the guard never loosens access.
          if (request.requestType === 'Delete') return answerDeletion(request);
          const outcome = await guardAccount(accountContext(request.region), request.accountId);
          // On-call hears before CloudFormation does: should the answer fail, the retry finds the setting
          // already on and would never notify.
          await invocation.deliverAccount(outcome, { region: request.region });
          return answerAccountBlockPublicAccess(outcome, settings.mode);
        });
        await invocation.answerCloudFormation(request, response);
        return invocation.summarise();
      }
    }
  };
}

/**
 * A CloudFormation request gets an answer whatever goes wrong while serving it: a throw becomes FAILED
 * with the error as the reason, instead of a stack that waits an hour.
 */
async function answerSafely(
  request: AccountBlockPublicAccessRequestEvent,
  logger: GuardLogger,
  serve: () => Promise<CloudFormationResponse>,
): Promise<CloudFormationResponse> {
  try {
    return await serve();
  } catch (error) {
    logger.error(`Serving the CloudFormation request failed: ${describeError(error)}`, {
      stackId: request.stackId,
      requestId: request.requestId,
      requestType: request.requestType,
    });
    return answerFailure(request, error);
  }
}

/**
 * A bug met on one bucket must not stop a sweep, nor leave the bucket unreported: it becomes "could not
 * be verified", which is never COMPLIANT.
 */
async function guardSafely(context: BucketGuardContext, bucket: string): Promise<BucketOutcome> {
  try {
    return await guardBucket(context, bucket);
  } catch (error) {
    return unverifiableOutcome(bucket, `registry-guard failed on it: ${describeError(error)}`);
  }
}

/** One invocation's bookkeeping: outcomes, evaluations, notices and what failed to deliver. */
class Invocation {
  private readonly outcomes: BucketOutcome[] = [];
  private account: AccountOutcome | undefined;
  private cloudFormationResponse: CloudFormationResponse | undefined;
  private readonly failures: string[] = [];
  private noticesSent = 0;
  /** Set for AWS Config events: where evaluations go and the timestamp they carry. */
  private evaluations: { orderingTimestamp: Date; batcher: EvaluationBatcher } | undefined;

  constructor(
    private readonly deps: GuardDependencies,
    private readonly logger: GuardLogger,
    private readonly settings: GuardSettings,
    private readonly trigger: string,
  ) {}

  bucketContext(
    accountId: string,
    region: string | undefined,
    callerArn: string | undefined,
    now: () => Date,
    newId: () => string,
  ): BucketGuardContext {
    const accountBlockPublicAccess = readAccountBlockPublicAccess(this.deps.s3Control, accountId).then(
      (reading): AccountBlockPublicAccessReading => {
        if (reading.status === 'unreadable') {
          this.logger.error(
            'Account-level Block Public Access could not be read: judging buckets without it',
            {
              accountId,
              error: reading.error,
            },
          );
        }
        return reading;
      },
    );
    return {
      s3: this.deps.s3,
      mode: this.settings.mode,
      evidenceBucket: this.settings.evidenceBucket,
      now,
      newId,
      trigger: this.trigger,
      callerArn,
      accountId,
      region,
      accountBlockPublicAccess,
    };
  }

  /** AWS Config asked: every bucket delivered from now on gets an evaluation. */
  expectEvaluations(resultToken: string, orderingTimestamp: Date): void {
    this.evaluations = {
      orderingTimestamp,
      batcher: new EvaluationBatcher(this.deps.config, resultToken, this.logger),
    };
  }

  /** Records and logs one bucket's outcome, queues its evaluation when Config asked, notifies when needed. */
  async deliver(
    outcome: BucketOutcome,
    where: { accountId?: string; region?: string; callerArn?: string },
  ): Promise<void> {
    this.outcomes.push(outcome);
    this.logOutcome(outcome, where);
    if (this.evaluations !== undefined) {
      const { batcher, orderingTimestamp } = this.evaluations;
      await batcher.add(
        bucketEvaluation(outcome.bucket, outcome.compliance, outcome.annotation, orderingTimestamp),
      );
    }
    if (needsNotice(outcome)) {
      await this.notify(
        composeBucketNotice(outcome, this.noticeContext(where.accountId, where.region, where.callerArn)),
        { bucket: outcome.bucket },
      );
    }
  }

  async deliverAccount(
    outcome: AccountOutcome,
    where: { region?: string; callerArn?: string },
  ): Promise<void> {
    this.account = outcome;
    const failed = outcome.actions.some((action) => action.status === 'failed');
    const log = outcome.before.status === 'unreadable' || failed ? this.logger.error : this.logger.info;
    log.call(this.logger, 'Account-level Block Public Access checked', {
      accountId: outcome.accountId,
      before: outcome.before,
      settingsOff: outcome.settingsOff,
      actions: outcome.actions,
      trigger: this.trigger,
      callerArn: where.callerArn,
    });
    if (outcome.needsNotice) {
      await this.notify(
        composeAccountNotice(outcome, this.noticeContext(outcome.accountId, where.region, where.callerArn)),
        { accountId: outcome.accountId },
      );
    }
  }

  /**
   * Sends the answer to a CloudFormation request, once. When it cannot be sent, the request is still
   * unanswered: log it and throw {@link DeliveryError}, so Lambda retries and the DLQ and the handler-errors
   * alarm see it.
   */
  async answerCloudFormation(
    request: CloudFormationRequestIds,
    response: CloudFormationResponse,
  ): Promise<void> {
    const attributes = {
      status: response.status,
      reason: response.reason,
      physicalResourceId: response.physicalResourceId,
      data: response.data,
      stackId: request.stackId,
      requestId: request.requestId,
      logicalResourceId: request.logicalResourceId,
      responseUrl: describeResponseUrl(request.responseUrl),
      trigger: this.trigger,
    };
    try {
      await sendCloudFormationResponse(request, response);
    } catch (error) {
      const failure = `Answering CloudFormation ${response.status} failed: ${describeError(error)}`;
      this.logger.error(failure, attributes);
      throw new DeliveryError([failure]);
    }
    this.cloudFormationResponse = response;
    const log = response.status === 'FAILED' ? this.logger.error : this.logger.info;
    log.call(this.logger, `Answered CloudFormation ${response.status}`, attributes);
  }

  /** Sends the remaining evaluations; throws {@link DeliveryError} when anything could not be delivered. */
  async finish(): Promise<GuardResult> {
    let evaluationsSent = 0;
    if (this.evaluations !== undefined) {
      const delivery = await this.evaluations.batcher.flush();
      evaluationsSent = delivery.sent;
      this.failures.push(...delivery.failures);
    }
    const result = this.summarise(evaluationsSent);
    if (this.failures.length > 0) throw new DeliveryError(this.failures);
    return result;
  }

  /**
   * The result, logged, without throwing: what a CloudFormation request ends with once answered. A notice
   * that failed is already logged as an error; failing now would only make Lambda answer the request twice.
   */
  summarise(evaluationsSent = 0): GuardResult {
    const result: GuardResult = {
      trigger: this.trigger,
      mode: this.settings.mode,
      buckets: this.outcomes,
      account: this.account,
      cloudFormationResponse: this.cloudFormationResponse,
      evaluationsSent,
      noticesSent: this.noticesSent,
    };
    this.logger.info('Invocation finished', {
      trigger: this.trigger,
      mode: this.settings.mode,
      buckets: this.outcomes.length,
      nonCompliant: this.outcomes.filter((outcome) => outcome.compliance === 'NON_COMPLIANT').length,
      evaluationsSent,
      noticesSent: this.noticesSent,
      cloudFormationResponse: this.cloudFormationResponse?.status,
    });
    return result;
  }

  private noticeContext(accountId?: string, region?: string, callerArn?: string): NoticeContext {
    return {
      accountId,
      region,
      mode: this.settings.mode,
      modeWarning: this.settings.modeWarning,
      trigger: this.trigger,
      callerArn,
    };
  }

  private async notify(notice: Notice, keys: Record<string, string>): Promise<void> {
    const topicArn = this.settings.notifyTopicArn;
    if (topicArn === undefined) {
      this.logger.warn('NOTIFY_TOPIC_ARN is not set: the notice is only logged', { ...keys, notice });
      return;
    }
    try {
      await publishNotice(this.deps.sns, topicArn, notice);
      this.noticesSent += 1;
    } catch (error) {
      const failure = `Publishing the notice "${notice.subject}" to ${topicArn} failed: ${describeError(error)}`;
      this.failures.push(failure);
      this.logger.error(failure, { ...keys, notice });
    }
  }

  private logOutcome(outcome: BucketOutcome, where: { accountId?: string; region?: string }): void {
    const attributes = {
      bucket: outcome.bucket,
      accountId: where.accountId,
      region: where.region,
      compliance: outcome.compliance,
      registry: outcome.isRegistry,
      annotation: outcome.annotation,
      reasons: outcome.reasons,
      actions: outcome.remediation?.actions,
      evidence: outcome.remediation?.evidenceUri,
      // One log line with `remediated: true` per bucket changed: the construct counts them into a metric.
      remediated:
        outcome.remediation?.actions.some(
          (action) => action.kind !== 'evidence' && action.status === 'done',
        ) ?? false,
      loop: outcome.remediation?.loop,
      trigger: this.trigger,
      mode: this.settings.mode,
    };
    const failed = outcome.remediation?.actions.some((action) => action.status === 'failed') ?? false;
    if (outcome.unverifiable !== undefined) {
      this.logger.error('Bucket could not be verified', { ...attributes, error: outcome.unverifiable });
    } else if (failed) {
      this.logger.error('Remediation failed', attributes);
    } else if (outcome.compliance === 'NON_COMPLIANT') {
      this.logger.warn('Bucket non-compliant', attributes);
    } else {
      this.logger.info('Bucket checked', attributes);
    }
  }
}

/** Enough of a rejected event to recognise it in the logs; the DLQ holds the whole of it. */
function preview(event: unknown): string {
  try {
    const text = JSON.stringify(event) ?? String(event);
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  } catch {
    return String(event);
  }
}
