/**
 * One bucket, start to finish, in the order of the stages: read its live state (and the ledger's memory of
 * it), decide, claim the incident, act (remediate mode), and hand the outcome to the report stage.
 */
import { evidenceKey } from './act/evidence';
import { claimIncident, claimStateLeftBehind, closeIncident, IncidentClaim } from './act/incident-claim';
import { closeUnreadableBucket, PartialReading } from './act/close-unreadable';
import { EvidencePlan, RemediationOutcome, remediateBucket } from './act/remediate';
import { describeError } from './aws-errors';
import { isRegistryClassificationTag } from '../classification';
import { judgeBlockPublicAccess, TrustZone } from '../exposure';
import { BucketDecision, decideBucket } from './decide/decision';
import { readExemption } from './decide/exemption';
import { stateFingerprint, stateFingerprintOfText } from './decide/incident';
import { AccountBlockPublicAccessReading } from './read/account-state';
import { LiveBucketState, readBucketState, UnreadableBucket } from './read/bucket-state';
import { LedgerReading } from './read/registry-ledger';
import { composeInterruptedNotice, noticeContextOf } from './report/notice';
import { BucketOutcome, composeAnnotation, unverifiableOutcome } from './report/outcome';
import { holdNotice, releaseHeldNotice } from './report/pending-notices';
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
  const [reading, accountBlockPublicAccess, ledger] = await Promise.all([
    readBucketState(run.s3, bucket, run.accountId),
    run.accountBlockPublicAccess(),
    run.registries.read(bucket),
  ]);
  if (reading.status === 'missing') return notApplicable(bucket, 'the bucket no longer exists');
  if (reading.status === 'unreadable') {
    const unverifiable = `${reading.operation} failed with ${reading.error}`;
    const closable = closableWhenUnreadable(run, bucket, reading, ledger);
    const evidenceId = run.newId();
    const plan = { evidenceId, key: evidenceKey(bucket, run.now(), evidenceId) };
    const before = unverifiableOutcome(bucket, unverifiable);
    // As on the readable path: about to change the bucket, hold the notice an invocation that stops leaves.
    let heldNoticeKey = closable === undefined ? undefined : await holdInterruptedNotice(run, before, plan);
    // Still one incident per cause: an attacker who denies the guard a read must not page on every event.
    const incident = await claimFor(run, bucket, `unverifiable ${reading.operation} ${reading.error}`, {
      windowMs: run.settings.incidentWindowMs,
      stillInState: async () =>
        (await readBucketState(run.s3, bucket, run.accountId)).status === 'unreadable',
    });
    if (incident.role === 'duplicate' && heldNoticeKey !== undefined) {
      await releaseHeldNotice(run, heldNoticeKey);
      heldNoticeKey = undefined;
    }
    const outcome = { ...before, incident, heldNoticeKey };
    if (closable === undefined) return outcome;
    const remediation = await closeUnreadableBucket(run, closable, incident, plan);
    return { ...outcome, remediation, annotation: composeAnnotation({ ...outcome, remediation }) };
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
    trustZone: trustZoneOf(run),
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
  const fingerprint = stateFingerprint(state);
  const willAct = decision.compliance === 'NON_COMPLIANT' && decision.actOn && remediating;
  // Held before the claim: an invocation that claims and then stops (a timeout, a crash) has left the notice
  // that tells on-call; a duplicate drops its own once it knows it is one.
  let heldNoticeKey = willAct
    ? await holdInterruptedNotice(run, bucketOutcome(bucket, decision, notes, undefined, undefined), plan)
    : undefined;
  const incident = !worthAnIncident
    ? undefined
    : await claimFor(run, bucket, exemptAndOpen ? `${fingerprint}-exempt` : fingerprint, {
        // An exemption in use is news once per state and window, like a drift: taken away and put back hours
        // later, it is news again.
        windowMs: run.settings.incidentWindowMs,
        evidenceKey: plan.key,
        stillInState: async () => {
          const again = await readBucketState(run.s3, bucket, run.accountId);
          return again.status === 'found' && stateFingerprint(again.state) === fingerprint;
        },
      });
  if (incident?.role === 'unclaimed' && remediating && run.settings.evidenceBucket !== undefined) {
    notes.push(`one-page-per-incident unavailable: ${incident.why}`);
  }
  if (incident?.role === 'duplicate' && heldNoticeKey !== undefined) {
    await releaseHeldNotice(run, heldNoticeKey);
    heldNoticeKey = undefined;
  }
  const acting = willAct && incident !== undefined;
  const remediation = acting ? await remediateBucket(run, state, decision, incident, plan) : undefined;
  if (remediation !== undefined && incident !== undefined) {
    await settleIncident(run, state, fingerprint, incident, remediation, plan, {
      accountBlockPublicAccess,
      ledger,
    });
  }
  return { ...bucketOutcome(bucket, decision, notes, incident, remediation), heldNoticeKey };
}

/** Outside Lambda (no remaining time), a held notice waits this long: the guard function's timeout. */
const DEFAULT_HOLD_MS = 5 * 60 * 1000;
/** A held notice waits this much past the invocation's end: its own report may be the last thing it does. */
const HOLD_MARGIN_MS = 60 * 1000;

/**
 * A bucket the guard could not read whole may still be closed with Block Public Access, which only tightens,
 * when that is certainly not against anyone's decision: remediate mode, the reads that failed were refused
 * (not throttled), its tags were read and show no exemption (or it is a registry, which none may exempt),
 * and its Block Public Access was read (so the evidence keeps it) and is not already all on.
 */
function closableWhenUnreadable(
  run: RunContext,
  bucket: string,
  reading: UnreadableBucket,
  ledger: LedgerReading,
): PartialReading | undefined {
  if (
    run.settings.mode !== 'remediate' ||
    reading.tags === undefined ||
    reading.blockPublicAccess === undefined
  ) {
    return undefined;
  }
  if (judgeBlockPublicAccess(reading.blockPublicAccess ?? undefined).allOn) return undefined;
  // A refusal is lasting (and may be a bucket policy denying the guard on purpose); throttling or a 500
  // passes, and the next event or sweep reads the bucket whole.
  if (!reading.failedReads.every((failed) => failed.code === 'AccessDenied')) return undefined;
  const registry =
    reading.tags.some((tag) => isRegistryClassificationTag(tag.Key, tag.Value)) ||
    (ledger.status === 'known' && !run.settings.releasedRegistries.has(bucket));
  const exemption = readExemption(reading.tags, run.now(), run.settings.maxExemptionDays);
  if (!registry && exemption.status === 'valid') return undefined;
  return {
    bucket,
    tags: reading.tags,
    blockPublicAccess: reading.blockPublicAccess,
    unreadable: reading.failedReads.map((failed) => `${failed.operation}: ${failed.error}`),
  };
}

/** Holds the notice on-call gets should this invocation stop while it changes the bucket. */
function holdInterruptedNotice(
  run: RunContext,
  outcome: BucketOutcome,
  plan: EvidencePlan,
): Promise<string | undefined> {
  return holdNotice(
    run,
    composeInterruptedNotice(
      outcome,
      noticeContextOf(run),
      run.settings.evidenceBucket === undefined
        ? undefined
        : `s3://${run.settings.evidenceBucket}/${plan.key}`,
    ),
    // As long as this invocation may still run, and a minute more: its report may be the last thing it does.
    (Number.isFinite(run.remainingMs()) ? run.remainingMs() : DEFAULT_HOLD_MS) + HOLD_MARGIN_MS,
  );
}

/** Claims the incident for this run in remediate mode with an evidence bucket; otherwise says why not. */
async function claimFor(
  run: RunContext,
  bucket: string,
  fingerprint: string,
  options: { windowMs: number; stillInState: () => Promise<boolean>; evidenceKey?: string },
): Promise<IncidentClaim> {
  const evidenceBucket = run.settings.evidenceBucket;
  if (run.settings.mode !== 'remediate') return { role: 'unclaimed', why: 'report mode writes nothing' };
  if (evidenceBucket === undefined) return { role: 'unclaimed', why: 'no EVIDENCE_BUCKET to claim it in' };
  return claimIncident({
    s3: run.s3,
    evidenceBucket,
    bucket,
    fingerprint: fingerprint.length > 64 ? stateFingerprintOfText(fingerprint) : fingerprint,
    now: run.now(),
    windowMs: options.windowMs,
    trigger: run.trigger,
    evidenceKey: options.evidenceKey ?? '',
    stillInState: options.stillInState,
  });
}

/**
 * After acting: when the bucket really left the claimed state, the incident is closed (so the same state
 * seen again later is a reopening), and the state it was left in, if still non-compliant (a registry whose
 * tag is gone, a policy left for a human), is claimed for the same incident, so the events that follow
 * are not pages of their own. Any invocation that changed the bucket does this, owner or duplicate.
 */
async function settleIncident(
  run: RunContext,
  before: LiveBucketState,
  fingerprint: string,
  incident: IncidentClaim,
  remediation: RemediationOutcome,
  plan: EvidencePlan,
  facts: { accountBlockPublicAccess: AccountBlockPublicAccessReading; ledger: LedgerReading },
): Promise<void> {
  const evidenceBucket = run.settings.evidenceBucket;
  const changed = remediation.actions.some(
    (action) => action.kind !== 'evidence' && action.status === 'done',
  );
  if (evidenceBucket === undefined || incident.role === 'unclaimed' || !changed) return;
  const after = await readBucketState(run.s3, before.bucket, run.accountId);
  if (after.status !== 'found') return;
  const left = stateFingerprint(after.state);
  if (left === fingerprint) return;
  const closing = await closeIncident(run.s3, evidenceBucket, incident.key, run.now());
  if (closing !== undefined)
    run.logger.warn('Incident not marked closed', { bucket: before.bucket, error: closing });
  const leftDecision = decideBucket({
    state: after.state,
    accountBlockPublicAccess: facts.accountBlockPublicAccess,
    now: run.now(),
    ledger: facts.ledger,
    releasedRegistries: run.settings.releasedRegistries,
    maxExemptionDays: run.settings.maxExemptionDays,
    trustZone: trustZoneOf(run),
  });
  // Only a state the guard's own closing produced belongs to this incident: nothing public left and Block
  // Public Access all on, non-compliant only for what the guard cannot fix (a removed tag). Anything else
  // (someone opened it again between the guard's write and this read) is a new incident for the next event.
  const closedByGuard =
    !leftDecision.exposure.hasPublicGrant && leftDecision.exposure.bucketBlockPublicAccess.allOn;
  if (leftDecision.compliance !== 'NON_COMPLIANT' || !closedByGuard) return;
  const claiming = await claimStateLeftBehind({
    s3: run.s3,
    evidenceBucket,
    bucket: before.bucket,
    fingerprint: left,
    now: run.now(),
    trigger: run.trigger,
    evidenceKey: incident.role === 'duplicate' ? (incident.evidenceKey ?? plan.key) : plan.key,
  });
  if (claiming !== undefined)
    run.logger.warn('State left behind not claimed', { bucket: before.bucket, error: claiming });
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
    externalAccess:
      decision.externalStatements.length === 0
        ? undefined
        : decision.externalStatements.map((statement) => `${statement.label}: ${statement.reason}`),
    whyUnchanged:
      !decision.actOn && decision.externalStatements.length > 0
        ? 'an external grant is for a person to judge; the guard removes only what is public'
        : undefined,
  };
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}

/**
 * A registry's zone of trust: the guard's account, and what the deployment trusts. Never read from the
 * bucket's tags: whoever may tag a bucket must not be able to widen its zone.
 */
export function trustZoneOf(run: RunContext): TrustZone {
  return {
    accountId: run.accountId,
    organizationId: run.settings.trustedOrganizationId,
    trustedAccountIds: run.settings.trustedAccountIds,
  };
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
