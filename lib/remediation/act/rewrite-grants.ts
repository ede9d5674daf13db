/**
 * The policy and ACL rewrites of a non-compliant bucket, each computed from a read taken right before it.
 */
import { judgeAcl, judgePolicy } from '../../exposure';
import { describeError } from '../aws-errors';
import { BucketDecision } from '../decide/decision';
import { aclWithoutPublicGrants, policyWithoutPublicStatements } from '../decide/rewrite';
import {
  BucketAcl,
  LiveBucketState,
  OwnershipReading,
  readOwnership,
  rereadAcl,
  rereadPolicy,
} from '../read/bucket-state';
import { RunContext } from '../run-context';
import { ActionRecord, applyAclRewrite, applyPolicyRewrite, skipped } from './actions';
import { EvidenceRef, replacedStateKey, writeEvidence } from './evidence';
import type { EvidencePlan } from './remediate';

/** What the rewrites need to know about the backup. */
export interface BackupFacts {
  /** The key of an evidence object of this state that exists: ours, or the incident owner's. */
  readonly backupKey?: string;
  /** Why there is no backup to rewrite against. */
  readonly noBackup?: string;
  /** Object ownership, when the backup read it. */
  readonly ownership?: OwnershipReading;
}

/** What the rewrites did, and whether each public way in is now shut. */
export interface Rewrites {
  readonly actions: readonly ActionRecord[];
  readonly replaced: readonly EvidenceRef[];
  /** The public policy no longer lets the public in: rewritten and verified, or found no longer public. */
  readonly policyClosed: boolean;
  readonly aclClosed: boolean;
}

/**
 * Removes only the public policy statements and ACL grants (not the ACL when `BucketOwnerEnforced` disables
 * ACLs): always on a registry bucket, and on an ordinary one when Block Public Access did not take, since the
 * public grant then still works. Only with a backup, and each from a read taken right before it: a setting
 * that changed since the evidence was written is recorded (`replaced`) and the rewrite recomputed from it.
 *
 * @example
 * const rewrites = await rewriteGrants(run, state, decision, backup, blockPublicAccessHolds, plan);
 */
export async function rewriteGrants(
  run: RunContext,
  state: LiveBucketState,
  decision: BucketDecision,
  backup: BackupFacts,
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
      // A setting that is no longer public is left as it is, so there is nothing to keep a copy of.
      const stillPublic = judgePolicy(fresh.value, { kind: 'bucket' }).isPublic;
      const record =
        changed && stillPublic
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
        if (changed && !stillPublic) {
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
        const stillPublic = judgeAcl({ Grants: fresh.value.Grants ?? [] }).isPublic;
        const record =
          changed && stillPublic
            ? await recordReplaced(run, state.bucket, backup.backupKey, plan, 'acl', state.acl, fresh.value)
            : undefined;
        if (record !== undefined && 'failure' in record) {
          actions.push(skipped('acl', 'Left the ACL for a human', record.failure));
        } else {
          if (record !== undefined) replaced.push(record.ref);
          if (changed && !stillPublic) {
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
