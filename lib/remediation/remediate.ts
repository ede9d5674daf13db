/**
 * The order of work on a non-compliant bucket: evidence first, then Block Public Access, then (registry
 * buckets only, and only with evidence safely written) the policy and ACL rewrites.
 */
import { PublicAccessBlockConfiguration, S3Client } from '@aws-sdk/client-s3';
import { AccountBlockPublicAccessReading } from './account-state';
import {
  ActionRecord,
  applyAclRewrite,
  applyPolicyRewrite,
  enableBucketBlockPublicAccess,
  skipped,
} from './actions';
import { describeError } from './aws-errors';
import { LiveBucketState, OwnershipReading, readOwnership } from './bucket-state';
import { BucketDecision } from './decision';
import {
  BucketSnapshot,
  countRecentRemediations,
  evidenceKey,
  LOOP_THRESHOLD,
  writeEvidence,
} from './evidence';
import { aclWithoutPublicGrants, policyWithoutPublicStatements } from './rewrite';

/** Who and what the evidence should name besides the bucket's own settings. */
export interface RemediationContext {
  readonly s3: S3Client;
  /** Where evidence goes; without it nothing is rewritten and loops are not detected. */
  readonly evidenceBucket?: string;
  readonly mode: string;
  readonly now: Date;
  readonly evidenceId: string;
  /** What triggered the guard, e.g. `CloudTrail PutBucketPolicy at ...`. */
  readonly trigger: string;
  readonly callerArn?: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly accountBlockPublicAccess: AccountBlockPublicAccessReading;
}

/** What remediation did to one bucket. */
export interface RemediationOutcome {
  readonly actions: readonly ActionRecord[];
  /** `s3://<evidence bucket>/<key>` once the evidence object is written. */
  readonly evidenceUri?: string;
  /** Set when the bucket was remediated {@link LOOP_THRESHOLD} times or more within the hour, this time included. */
  readonly loop?: { readonly remediationsInLastHour: number };
  /** Why loop detection could not run, when it could not. */
  readonly loopDetectionUnavailable?: string;
}

/**
 * Remediates a NON_COMPLIANT bucket:
 * 1. with an evidence bucket, writes the evidence object first (and counts earlier remediations);
 * 2. turns on all four bucket-level Block Public Access settings and reads them back;
 * 3. for a registry bucket whose evidence was written, removes only the public policy statements and
 *    ACL grants (not the ACL when `BucketOwnerEnforced` disables ACLs).
 * Loop detection counts evidence objects, so without an evidence bucket there is none.
 *
 * @example
 * const outcome = await remediateBucket(context, reading.state, decision);
 * outcome.actions.every((action) => action.status !== 'failed');
 */
export async function remediateBucket(
  context: RemediationContext,
  state: LiveBucketState,
  decision: BucketDecision,
): Promise<RemediationOutcome> {
  const backup =
    context.evidenceBucket === undefined
      ? { actions: [], loopDetectionUnavailable: 'no EVIDENCE_BUCKET to keep the history in' }
      : await backUp(context, context.evidenceBucket, state, decision);
  const actions: ActionRecord[] = [...backup.actions];
  actions.push(
    decision.exposure.bucketBlockPublicAccess.allOn
      ? skipped(
          'block-public-access',
          'Bucket-level Block Public Access',
          'already all on: nothing to change',
        )
      : await enableBucketBlockPublicAccess(context.s3, state.bucket),
  );
  actions.push(...(await rewriteGrants(context, state, decision, backup.evidenceUri, backup.ownership)));
  return {
    actions,
    evidenceUri: backup.evidenceUri,
    loop: backup.loop,
    loopDetectionUnavailable: backup.loopDetectionUnavailable,
  };
}

/** What backing a bucket up produced: the evidence write, the loop count, the ownership read for it. */
interface Backup {
  readonly actions: readonly ActionRecord[];
  readonly evidenceUri?: string;
  readonly loop?: RemediationOutcome['loop'];
  readonly loopDetectionUnavailable?: string;
  readonly ownership?: OwnershipReading;
}

/** Counts earlier remediations, then writes the evidence object (which this count will include next time). */
async function backUp(
  context: RemediationContext,
  evidenceBucket: string,
  state: LiveBucketState,
  decision: BucketDecision,
): Promise<Backup> {
  const [ownership, earlier] = await Promise.all([
    readOwnership(context.s3, state.bucket),
    countRecentRemediations(context.s3, evidenceBucket, state.bucket, context.now).then(
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
  const key = evidenceKey(state.bucket, context.now, context.evidenceId);
  const uri = `s3://${evidenceBucket}/${key}`;
  try {
    await writeEvidence(context.s3, evidenceBucket, key, {
      schema: 'registry-guard/evidence/v1',
      evidenceId: context.evidenceId,
      capturedAt: context.now.toISOString(),
      bucket: state.bucket,
      account: context.accountId,
      region: context.region,
      registryBucket: decision.isRegistry,
      mode: context.mode,
      event: context.trigger,
      caller: context.callerArn,
      whatWasPublic: decision.exposure.reasons,
      loop,
      before: snapshot(state, ownership, context.accountBlockPublicAccess),
    });
    const written: ActionRecord = {
      kind: 'evidence',
      action: `Wrote evidence to ${uri}`,
      status: 'done',
      verified: false,
    };
    return { actions: [written], evidenceUri: uri, loop, loopDetectionUnavailable, ownership };
  } catch (error) {
    const failed: ActionRecord = {
      kind: 'evidence',
      action: `Write evidence to ${uri}`,
      status: 'failed',
      verified: false,
      detail: describeError(error),
    };
    return { actions: [failed], loop, loopDetectionUnavailable, ownership };
  }
}

async function rewriteGrants(
  context: RemediationContext,
  state: LiveBucketState,
  decision: BucketDecision,
  evidenceUri: string | undefined,
  ownership: OwnershipReading | undefined,
): Promise<ActionRecord[]> {
  const { exposure } = decision;
  const whyLeftAlone = !decision.isRegistry
    ? 'only registry buckets are rewritten; Block Public Access now neutralises it'
    : context.evidenceBucket === undefined
      ? 'no EVIDENCE_BUCKET is set to back it up first'
      : evidenceUri === undefined
        ? 'the evidence write failed, so there is no backup to restore from'
        : undefined;
  const actions: ActionRecord[] = [];
  if (exposure.policy.isPublic) {
    const rewrite = policyWithoutPublicStatements(state.policy);
    if (whyLeftAlone !== undefined) {
      actions.push(skipped('policy', 'Left the public bucket policy for a human', whyLeftAlone));
    } else if (rewrite.kind === 'replace' || rewrite.kind === 'delete') {
      actions.push(await applyPolicyRewrite(context.s3, state.bucket, rewrite));
    } else if (rewrite.kind === 'impossible') {
      actions.push(skipped('policy', 'Left the public bucket policy for a human', rewrite.why));
    }
  }
  if (exposure.acl.isPublic) {
    if (whyLeftAlone !== undefined) {
      actions.push(skipped('acl', 'Left the public ACL for a human', whyLeftAlone));
    } else if (ownership?.status === 'found' && ownership.objectOwnership === 'BucketOwnerEnforced') {
      actions.push(
        skipped(
          'acl',
          'Left the ACL as it is',
          'ACLs are disabled (BucketOwnerEnforced), so its grants have no effect',
        ),
      );
    } else {
      actions.push(await applyAclRewrite(context.s3, state.bucket, aclWithoutPublicGrants(state.acl)));
    }
  }
  return actions;
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
