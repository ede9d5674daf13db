/**
 * The report stage of one invocation: every outcome is logged, evaluated (when AWS Config asked) and, when
 * on-call must hear of it, announced; at the end, outstanding notices of earlier invocations go out, and the
 * invocation fails when anything could not be delivered or any bucket is still public.
 */
import { GuardMode } from '../../guard-facts';
import { AccountOutcome } from '../act/guard-account';
import { DeliveryError, StillPublicError } from '../errors';
import { CloudFormationResponse } from '../answer/cloudformation-response';
import { RunContext } from '../run-context';
import { bucketEvaluation, EvaluationBatcher } from './evaluations';
import { composeAccountNotice, composeBucketNotice, Notice, noticeContextOf } from './notice';
import { BucketOutcome, isStillPublic, needsNotice } from './outcome';
import { deliverOutstandingNotices, releaseHeldNotice, sendNotice } from './pending-notices';

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
  /** Notices SNS accepted, this invocation's and earlier ones delivered late. */
  readonly noticesSent: number;
  /** Set when the event was not acted on at all (another account or Region, a failed call): why. */
  readonly ignored?: string;
  /** Buckets a sweep did not reach before the function's time ran short. */
  readonly unswept?: number;
}

/** Options of the report stage. */
export interface RunReportOptions {
  /** Pending notices younger than this are left to the invocation that wrote them. */
  readonly pendingNoticeMinAgeMs?: number;
}

/** One invocation's bookkeeping: outcomes, evaluations, notices and what failed. */
export class RunReport {
  private readonly outcomes: BucketOutcome[] = [];
  private account: AccountOutcome | undefined;
  private cloudFormationResponse: CloudFormationResponse | undefined;
  private readonly failures: string[] = [];
  private noticesSent = 0;
  private unswept: number | undefined;
  private evaluations: { orderingTimestamp: Date; batcher: EvaluationBatcher } | undefined;

  constructor(
    private readonly run: RunContext,
    private readonly options: RunReportOptions = {},
  ) {}

  /** AWS Config asked: every bucket reported from now on gets an evaluation. */
  expectEvaluations(resultToken: string, orderingTimestamp: Date): void {
    this.evaluations = {
      orderingTimestamp,
      batcher: new EvaluationBatcher(this.run.config, resultToken, this.run.logger),
    };
  }

  /** Records and logs one bucket's outcome, queues its evaluation when Config asked, notifies when needed. */
  async bucket(outcome: BucketOutcome): Promise<void> {
    this.outcomes.push(outcome);
    this.logBucket(outcome);
    if (this.evaluations !== undefined) {
      const { batcher, orderingTimestamp } = this.evaluations;
      await batcher.add(
        bucketEvaluation(outcome.bucket, outcome.compliance, outcome.annotation, orderingTimestamp),
      );
    }
    if (needsNotice(outcome)) {
      await this.notify(
        composeBucketNotice(outcome, noticeContextOf(this.run)),
        { bucket: outcome.bucket },
        outcome.heldNoticeKey,
      );
    } else if (outcome.heldNoticeKey !== undefined) {
      await releaseHeldNotice(this.run, outcome.heldNoticeKey);
    }
    if (isStillPublic(outcome)) {
      this.failures.push(`bucket ${outcome.bucket} is STILL PUBLIC after remediation: ${outcome.annotation}`);
    }
  }

  /** Records, logs and announces what the guard found and did about the account's Block Public Access. */
  async accountBlockPublicAccess(outcome: AccountOutcome): Promise<void> {
    this.account = outcome;
    const failed = outcome.actions.some((action) => action.status === 'failed');
    const log =
      outcome.before.status === 'unreadable' || failed ? this.run.logger.error : this.run.logger.info;
    log.call(this.run.logger, 'Account-level Block Public Access checked', {
      accountId: outcome.accountId,
      before: outcome.before,
      settingsOff: outcome.settingsOff,
      actions: outcome.actions,
      evidence: outcome.evidence,
      trigger: this.run.trigger,
      callerArn: this.run.callerArn,
    });
    if (outcome.needsNotice) {
      await this.notify(composeAccountNotice(outcome, noticeContextOf(this.run)), {
        accountId: outcome.accountId,
      });
    }
  }

  /** A sweep stopped early: the buckets it did not reach are a failure, so Lambda's retry covers them. */
  sweepCutShort(unswept: number, total: number): void {
    this.unswept = unswept;
    const failure = `the sweep stopped with ${unswept} of ${total} buckets not judged: the function's time ran short`;
    this.failures.push(failure);
    this.run.logger.error(failure, { unswept, total, trigger: this.run.trigger });
  }

  /** The answer CloudFormation received. */
  answered(response: CloudFormationResponse): void {
    this.cloudFormationResponse = response;
  }

  /**
   * Sends the remaining evaluations and the outstanding notices of earlier invocations; throws when anything
   * could not be delivered ({@link DeliveryError}) or a bucket is still public ({@link StillPublicError}).
   */
  async finish(): Promise<GuardResult> {
    let evaluationsSent = 0;
    if (this.evaluations !== undefined) {
      const delivery = await this.evaluations.batcher.flush();
      evaluationsSent = delivery.sent;
      this.failures.push(...delivery.failures);
    }
    await this.deliverOutstanding();
    const result = this.summarise(evaluationsSent);
    const stillPublic = this.outcomes.filter(isStillPublic).map((outcome) => outcome.bucket);
    if (stillPublic.length > 0) throw new StillPublicError(stillPublic, this.failures);
    if (this.failures.length > 0) throw new DeliveryError(this.failures);
    return result;
  }

  /**
   * The result, logged, without throwing: what a CloudFormation request ends with once answered. A notice
   * that failed is already logged and kept pending; failing now would only make Lambda answer twice.
   */
  async finishAnswered(): Promise<GuardResult> {
    await this.deliverOutstanding();
    return this.summarise(0);
  }

  /** The result of an event not acted on. */
  ignored(why: string): GuardResult {
    return { ...this.summarise(0), ignored: why };
  }

  private async deliverOutstanding(): Promise<void> {
    const outstanding = await deliverOutstandingNotices(this.run, this.options.pendingNoticeMinAgeMs);
    this.noticesSent += outstanding.delivered;
    this.failures.push(...outstanding.failures);
  }

  private summarise(evaluationsSent: number): GuardResult {
    const result: GuardResult = {
      trigger: this.run.trigger,
      mode: this.run.settings.mode,
      buckets: this.outcomes,
      account: this.account,
      cloudFormationResponse: this.cloudFormationResponse,
      evaluationsSent,
      noticesSent: this.noticesSent,
      unswept: this.unswept,
    };
    this.run.logger.info('Invocation finished', {
      trigger: this.run.trigger,
      mode: this.run.settings.mode,
      buckets: this.outcomes.length,
      nonCompliant: this.outcomes.filter((outcome) => outcome.compliance === 'NON_COMPLIANT').length,
      evaluationsSent,
      noticesSent: this.noticesSent,
      cloudFormationResponse: this.cloudFormationResponse?.status,
    });
    return result;
  }

  private async notify(
    notice: Notice,
    keys: Readonly<Record<string, string>>,
    heldKey?: string,
  ): Promise<void> {
    const result = await sendNotice(this.run, notice, keys, heldKey);
    if (result.sent) this.noticesSent += 1;
    if (result.failure !== undefined) this.failures.push(result.failure);
  }

  private logBucket(outcome: BucketOutcome): void {
    const remediation = outcome.remediation;
    const owner = outcome.incident?.role !== 'duplicate';
    const attributes = {
      bucket: outcome.bucket,
      accountId: this.run.accountId,
      region: this.run.region,
      compliance: outcome.compliance,
      registry: outcome.isRegistry,
      registryTagRemoved: outcome.registryTagRemoved,
      exemption: outcome.exemption,
      annotation: outcome.annotation,
      reasons: outcome.reasons,
      actions: remediation?.actions,
      evidence: remediation?.evidence,
      replacedState: remediation?.replaced,
      previousBlockPublicAccess: remediation?.previousBlockPublicAccess,
      incident: outcome.incident,
      // One `remediated: true` line per incident whose bucket was changed: the construct counts them into
      // the remediation-storm metric, so twenty events for one drift count once.
      remediated:
        owner &&
        (remediation?.actions.some((action) => action.kind !== 'evidence' && action.status === 'done') ??
          false),
      stillPublic: remediation?.stillPublic,
      loop: remediation?.loop,
      trigger: this.run.trigger,
      mode: this.run.settings.mode,
    };
    const failed = remediation?.actions.some((action) => action.status === 'failed') ?? false;
    if (outcome.unverifiable !== undefined) {
      this.run.logger.error('Bucket could not be verified', { ...attributes, error: outcome.unverifiable });
    } else if (remediation?.stillPublic === true) {
      this.run.logger.error('STILL PUBLIC: remediation could not close the bucket', attributes);
    } else if (failed) {
      this.run.logger.error('Remediation failed', attributes);
    } else if (outcome.compliance === 'NON_COMPLIANT') {
      this.run.logger.warn('Bucket non-compliant', attributes);
    } else {
      this.run.logger.info('Bucket checked', attributes);
    }
  }
}
