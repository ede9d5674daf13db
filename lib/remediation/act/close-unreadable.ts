/**
 * A bucket the guard could not read whole: closed with Block Public Access alone, when that only tightens.
 */
import { PublicAccessBlockConfiguration, Tag } from '@aws-sdk/client-s3';
import { RunContext } from '../run-context';
import { ActionRecord, enableBucketBlockPublicAccess, skipped } from './actions';
import { EvidenceRef, recordEvidence } from './evidence';
import { IncidentClaim } from './incident-claim';
import type { EvidencePlan, RemediationOutcome } from './remediate';

/** What a bucket the guard could not read whole still told it. */
export interface PartialReading {
  readonly bucket: string;
  readonly tags: readonly Tag[];
  readonly blockPublicAccess: PublicAccessBlockConfiguration | null;
  readonly unreadable: readonly string[];
}

/**
 * Turns on Block Public Access on a bucket the guard could not read whole (say its policy denies the guard
 * GetBucketPolicy) but whose tags show no exemption and whose Block Public Access was read: possibly public,
 * and Block Public Access only tightens. The previous setting goes into evidence first (or, failing that,
 * the notice and the log). Nothing else is changed: what could not be read cannot be rewritten.
 *
 * @example
 * const outcome = await closeUnreadableBucket(run, partial, claim, plan);
 */
export async function closeUnreadableBucket(
  run: RunContext,
  partial: PartialReading,
  claim: IncidentClaim,
  plan: EvidencePlan,
): Promise<RemediationOutcome> {
  const actions: ActionRecord[] = [];
  let evidence: EvidenceRef | undefined;
  const evidenceBucket = run.settings.evidenceBucket;
  if (claim.role === 'duplicate') {
    actions.push(
      skipped(
        'evidence',
        'Wrote no evidence',
        `the same incident is handled by ${claim.claimedBy}, claimed at ${claim.claimedAt}`,
      ),
    );
  } else if (evidenceBucket !== undefined) {
    const recorded = await recordEvidence(run.s3, evidenceBucket, plan.key, {
      schema: 'registry-guard/evidence/v1',
      evidenceId: plan.evidenceId,
      capturedAt: run.now().toISOString(),
      bucket: partial.bucket,
      account: run.accountId,
      region: run.region,
      mode: run.settings.mode,
      event: run.trigger,
      caller: run.callerArn,
      whatWasPublic: [`could not verify: ${partial.unreadable.join('; ')}`],
      before: {
        blockPublicAccess: partial.blockPublicAccess,
        tags: partial.tags,
        unreadable: partial.unreadable,
      },
    });
    evidence = recorded.evidence;
    actions.push(recorded.action);
  }
  const record = await enableBucketBlockPublicAccess(run.s3, partial.bucket, run.accountId);
  actions.push(record);
  return {
    actions,
    evidence,
    replaced: [],
    incident: claim,
    // Unverified is possibly public: only verified Block Public Access makes it certainly closed.
    stillPublic: !(record.status === 'done' && record.verified),
    previousBlockPublicAccess:
      evidence === undefined && claim.role !== 'duplicate' ? partial.blockPublicAccess : undefined,
  };
}
