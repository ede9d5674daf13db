/**
 * One bucket, start to finish, in the order of the stages: read its live state (and the ledger's memory of
 * it), decide, claim the incident, act (remediate mode), and hand the outcome to the report stage.
 */
import { evidenceKey } from './act/evidence';
import { claimIncident, closeIncident, IncidentClaim } from './act/incident-claim';
import { remediateBucket } from './act/remediate';
import { describeError } from './aws-errors';
import { BucketDecision, decideBucket } from './decide/decision';
import { stateFingerprint } from './decide/incident';
import { readBucketState } from './read/bucket-state';
import { BucketOutcome, composeAnnotation, unverifiableOutcome } from './report/outcome';
import { RunContext } from './run-context';

/**
 * Reads, judges and, in remediate mode, remediates one bucket. A bucket that is gone is NOT_APPLICABLE; one
 * that cannot be read is NON_COMPLIANT with the reason, never COMPLIANT. A bug is caught here too: it becomes
 * "could not verify", so one bucket never stops a sweep nor goes unreported.
 *
 * @example
 * const outcome = await guardBucket(run, 'electoral-roll');
 * console.log(outcome.compliance, outcome.annotation);
 */
export async function guardBucket(run: RunContext, bucket: string): Promise<BucketOutcome> {
  try {
    return await guardBucketUnsafe(run, bucket);
  } catch (error) {
    return unverifiableOutcome(bucket, `registry-guard failed on it: ${describeError(error)}`);
  }
}

async function guardBucketUnsafe(run: RunContext, bucket: string): Promise<BucketOutcome> {
  const readAt = run.now();
  const [reading, accountBlockPublicAccess, ledger] = await Promise.all([
    readBucketState(run.s3, bucket),
    run.accountBlockPublicAccess(),
    run.registries.read(bucket),
  ]);
  if (reading.status === 'missing') return notApplicable(bucket, 'the bucket no longer exists');
  if (reading.status === 'unreadable') {
    return unverifiableOutcome(bucket, `${reading.operation} failed with ${reading.error}`);
  }
  const { state } = reading;
  const now = run.now();
  const decision = decideBucket({
    state,
    accountBlockPublicAccess,
    now,
    ledger,
    releasedRegistries: run.settings.releasedRegistries,
    maxExemptionDays: run.settings.maxExemptionDays,
  });
  const notes = [...decision.notes];
  const remediating = run.settings.mode === 'remediate';
  if (remediating && decision.classification.tagged && ledger.status === 'unknown') {
    const failure = await run.registries.record(bucket, now, run.trigger);
    if (failure !== undefined) notes.push(`registry not recorded in the ledger: ${failure}`);
  }

  const exemptAndOpen = decision.compliance === 'NOT_APPLICABLE' && decision.exposure.isPublic;
  const worthAnIncident = decision.compliance === 'NON_COMPLIANT' || (exemptAndOpen && isChangeEvent(run));
  const evidenceId = run.newId();
  const plan = { evidenceId, key: evidenceKey(bucket, now, evidenceId) };
  const incident: IncidentClaim | undefined = !worthAnIncident
    ? undefined
    : remediating && run.settings.evidenceBucket !== undefined
      ? await claimIncident({
          s3: run.s3,
          evidenceBucket: run.settings.evidenceBucket,
          bucket,
          fingerprint: stateFingerprint(state),
          readAt,
          now,
          // An exemption in use is news once per state, however long it lasts; a drift, once per window.
          windowMs: exemptAndOpen ? Number.POSITIVE_INFINITY : run.settings.incidentWindowMs,
          trigger: run.trigger,
          evidenceKey: plan.key,
        })
      : {
          role: 'unclaimed',
          why: remediating ? 'no EVIDENCE_BUCKET to claim it in' : 'report mode writes nothing',
        };
  if (incident?.role === 'unclaimed' && remediating && run.settings.evidenceBucket !== undefined) {
    notes.push(`one-page-per-incident unavailable: ${incident.why}`);
  }

  const remediation =
    decision.compliance === 'NON_COMPLIANT' && remediating && incident !== undefined
      ? await remediateBucket(run, state, decision, incident, plan)
      : undefined;
  // Closed means changed and verified: a bucket left as it was (an action failed) is still the same incident.
  const closed =
    remediation !== undefined &&
    !remediation.stillPublic &&
    remediation.actions.every((action) => action.status !== 'failed');
  if (closed && incident?.role === 'owner') {
    const failure = await closeIncident(
      run.s3,
      run.settings.evidenceBucket as string,
      incident.key,
      run.now(),
    );
    if (failure !== undefined) run.logger.warn('Incident not marked closed', { bucket, error: failure });
  }
  return bucketOutcome(bucket, decision, notes, incident, remediation);
}

function bucketOutcome(
  bucket: string,
  decision: BucketDecision,
  notes: readonly string[],
  incident: IncidentClaim | undefined,
  remediation: BucketOutcome['remediation'],
): BucketOutcome {
  const partial = {
    compliance: decision.compliance,
    isRegistry: decision.isRegistry,
    registryTagRemoved: decision.classification.tagRemoved,
    problems: decision.problems,
    reasons: decision.exposure.reasons,
    notes,
    reliesOnAccountBlockPublicAccess: decision.reliesOnAccountBlockPublicAccess,
    exemption:
      decision.exemption.status === 'valid' && decision.compliance === 'NOT_APPLICABLE'
        ? {
            reason: decision.exemption.reason,
            expires: decision.exemption.expires,
            open: decision.exposure.isPublic,
          }
        : undefined,
    incident,
    remediation,
  };
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}

/** A change event, as opposed to a sweep: an exemption seen on one is news (someone just added or used it). */
function isChangeEvent(run: RunContext): boolean {
  return run.triggerKind === 'bucket-api-call' || run.triggerKind === 'config-change';
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
