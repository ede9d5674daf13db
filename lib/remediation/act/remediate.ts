/**
 * The order of work on a non-compliant bucket: evidence first, then Block Public Access, then the policy and
 * ACL rewrites (registry buckets always; ordinary buckets when Block Public Access could not be set), each
 * computed from a read taken right before it.
 */
import { PublicAccessBlockConfiguration, Tag } from '@aws-sdk/client-s3';
import { judgeAcl, judgePolicy } from '../../exposure';
import { describeError } from '../aws-errors';
import { BucketDecision } from '../decide/decision';
import { aclWithoutPublicGrants, policyWithoutPublicStatements } from '../decide/rewrite';
import { AccountBlockPublicAccessReading } from '../read/account-state';
import {
  BucketAcl,
  LiveBucketState,
  OwnershipReading,
  readOwnership,
  rereadAcl,
  rereadPolicy,
} from '../read/bucket-state';
import { RunContext } from '../run-context';
import {
  ActionRecord,
  applyAclRewrite,
  applyPolicyRewrite,
  enableBucketBlockPublicAccess,
  skipped,
} from './actions';
import {
  BucketSnapshot,
  countRecentRemediations,
  EvidenceRef,
  LOOP_THRESHOLD,
  replacedStateKey,
  writeEvidence,
} from './evidence';
import { evidenceExists, IncidentClaim } from './incident-claim';

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
interface Backup {
  readonly actions: readonly ActionRecord[];
  readonly evidence?: EvidenceRef;
  /** The key of an evidence object of this state that exists: ours, or the incident owner's. */
  readonly backupKey?: string;
  /** Why there is no backup to rewrite against. */
  readonly noBackup?: string;
  readonly loop?: RemediationOutcome['loop'];
  readonly loopDetectionUnavailable?: string;
  readonly ownership?: OwnershipReading;
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
  const uri = `s3://${evidenceBucket}/${plan.key}`;
  try {
    const evidence = await writeEvidence(run.s3, evidenceBucket, plan.key, {
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
    const written: ActionRecord = {
      kind: 'evidence',
      action: `Wrote evidence to ${uri}`,
      status: 'done',
      verified: false,
    };
    return {
      actions: [written],
      evidence,
      backupKey: plan.key,
      loop,
      loopDetectionUnavailable,
      ownership,
    };
  } catch (error) {
    const failed: ActionRecord = {
      kind: 'evidence',
      action: `Write evidence to ${uri}`,
      status: 'failed',
      verified: false,
      detail: describeError(error),
    };
    return {
      actions: [failed],
      noBackup: 'the evidence write failed, so there is no backup to restore from',
      loop,
      loopDetectionUnavailable,
      ownership,
    };
  }
}

interface Rewrites {
  readonly actions: readonly ActionRecord[];
  readonly replaced: readonly EvidenceRef[];
  /** The public policy no longer lets the public in: rewritten and verified, or found no longer public. */
  readonly policyClosed: boolean;
  readonly aclClosed: boolean;
}

async function rewriteGrants(
  run: RunContext,
  state: LiveBucketState,
  decision: BucketDecision,
  backup: Backup,
  blockPublicAccessHolds: boolean,
  plan: EvidencePlan,
): Promise<Rewrites> {
  const { exposure } = decision;
  // An ordinary bucket is closed by Block Public Access alone; when that did not take, its public grants
  // still work, and removing them (backed up) is the only safe thing left.
  const fallback = !decision.isRegistry && !blockPublicAccessHolds;
  const rewritePolicy =
    exposure.policy.isPublic && (decision.isRegistry || (fallback && !exposure.policyNeutralised));
  const rewriteAcl = exposure.acl.isPublic && (decision.isRegistry || (fallback && !exposure.aclNeutralised));
  const whyLeftAlone =
    !decision.isRegistry && !fallback
      ? 'only registry buckets are rewritten; Block Public Access now neutralises it'
      : backup.noBackup;
  const actions: ActionRecord[] = [];
  const replaced: EvidenceRef[] = [];
  let policyClosed = false;
  let aclClosed = false;

  if (exposure.policy.isPublic && (whyLeftAlone !== undefined || !rewritePolicy)) {
    actions.push(
      skipped(
        'policy',
        'Left the public bucket policy for a human',
        whyLeftAlone ?? 'Block Public Access neutralises it',
      ),
    );
  } else if (rewritePolicy && backup.backupKey !== undefined) {
    const fresh = await rereadPolicy(run.s3, state.bucket, run.accountId);
    if (fresh.status === 'unreadable') {
      actions.push(
        failedRewrite('policy', 'Rewrite the bucket policy', `could not read it again first: ${fresh.error}`),
      );
    } else {
      const changed = fresh.value !== state.policy;
      const record = changed
        ? await recordReplaced(
            run,
            state.bucket,
            backup.backupKey,
            plan,
            'policy',
            state.policy ?? null,
            fresh.value ?? null,
          )
        : undefined;
      if (record !== undefined && 'failure' in record) {
        actions.push(skipped('policy', 'Left the bucket policy for a human', record.failure));
      } else {
        if (record !== undefined) replaced.push(record.ref);
        const basis = fresh.value;
        const rewrite = policyWithoutPublicStatements(basis);
        if (changed && !judgePolicy(basis, { kind: 'bucket' }).isPublic) {
          actions.push(
            skipped(
              'policy',
              'Left the bucket policy as it is',
              'it changed since it was read and is no longer public',
            ),
          );
          policyClosed = true;
        } else if (rewrite.kind === 'replace' || rewrite.kind === 'delete') {
          const applied = await applyPolicyRewrite(run.s3, state.bucket, rewrite, run.accountId);
          actions.push(
            changed
              ? {
                  ...applied,
                  detail: joinDetail('computed from the policy as it was right before', applied.detail),
                }
              : applied,
          );
          policyClosed = applied.status === 'done' && applied.verified;
        } else if (rewrite.kind === 'impossible') {
          actions.push(skipped('policy', 'Left the public bucket policy for a human', rewrite.why));
        } else {
          policyClosed = true;
        }
      }
    }
  }

  if (exposure.acl.isPublic && (whyLeftAlone !== undefined || !rewriteAcl)) {
    actions.push(
      skipped('acl', 'Left the public ACL for a human', whyLeftAlone ?? 'Block Public Access neutralises it'),
    );
  } else if (rewriteAcl && backup.backupKey !== undefined) {
    const ownership = backup.ownership ?? (await readOwnership(run.s3, state.bucket, run.accountId));
    if (ownership.status === 'found' && ownership.objectOwnership === 'BucketOwnerEnforced') {
      actions.push(
        skipped(
          'acl',
          'Left the ACL as it is',
          'ACLs are disabled (BucketOwnerEnforced), so its grants have no effect',
        ),
      );
      aclClosed = true;
    } else {
      const fresh = await rereadAcl(run.s3, state.bucket, run.accountId);
      if (fresh.status === 'unreadable') {
        actions.push(
          failedRewrite('acl', 'Rewrite the ACL', `could not read it again first: ${fresh.error}`),
        );
      } else {
        const changed = !sameAcl(fresh.value, state.acl);
        const record = changed
          ? await recordReplaced(run, state.bucket, backup.backupKey, plan, 'acl', state.acl, fresh.value)
          : undefined;
        if (record !== undefined && 'failure' in record) {
          actions.push(skipped('acl', 'Left the ACL for a human', record.failure));
        } else {
          if (record !== undefined) replaced.push(record.ref);
          if (changed && !judgeAcl({ Grants: fresh.value.Grants ?? [] }).isPublic) {
            actions.push(
              skipped('acl', 'Left the ACL as it is', 'it changed since it was read and is no longer public'),
            );
            aclClosed = true;
          } else {
            const applied = await applyAclRewrite(
              run.s3,
              state.bucket,
              aclWithoutPublicGrants(fresh.value),
              run.accountId,
            );
            actions.push(
              changed
                ? {
                    ...applied,
                    detail: joinDetail('computed from the ACL as it was right before', applied.detail),
                  }
                : applied,
            );
            aclClosed = applied.status === 'done' && applied.verified;
          }
        }
      }
    }
  }
  return { actions, replaced, policyClosed, aclClosed };
}

/**
 * The setting changed between the evidence and now: keep what is there now before replacing it, so an
 * owner's change made in between is in the evidence too.
 */
async function recordReplaced(
  run: RunContext,
  bucket: string,
  evidenceKey: string,
  plan: EvidencePlan,
  setting: 'policy' | 'acl',
  decidedFrom: string | BucketAcl | null,
  replaced: string | BucketAcl | null,
): Promise<{ ref: EvidenceRef } | { failure: string }> {
  const evidenceBucket = run.settings.evidenceBucket;
  if (evidenceBucket === undefined) return { failure: 'no EVIDENCE_BUCKET to keep the changed state in' };
  const key = replacedStateKey(evidenceKey, setting, plan.evidenceId);
  try {
    const ref = await writeEvidence(run.s3, evidenceBucket, key, {
      schema: 'registry-guard/evidence-replaced/v1',
      evidenceId: plan.evidenceId,
      capturedAt: run.now().toISOString(),
      bucket,
      setting,
      decidedFrom,
      replaced,
    });
    return { ref };
  } catch (error) {
    return {
      failure: `the ${setting} changed after the evidence was written and the new one could not be backed up (${describeError(error)})`,
    };
  }
}

function failedRewrite(kind: 'policy' | 'acl', action: string, detail: string): ActionRecord {
  return { kind, action, status: 'failed', verified: false, detail };
}

function joinDetail(first: string, second: string | undefined): string {
  return second === undefined ? first : `${first}; ${second}`;
}

function sameAcl(a: BucketAcl, b: BucketAcl): boolean {
  return JSON.stringify([a.Owner?.ID, a.Grants ?? []]) === JSON.stringify([b.Owner?.ID, b.Grants ?? []]);
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
    const uri = `s3://${evidenceBucket}/${plan.key}`;
    try {
      evidence = await writeEvidence(run.s3, evidenceBucket, plan.key, {
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
      actions.push({ kind: 'evidence', action: `Wrote evidence to ${uri}`, status: 'done', verified: false });
    } catch (error) {
      actions.push({
        kind: 'evidence',
        action: `Write evidence to ${uri}`,
        status: 'failed',
        verified: false,
        detail: describeError(error),
      });
    }
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
