/**
 * The order of work on a non-compliant bucket: evidence first, then Block Public Access, then the policy and
 * ACL rewrites (registry buckets always; ordinary buckets when Block Public Access could not be set), each
 * computed from a read taken right before it.
 */
import { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import { describeError } from '../aws-errors';
import { BucketDecision } from '../decide/decision';
import { AccountBlockPublicAccessReading } from '../read/account-state';
import { LiveBucketState, OwnershipReading, readOwnership } from '../read/bucket-state';
import { RunContext } from '../run-context';
import { ActionRecord, enableBucketBlockPublicAccess, skipped } from './actions';
import {
  BucketSnapshot,
  countRecentRemediations,
  EvidenceRef,
  LOOP_THRESHOLD,
  recordEvidence,
} from './evidence';
import { evidenceExists, IncidentClaim } from './incident-claim';
import { BackupFacts, rewriteGrants } from './rewrite-grants';

/** What remediation did to one bucket. */
export interface RemediationOutcome {
  readonly actions: readonly ActionRecord[];
  /** The evidence object, pinned, once written. */
  readonly evidence?: EvidenceRef;
  /** Records of a setting that changed between the evidence and its rewrite (what the rewrite replaced). */
  readonly replaced: readonly EvidenceRef[];
  /** Set when the bucket was remediated {@link LOOP_THRESHOLD} times or more within the hour, this time included. */
  readonly loop?: { readonly remediationsInLastHour: number };
  /** Why loop detection could not run, when it could not. */
  readonly loopDetectionUnavailable?: string;
  /** This invocation's part in the incident. */
  readonly incident: IncidentClaim;
  /** True when, after everything, the public can still reach the bucket. */
  readonly stillPublic: boolean;
  /**
   * The bucket's Block Public Access before the guard changed it, when no evidence object holds it: the
   * notice and the log carry it instead, so it is never recorded nowhere.
   */
  readonly previousBlockPublicAccess?: PublicAccessBlockConfiguration | null;
}

/** Where this run's evidence goes and what it is called. */
export interface EvidencePlan {
  readonly evidenceId: string;
  /** The evidence object's key, decided before the incident is claimed (the claim names it). */
  readonly key: string;
}

/**
 * Remediates a NON_COMPLIANT bucket:
 * 1. the incident's owner writes the evidence object first (and counts earlier remediations); a duplicate
 *    writes none: the owner's holds this very state;
 * 2. turns on all four bucket-level Block Public Access settings and reads them back;
 * 3. removes only the public policy statements and ACL grants (not the ACL when `BucketOwnerEnforced`
 *    disables ACLs): always on a registry bucket, and on an ordinary one when Block Public Access did not
 *    take, since the public grant then still works. Only with a backup, and each from a fresh read.
 *
 * @example
 * const outcome = await remediateBucket(run, reading.state, decision, claim, plan);
 * outcome.stillPublic; // false once closed
 */
export async function remediateBucket(
  run: RunContext,
  state: LiveBucketState,
  decision: BucketDecision,
  claim: IncidentClaim,
  plan: EvidencePlan,
): Promise<RemediationOutcome> {
  const accountBlockPublicAccess = await run.accountBlockPublicAccess();
  const backup = await backUp(run, state, decision, claim, plan, accountBlockPublicAccess);
  const actions: ActionRecord[] = [...backup.actions];
  const bucketBlockPublicAccess = decision.exposure.bucketBlockPublicAccess;
  let blockPublicAccessHolds = bucketBlockPublicAccess.allOn;
  if (bucketBlockPublicAccess.allOn) {
    actions.push(
      skipped('block-public-access', 'Bucket-level Block Public Access', 'already all on: nothing to change'),
    );
  } else {
    const record = await enableBucketBlockPublicAccess(run.s3, state.bucket, run.accountId);
    actions.push(record);
    blockPublicAccessHolds = record.status === 'done' && record.verified;
  }
  const rewrites = await rewriteGrants(run, state, decision, backup, blockPublicAccessHolds, plan);
  actions.push(...rewrites.actions);
  const { exposure } = decision;
  const policyOpen = exposure.policy.isPublic && !exposure.policyNeutralised;
  const aclOpen = exposure.acl.isPublic && !exposure.aclNeutralised;
  const stillPublic =
    !blockPublicAccessHolds && ((policyOpen && !rewrites.policyClosed) || (aclOpen && !rewrites.aclClosed));
  return {
    actions,
    evidence: backup.evidence,
    replaced: rewrites.replaced,
    loop: backup.loop,
    loopDetectionUnavailable: backup.loopDetectionUnavailable,
    incident: claim,
    stillPublic,
    previousBlockPublicAccess:
      backup.evidence === undefined && claim.role !== 'duplicate'
        ? (state.blockPublicAccess ?? null)
        : undefined,
  };
}

/** What backing a bucket up produced. */
interface Backup extends BackupFacts {
  readonly actions: readonly ActionRecord[];
  readonly evidence?: EvidenceRef;
  readonly loop?: RemediationOutcome['loop'];
  readonly loopDetectionUnavailable?: string;
}

async function backUp(
  run: RunContext,
  state: LiveBucketState,
  decision: BucketDecision,
  claim: IncidentClaim,
  plan: EvidencePlan,
  accountBlockPublicAccess: AccountBlockPublicAccessReading,
): Promise<Backup> {
  const evidenceBucket = run.settings.evidenceBucket;
  if (evidenceBucket === undefined) {
    return {
      actions: [],
      noBackup: 'no EVIDENCE_BUCKET is set to back it up first',
      loopDetectionUnavailable: 'no EVIDENCE_BUCKET to keep the history in',
    };
  }
  if (claim.role === 'duplicate') {
    const ownersEvidence = claim.evidenceKey;
    const usable =
      ownersEvidence !== undefined && (await evidenceExists(run.s3, evidenceBucket, ownersEvidence));
    return {
      actions: [
        skipped(
          'evidence',
          'Wrote no evidence',
          `the same incident (same bucket, same state) is handled by ${claim.claimedBy}, claimed at ${claim.claimedAt}`,
        ),
      ],
      backupKey: usable ? ownersEvidence : undefined,
      noBackup: usable
        ? undefined
        : 'the incident owner’s evidence is not written yet, so there is no backup',
    };
  }
  const [ownership, earlier] = await Promise.all([
    readOwnership(run.s3, state.bucket, run.accountId),
    countRecentRemediations(run.s3, evidenceBucket, state.bucket, run.now()).then(
      (count) => ({ count }),
      (error: unknown) => ({ error: describeError(error) }),
    ),
  ]);
  const loop =
    'count' in earlier && earlier.count + 1 >= LOOP_THRESHOLD
      ? { remediationsInLastHour: earlier.count + 1 }
      : undefined;
  const loopDetectionUnavailable =
    'error' in earlier
      ? `listing s3://${evidenceBucket}/${state.bucket}/ failed (${earlier.error})`
      : undefined;
  const { evidence, action } = await recordEvidence(run.s3, evidenceBucket, plan.key, {
    schema: 'registry-guard/evidence/v1',
    evidenceId: plan.evidenceId,
    capturedAt: run.now().toISOString(),
    bucket: state.bucket,
    account: run.accountId,
    region: run.region,
    registryBucket: decision.isRegistry,
    mode: run.settings.mode,
    event: run.trigger,
    caller: run.callerArn,
    whatWasPublic: [...decision.problems, ...decision.exposure.reasons],
    loop,
    before: snapshot(state, ownership, accountBlockPublicAccess),
  });
  return {
    actions: [action],
    evidence,
    backupKey: evidence === undefined ? undefined : plan.key,
    noBackup:
      evidence === undefined ? 'the evidence write failed, so there is no backup to restore from' : undefined,
    loop,
    loopDetectionUnavailable,
    ownership,
  };
}

function snapshot(
  state: LiveBucketState,
  ownership: OwnershipReading | undefined,
  account: AccountBlockPublicAccessReading,
): BucketSnapshot {
  return {
    policy: state.policy ?? null,
    acl: state.acl,
    blockPublicAccess: state.blockPublicAccess ?? null,
    ownershipControls: ownershipSnapshot(ownership),
    tags: state.tags,
    accountBlockPublicAccess: accountSnapshot(account),
  };
}

function ownershipSnapshot(ownership: OwnershipReading | undefined): BucketSnapshot['ownershipControls'] {
  if (ownership === undefined) return { unreadable: 'not read' };
  if (ownership.status === 'found') {
    return ownership.objectOwnership === undefined ? null : { objectOwnership: ownership.objectOwnership };
  }
  if (ownership.status === 'missing') return { unreadable: 'NoSuchBucket' };
  return { unreadable: `${ownership.operation}: ${ownership.error}` };
}

function accountSnapshot(
  account: AccountBlockPublicAccessReading,
): PublicAccessBlockConfiguration | null | { unreadable: string } {
  if (account.status === 'found') return account.configuration;
  if (account.status === 'none') return null;
  return { unreadable: account.error };
}
