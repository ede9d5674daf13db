/**
 * The report stage of one invocation: every outcome is logged, evaluated (when AWS Config asked) and, when
 * on-call must hear of it, announced; at the end, outstanding notices of earlier invocations go out, and the
 * invocation fails when anything could not be delivered or any bucket is still public.
 */
import type { Evaluation } from '@aws-sdk/client-config-service';
import { GuardMode } from '../../guard-facts';
import { AccountOutcome } from '../act/guard-account';
import { describeError } from '../aws-errors';
import { DeliveryError, StillPublicError } from '../errors';
import { CloudFormationResponse } from '../answer/cloudformation-response';
import { RunContext } from '../run-context';
import { bucketChatNotice, withChat } from './chatbot';
import { bucketEvaluation, EvaluationBatcher } from './evaluations';
import { composeAccountNotice, composeBucketNotice, Notice, noticeContextOf } from './notice';
import { BucketOutcome, isStillPublic, needsNotice } from './outcome';
import { deliverOutstandingNotices, releaseHeldNotice, sendNotice } from './pending-notices';
import { SecurityHubDelivery, SecurityHubFindings } from './security-hub';
import { belongsInDigest, composeUnverifiableDigest } from './unverifiable-digest';

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
  /** Buckets told in the sweep's one "could not verify" digest instead of a notice each. */
  readonly digested?: number;
  /** With SECURITY_HUB_FINDINGS on: the findings sent, resolved and refused. */
  readonly securityHub?: SecurityHubDelivery;
  /**
   * For an SQS event (the sweep queue): the records that failed, which SQS delivers again alone and, after
   * their last receive, moves to the dead-letter queue (the event source mapping's `ReportBatchItemFailures`).
   */
  readonly batchItemFailures?: readonly { readonly itemIdentifier: string }[];
}

/**
 * What an outcome judged, which decides its evaluation. `bucket`: the bucket's own settings, evaluated as
 * they are. `way-in`: another way into the bucket (an access point, a Multi-Region Access Point), evaluated
 * only when it makes the bucket NON_COMPLIANT, and ordered one millisecond after the sweep's own evaluation
 * of the bucket, so Config keeps it whichever arrives first; a compliant way in says nothing about the
 * bucket. `none`: not a bucket at all (an access point that could not be read, a listing that failed):
 * never evaluated. Read from the outcome's `wayIn`, which its producer sets.
 */
type EvaluationRole = 'bucket' | 'way-in' | 'none';

function evaluationRoleOf(outcome: BucketOutcome): EvaluationRole {
  const wayIn = outcome.wayIn;
  if (wayIn === undefined) return 'bucket';
  if (wayIn.kind === 'access-points' || wayIn.kind === 'multi-region-access-points') return 'none';
  if ((wayIn.kind === 'access-point' || wayIn.kind === 'multi-region-access-point') && wayIn.bucketUnknown) {
    return 'none';
  }
  return 'way-in';
}

function evaluationOf(
  outcome: BucketOutcome,
  role: EvaluationRole,
  evaluations: { readonly orderingTimestamp: Date },
): Evaluation | undefined {
  if (role === 'none') return undefined;
  if (role === 'bucket') {
    return bucketEvaluation(
      outcome.bucket,
      outcome.compliance,
      outcome.annotation,
      evaluations.orderingTimestamp,
    );
  }
  if (outcome.compliance !== 'NON_COMPLIANT') return undefined;
  return bucketEvaluation(
    outcome.bucket,
    outcome.compliance,
    outcome.annotation,
    new Date(evaluations.orderingTimestamp.getTime() + 1),
  );
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
  /** Set once a sweep asked for a digest: the unverifiable outcomes waiting for it. */
  private digest: BucketOutcome[] | undefined;
  /** Where the digest's outcomes go instead of a notice (a batch of a fanned-out sweep), when set. */
  private digestHandOff: ((outcomes: readonly BucketOutcome[]) => Promise<void>) | undefined;
  private evaluations:
    | {
        orderingTimestamp: Date;
        batcher: EvaluationBatcher;
        onTokenRejected?: (failure: string) => Promise<void>;
      }
    | undefined;

  /** With SECURITY_HUB_FINDINGS on: the run's findings, sent after each bucket was dealt with. */
  private readonly securityHub: SecurityHubFindings | undefined;
  private securityHubDelivery: SecurityHubDelivery | undefined;

  constructor(
    private readonly run: RunContext,
    private readonly options: RunReportOptions = {},
  ) {
    this.securityHub = SecurityHubFindings.of(run);
  }

  /**
   * AWS Config asked: every bucket reported from now on gets an evaluation.
   *
   * @param onTokenRejected called instead of failing the run when Config refuses the result token (a batch
   *   of a fanned-out sweep: retrying cannot help); without it the refusal fails the run like any other.
   */
  expectEvaluations(
    resultToken: string,
    orderingTimestamp: Date,
    onTokenRejected?: (failure: string) => Promise<void>,
  ): void {
    this.evaluations = {
      orderingTimestamp,
      batcher: new EvaluationBatcher(this.run.config, resultToken, this.run.logger),
      onTokenRejected,
    };
  }

  /**
   * From now on, buckets that could not be verified and were not changed are told in one notice when the
   * run finishes, not one each: what a sweep asks for. Their evaluations are unchanged.
   *
   * @param handOff instead of the notice, called once at the end with those outcomes (none included): a
   *   batch of a fanned-out sweep keeps them for the sweep's one digest. When it throws, the run fails.
   * @example
   * report.digestUnverifiable();
   */
  digestUnverifiable(handOff?: (outcomes: readonly BucketOutcome[]) => Promise<void>): void {
    this.digest ??= [];
    this.digestHandOff = handOff;
  }

  /**
   * Records and logs one bucket's outcome, queues its evaluation when Config asked (as what the outcome
   * judged allows: see {@link EvaluationRole}), notifies when needed.
   */
  async bucket(outcome: BucketOutcome): Promise<void> {
    const role = evaluationRoleOf(outcome);
    this.outcomes.push(outcome);
    this.logBucket(outcome);
    const evaluation =
      this.evaluations === undefined ? undefined : evaluationOf(outcome, role, this.evaluations);
    if (evaluation !== undefined) await this.evaluations?.batcher.add(evaluation);
    if (needsNotice(outcome) && this.digest !== undefined && this.joinsDigest(outcome)) {
      this.digest.push(outcome);
    } else if (needsNotice(outcome)) {
      const context = noticeContextOf(this.run);
      const notice = composeBucketNotice(outcome, context);
      await this.notify(
        withChat(notice, bucketChatNotice(outcome, context, notice.subject)),
        { bucket: outcome.bucket },
        outcome.heldNoticeKey,
      );
    } else if (outcome.heldNoticeKey !== undefined) {
      await releaseHeldNotice(this.run, outcome.heldNoticeKey);
    }
    // Reporting only, after the bucket was dealt with and on-call told; it never throws.
    await this.securityHub?.add(outcome, role === 'bucket');
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
  sweepCutShort(unswept: number, total: number, what = 'buckets'): void {
    this.unswept = (this.unswept ?? 0) + unswept;
    const failure = `the sweep stopped with ${unswept} of ${total} ${what} not judged: the function's time ran short`;
    this.failures.push(failure);
    this.run.logger.error(failure, { unswept, total, trigger: this.run.trigger });
  }

  /** Sends a notice of the run's own (a sweep's digest, a refused token), kept pending like any other. */
  async announce(notice: Notice, keys: Readonly<Record<string, string>>): Promise<void> {
    await this.notify(notice, keys);
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
      if (delivery.tokenRejected !== undefined) {
        if (this.evaluations.onTokenRejected === undefined) this.failures.push(delivery.tokenRejected);
        else await this.evaluations.onTokenRejected(delivery.tokenRejected);
      }
    }
    await this.sendDigest();
    await this.deliverOutstanding();
    this.securityHubDelivery = await this.securityHub?.flush();
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

  /** One held notice stays tied to its own bucket: it is replaced by that bucket's own notice. */
  private joinsDigest(outcome: BucketOutcome): boolean {
    return belongsInDigest(outcome) && outcome.heldNoticeKey === undefined;
  }

  /** The digest goes out like any notice: kept pending first, so a failed publish is delivered later. */
  private async sendDigest(): Promise<void> {
    if (this.digest === undefined) return;
    if (this.digestHandOff !== undefined) {
      try {
        await this.digestHandOff(this.digest);
      } catch (error) {
        const failure = `Handing over ${this.digest.length} unverifiable buckets for the sweep's digest failed: ${describeError(error)}`;
        this.run.logger.error(failure, { trigger: this.run.trigger });
        this.failures.push(failure);
      }
      return;
    }
    if (this.digest.length === 0) return;
    const notice = composeUnverifiableDigest(this.digest, noticeContextOf(this.run));
    // Each bucket already has its own "Bucket could not be verified" line; this one ties them to the notice.
    this.run.logger.info('Could-not-verify digest composed', {
      buckets: this.digest.length,
      subject: notice.subject,
      trigger: this.run.trigger,
    });
    await this.notify(notice, { digest: String(this.digest.length) });
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
      digested: this.digest?.length,
      securityHub: this.securityHubDelivery,
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
