/**
 * AWS Config evaluations: one per bucket per invocation, sent in batches of at most 100 (the
 * PutEvaluations limit) with the run's result token.
 */
import type { ConfigServiceClient, Evaluation } from '@aws-sdk/client-config-service';
import { describeError, errorName } from '../aws-errors';
import { ComplianceVerdict } from '../decide/decision';
import { configServiceSdk } from '../sdk/on-demand';

/** PutEvaluations accepts at most this many evaluations per call. */
export const EVALUATIONS_PER_BATCH = 100;
/** Config's limit on an annotation's length. */
export const MAX_ANNOTATION_LENGTH = 256;
/** The resource type every evaluation names. */
export const BUCKET_RESOURCE_TYPE = 'AWS::S3::Bucket';

/**
 * Builds one bucket's evaluation; the annotation is cut to {@link MAX_ANNOTATION_LENGTH} with an ellipsis.
 *
 * @example
 * bucketEvaluation('roll', 'NON_COMPLIANT', 'public through its bucket policy', new Date());
 */
export function bucketEvaluation(
  bucket: string,
  compliance: ComplianceVerdict,
  annotation: string,
  orderingTimestamp: Date,
): Evaluation {
  return {
    ComplianceResourceType: BUCKET_RESOURCE_TYPE,
    ComplianceResourceId: bucket,
    ComplianceType: compliance,
    Annotation: truncate(annotation, MAX_ANNOTATION_LENGTH),
    OrderingTimestamp: orderingTimestamp,
  };
}

/**
 * Cuts text to at most `limit` characters (UTF-16 code units, as Config counts), ending with `…` when cut.
 *
 * @example
 * truncate('a'.repeat(300), 256).length; // 256
 */
export function truncate(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let cut = text.slice(0, limit - 1);
  // Never leave half a surrogate pair behind.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** What happened to a run's evaluations. */
export interface EvaluationDelivery {
  readonly sent: number;
  /** Evaluations Config reported back as failed (logged). */
  readonly rejected: readonly Evaluation[];
  /** One line per batch that could not be sent at all. */
  readonly failures: readonly string[];
  /**
   * Set when Config refused the result token (`InvalidResultTokenException`), why: kept apart from
   * `failures` because sending again cannot help. Its batches are not in `failures`.
   */
  readonly tokenRejected?: string;
}

/** Where the batcher reports what it could not deliver. */
export interface EvaluationLog {
  error(message: string, attributes: Record<string, unknown>): void;
}

/**
 * Collects evaluations and sends each full batch of {@link EVALUATIONS_PER_BATCH} as soon as it fills, so a
 * long sweep that times out has still delivered most of its work. Call {@link flush} at the end.
 *
 * @example
 * const batcher = new EvaluationBatcher(config, resultToken, logger);
 * await batcher.add(evaluation);
 * const delivery = await batcher.flush();
 */
export class EvaluationBatcher {
  private pending: Evaluation[] = [];
  private sent = 0;
  private readonly rejected: Evaluation[] = [];
  private readonly failures: string[] = [];
  private tokenRejected: string | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly config: ConfigServiceClient,
    private readonly resultToken: string,
    private readonly log: EvaluationLog,
  ) {}

  /** Queues one evaluation; sends a batch when one is full. */
  async add(evaluation: Evaluation): Promise<void> {
    this.pending.push(evaluation);
    if (this.pending.length >= EVALUATIONS_PER_BATCH) await this.sendBatch();
  }

  /** Sends what is left and waits for every batch. */
  async flush(): Promise<EvaluationDelivery> {
    while (this.pending.length > 0) await this.sendBatch();
    await Promise.all(this.inFlight);
    return {
      sent: this.sent,
      rejected: this.rejected,
      failures: this.failures,
      tokenRejected: this.tokenRejected,
    };
  }

  private async sendBatch(): Promise<void> {
    // Taken synchronously, so concurrent callers never send the same evaluation twice.
    const batch = this.pending.splice(0, EVALUATIONS_PER_BATCH);
    if (batch.length === 0) return;
    const delivery = this.deliver(batch);
    this.inFlight.add(delivery);
    try {
      await delivery;
    } finally {
      this.inFlight.delete(delivery);
    }
  }

  private async deliver(batch: Evaluation[]): Promise<void> {
    const { PutEvaluationsCommand } = configServiceSdk();
    try {
      const output = await this.config.send(
        new PutEvaluationsCommand({ Evaluations: batch, ResultToken: this.resultToken }),
      );
      const failed = output.FailedEvaluations ?? [];
      this.sent += batch.length - failed.length;
      if (failed.length > 0) {
        this.rejected.push(...failed);
        this.log.error('Config rejected evaluations', {
          failedEvaluations: failed.map((evaluation) => ({
            bucket: evaluation.ComplianceResourceId,
            compliance: evaluation.ComplianceType,
          })),
        });
      }
    } catch (error) {
      const buckets = batch.map((evaluation) => evaluation.ComplianceResourceId);
      const failure = `PutEvaluations for ${batch.length} buckets failed: ${describeError(error)}`;
      if (errorName(error) === 'InvalidResultTokenException') this.tokenRejected ??= failure;
      else this.failures.push(failure);
      this.log.error(failure, { buckets, error: describeError(error) });
    }
  }
}
