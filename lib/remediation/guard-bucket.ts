/**
 * One bucket, start to finish: read its live state, decide, and (in remediate mode) act.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { AccountBlockPublicAccessReading } from './account-state';
import { readBucketState } from './bucket-state';
import { decideBucket } from './decision';
import { BucketOutcome, composeAnnotation, unverifiableOutcome } from './outcome';
import { remediateBucket } from './remediate';
import { GuardMode } from './settings';

/** What guarding a bucket needs from the invocation. */
export interface BucketGuardContext {
  readonly s3: S3Client;
  readonly mode: GuardMode;
  readonly evidenceBucket?: string;
  readonly now: () => Date;
  /** A short random id for each evidence object. */
  readonly newId: () => string;
  readonly trigger: string;
  readonly callerArn?: string;
  readonly accountId?: string;
  readonly region?: string;
  /** Read once per invocation and shared by every bucket; a promise so it is read alongside the first bucket. */
  readonly accountBlockPublicAccess: Promise<AccountBlockPublicAccessReading>;
}

/**
 * Reads, judges and, in remediate mode, remediates one bucket. A bucket that is gone is NOT_APPLICABLE; one
 * that cannot be read is NON_COMPLIANT with the reason, never COMPLIANT.
 *
 * @example
 * const outcome = await guardBucket(context, 'electoral-roll');
 * console.log(outcome.compliance, outcome.annotation);
 */
export async function guardBucket(context: BucketGuardContext, bucket: string): Promise<BucketOutcome> {
  const [reading, accountBlockPublicAccess] = await Promise.all([
    readBucketState(context.s3, bucket),
    context.accountBlockPublicAccess,
  ]);
  if (reading.status === 'missing') {
    return notApplicable(bucket, 'the bucket no longer exists');
  }
  if (reading.status === 'unreadable') {
    return unverifiableOutcome(bucket, `${reading.operation} failed with ${reading.error}`);
  }
  const now = context.now();
  const decision = decideBucket({ state: reading.state, accountBlockPublicAccess, now });
  const remediation =
    decision.compliance === 'NON_COMPLIANT' && context.mode === 'remediate'
      ? await remediateBucket(
          {
            s3: context.s3,
            evidenceBucket: context.evidenceBucket,
            mode: context.mode,
            now,
            evidenceId: context.newId(),
            trigger: context.trigger,
            callerArn: context.callerArn,
            accountId: context.accountId,
            region: context.region,
            accountBlockPublicAccess,
          },
          reading.state,
          decision,
        )
      : undefined;
  const partial = {
    compliance: decision.compliance,
    isRegistry: decision.isRegistry,
    problems: decision.problems,
    reasons: decision.exposure.reasons,
    notes: decision.notes,
    reliesOnAccountBlockPublicAccess: decision.reliesOnAccountBlockPublicAccess,
    remediation,
  };
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}

/**
 * The outcome for a bucket the rule does not apply to, without reading it.
 *
 * @example
 * notApplicable('old-roll', 'the configuration item status is ResourceDeleted').annotation;
 * // 'The configuration item status is ResourceDeleted.'
 */
export function notApplicable(bucket: string, why: string): BucketOutcome {
  const partial = {
    compliance: 'NOT_APPLICABLE',
    problems: [],
    reasons: [],
    notes: [why],
  } as const;
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}
