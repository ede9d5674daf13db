/**
 * The Lambda handler: validates the event, checks it is for this account and Region, builds the run's one
 * context, and hands it to the function for its kind (lib/remediation/triggers). The stages those use are
 * folders: read/, decide/, act/, report/, answer/.
 */
import { randomUUID } from 'crypto';
import type { ConfigServiceClient } from '@aws-sdk/client-config-service';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import { answerRejectedRequest, describeRejectedRequest } from './answer/guard-account-deployment';
import { describeError } from './aws-errors';
import { InvalidCustomResourceRequestError } from './errors';
import { describeEvent, GuardEvent, parseGuardEvent } from './events';
import { memoizedCallerAccount } from './read/account-state';
import { GuardResult, RunReport } from './report/run-report';
import { createRunContext, GuardLogger, InvocationContext, RunContext } from './run-context';
import { GuardEnvironment, GuardSettings, readGuardSettings } from './settings';
import {
  onAccessPointApiCall,
  onMultiRegionAccessPointApiCall,
  onObjectAclApiCall,
} from './triggers/other-ways-in';
import { onAccountApiCall } from './triggers/account-api-call';
import {
  answerCloudFormation,
  onAccountBlockPublicAccessRequest,
} from './triggers/account-block-public-access-request';
import { onBucketApiCall } from './triggers/bucket-api-call';
import { onConfigChange } from './triggers/config-change';
import { DEFAULT_SWEEP_CONCURRENCY, onConfigSweep } from './triggers/config-sweep';
import { isSqsEvent, onSweepQueueEvent } from './triggers/sweep-queue';
import { DEFAULT_SWEEP_TUNING, SweepTuning } from './sweep/fan-out';
import { SweepQueue } from './sweep/sweep-queue';

export { DEFAULT_SWEEP_CONCURRENCY } from './triggers/config-sweep';
export type { GuardLogger, InvocationContext } from './run-context';
export type { GuardResult } from './report/run-report';

/**
 * Everything the handler talks to, so tests can replace any of it. A client is read only when an event needs
 * it, so it may be a getter that builds the client on first access, as `defaultDeps` (clients.ts) does.
 */
export interface GuardDependencies {
  readonly s3: S3Client;
  readonly s3Control: S3ControlClient;
  readonly config: ConfigServiceClient;
  readonly sns: SNSClient;
  readonly sts: STSClient;
  /**
   * The sweep queue's client, read only when SWEEP_QUEUE_URL is set and a sweep sends to it.
   * @default none: a sweep with SWEEP_QUEUE_URL set fails, saying so
   */
  readonly sqs?: SQSClient;
  /**
   * Security Hub's client, read only when SECURITY_HUB_FINDINGS is on and a run has a finding to send or to
   * resolve.
   * @default none: with SECURITY_HUB_FINDINGS on, findings are logged as not sent, and nothing else changes
   */
  readonly securityHub?: SecurityHubClient;
  /** How a fanned-out sweep divides and paces its work. @default {@link DEFAULT_SWEEP_TUNING} */
  readonly sweepTuning?: Partial<SweepTuning>;
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
  /**
   * Which custom-resource ResponseURLs may be answered. Only tests widen it (to a loopback server).
   * @default https CloudFormation response URLs on Amazon S3 hosts
   */
  readonly isTrustedResponseUrl?: (url: URL, stackRegion?: string) => boolean;
  /** Pending notices younger than this are left to the invocation that wrote them. @default 30 s */
  readonly pendingNoticeMinAgeMs?: number;
}

/** The Lambda entry point's type: Lambda passes its context; callers outside Lambda may leave it out. */
export type GuardHandler = (event: unknown, context?: InvocationContext) => Promise<GuardResult>;

const SILENT_LOGGER: GuardLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Builds the handler around its dependencies. Clients are created by the caller, once per container.
 *
 * @throws InvalidEventError (before any AWS call) for an event it does not understand, unless it is a
 *   CloudFormation request it can still answer: that one is answered FAILED instead.
 * @throws DeliveryError after the work is done when an evaluation batch or a notice could not be delivered
 *   (the notice is kept and delivered by the next invocation), or when the answer to a CloudFormation request
 *   could not be sent. Once CloudFormation has its answer the handler never throws.
 * @throws StillPublicError after evaluations and notices went out, when a bucket it acted on is still public.
 *
 * An SQS event (the sweep queue's, through the event source mapping) never throws: each record that fails,
 * or is refused, is logged and returned in `batchItemFailures`, so SQS delivers it again alone.
 * @example
 * const handler = createHandler({ s3, s3Control, config, sns, sts, env: { GUARD_MODE: 'report' } });
 * await handler(configEvent);
 */
export function createHandler(deps: GuardDependencies): GuardHandler {
  const logger = deps.logger ?? SILENT_LOGGER;
  const now = deps.now ?? (() => new Date());
  const newId = deps.newId ?? (() => randomUUID().slice(0, 8));
  // Made on first use: in Lambda the function's ARN names the account, and STS is never built nor loaded.
  let callerAccount: (() => Promise<string>) | undefined;
  // Sweeps whose start record this container has checked: one read per sweep, not one per batch.
  const checkedSweeps = new Set<string>();
  const tuning: SweepTuning = {
    ...DEFAULT_SWEEP_TUNING,
    concurrency: deps.concurrency ?? DEFAULT_SWEEP_TUNING.concurrency,
    ...deps.sweepTuning,
  };

  return async (rawEvent: unknown, lambdaContext?: InvocationContext): Promise<GuardResult> => {
    addLambdaContext(logger, lambdaContext);
    const settings = readGuardSettings(deps.env ?? process.env);
    const own = async (): Promise<{ accountId: string; region: string | undefined }> => ({
      accountId:
        accountOfFunction(lambdaContext) ?? (await (callerAccount ??= memoizedCallerAccount(deps.sts))()),
      region: settings.region ?? regionOfFunction(lambdaContext),
    });
    const runFor = (
      trigger: string,
      triggerKind: RunContext['triggerKind'],
      accountId: string,
      region: string | undefined,
      callerArn?: string,
    ): RunContext =>
      createRunContext({
        // Getters, so that only the clients the run uses are built (defaultDeps builds on first access).
        get s3() {
          return deps.s3;
        },
        get s3Control() {
          return deps.s3Control;
        },
        get config() {
          return deps.config;
        },
        get sns() {
          return deps.sns;
        },
        get securityHub() {
          return deps.securityHub;
        },
        settings,
        logger,
        trigger,
        triggerKind,
        accountId,
        region,
        callerArn,
        now,
        newId,
        remainingMs: () => lambdaContext?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
      });
    const reportOptions = { pendingNoticeMinAgeMs: deps.pendingNoticeMinAgeMs };
    const queueUrl = settings.sweepQueueUrl;
    const queue: SweepQueue | undefined =
      queueUrl === undefined
        ? undefined
        : {
            url: queueUrl,
            // A getter: the SQS client (and its SDK) is built only when a sweep first sends.
            get sqs(): SQSClient {
              if (deps.sqs === undefined) {
                throw new Error(
                  `${queueUrl}: SWEEP_QUEUE_URL is set but the handler was given no SQS client`,
                );
              }
              return deps.sqs;
            },
          };

    if (isSqsEvent(rawEvent)) {
      warnAboutSettings(logger, settings, 'SQS sweep queue');
      const { accountId, region } = await own();
      return onSweepQueueEvent(rawEvent.Records, {
        settings,
        queue,
        region,
        tuning,
        reportOptions,
        runFor: (trigger) => runFor(trigger, 'config-scheduled', accountId, region),
        logger,
        now,
        checkedSweeps,
      });
    }

    let event: GuardEvent;
    try {
      event = parseGuardEvent(rawEvent, { isTrustedResponseUrl: deps.isTrustedResponseUrl });
    } catch (error) {
      logger.error(describeError(error), { event: preview(rawEvent) });
      if (!(error instanceof InvalidCustomResourceRequestError)) throw error;
      const { accountId, region } = await own();
      const run = runFor(
        describeRejectedRequest(error.request),
        'account-block-public-access-request',
        accountId,
        region,
      );
      await answerCloudFormation(run, error.request, answerRejectedRequest(error));
      return new RunReport(run, reportOptions).finishAnswered();
    }
    warnAboutSettings(logger, settings, describeEvent(event));
    const { accountId, region } = await own();
    const trigger = describeEvent(event);
    const refusal = refusalOf(event, accountId, region);
    const run = runFor(
      trigger,
      event.kind,
      accountId,
      region,
      'callerArn' in event ? event.callerArn : undefined,
    );
    const report = new RunReport(run, reportOptions);
    if (refusal !== undefined) {
      logger.error(`Event refused, nothing read or changed: ${refusal}`, {
        trigger,
        event: preview(rawEvent),
      });
      if (event.kind === 'account-block-public-access-request') {
        await answerCloudFormation(run, event, {
          status: 'FAILED',
          reason: `registry-guard refused the request: ${refusal}`,
          physicalResourceId: event.physicalResourceId ?? `registry-guard-refused-${event.requestId}`,
          data: {},
        });
      }
      return report.ignored(refusal);
    }
    if ('errorCode' in event && event.errorCode !== undefined) {
      const why = `the call failed (${event.errorCode}), so nothing changed`;
      logger.info(`Event ignored: ${why}`, { trigger, callerArn: event.callerArn });
      return report.ignored(why);
    }

    switch (event.kind) {
      case 'config-change':
        await onConfigChange(run, event, report);
        return report.finish();
      case 'config-scheduled':
        await onConfigSweep(run, event, report, deps.concurrency ?? DEFAULT_SWEEP_CONCURRENCY, queue);
        return report.finish();
      case 'bucket-api-call':
        await onBucketApiCall(run, event, report);
        return report.finish();
      case 'account-api-call':
        await onAccountApiCall(run, event, report);
        return report.finish();
      case 'access-point-api-call':
        await onAccessPointApiCall(run, event, report);
        return report.finish();
      case 'multi-region-access-point-api-call':
        await onMultiRegionAccessPointApiCall(run, event, report);
        return report.finish();
      case 'object-acl-api-call':
        await onObjectAclApiCall(run, event, report);
        return report.finish();
      case 'account-block-public-access-request':
        await onAccountBlockPublicAccessRequest(run, event, report);
        return report.finishAnswered();
    }
  };
}

/**
 * Why an event is not for this guard: it names another account or Region than the function's own. The
 * guard acts only on its own account's buckets; an event naming another is forged or misrouted.
 */
function refusalOf(event: GuardEvent, accountId: string, region: string | undefined): string | undefined {
  const named: { account?: string; region?: string } =
    event.kind === 'config-scheduled'
      ? { account: event.accountId }
      : event.kind === 'config-change'
        ? { account: event.accountId, region: event.region }
        : { account: event.accountId, region: event.region };
  if (named.account !== undefined && named.account !== accountId) {
    return `it names account ${named.account}, but the guard runs in ${accountId}`;
  }
  if (named.region !== undefined) {
    if (region === undefined) return `it names Region ${named.region}, and the guard cannot tell its own`;
    if (named.region !== region) return `it names Region ${named.region}, but the guard runs in ${region}`;
  }
  return undefined;
}

function warnAboutSettings(logger: GuardLogger, settings: GuardSettings, trigger: string): void {
  if (settings.modeWarning !== undefined) logger.warn(settings.modeWarning, { trigger });
  for (const warning of settings.warnings) logger.warn(warning, { trigger });
}

/** Powertools' Logger adds the request id and function name to every line once it has the context. */
function addLambdaContext(logger: GuardLogger, context: InvocationContext | undefined): void {
  const withContext = logger as GuardLogger & { addContext?: (context: unknown) => void };
  if (context !== undefined && typeof withContext.addContext === 'function') withContext.addContext(context);
}

function accountOfFunction(context: InvocationContext | undefined): string | undefined {
  const account = context?.invokedFunctionArn?.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

function regionOfFunction(context: InvocationContext | undefined): string | undefined {
  const region = context?.invokedFunctionArn?.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
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
