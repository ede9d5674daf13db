/**
 * One Multi-Region Access Point: judge its policy (established and proposed) for each bucket of the account
 * it serves, and page. The guard does not rewrite it: PutMultiRegionAccessPointPolicy is asynchronous (it
 * returns a request token, and the policy changes minutes later), so a rewrite could neither be verified in
 * the invocation nor told apart from a later change. On-call removes the public statements by hand.
 */
import { createHash } from 'crypto';
import { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import {
  GetMultiRegionAccessPointCommand,
  GetMultiRegionAccessPointPolicyCommand,
} from '@aws-sdk/client-s3-control';
import { judgePolicy, PublicStatement } from '../exposure';
import { skipped } from './act/actions';
import { claimIncident, IncidentClaim } from './act/incident-claim';
import { RemediationOutcome } from './act/remediate';
import { describeError } from './aws-errors';
import { decideBucket } from './decide/decision';
import { notApplicable } from './guard-bucket';
import { readBucketState } from './read/bucket-state';
import { BucketOutcome, composeAnnotation, unverifiableOutcome } from './report/outcome';
import { RunContext } from './run-context';

/** What the notes say about why the guard changed nothing. */
const NOT_REMEDIATED =
  'not remediated: a Multi-Region Access Point policy changes asynchronously (PutMultiRegionAccessPointPolicy returns a request token); remove its public statements by hand (runbook, "Access points")';

/**
 * One outcome per bucket of the guard's account behind the Multi-Region Access Point: NON_COMPLIANT when its
 * policy is public (a registry bucket also when RestrictPublicBuckets neutralises it), unless the bucket is an
 * exempt ordinary one. Never throws: a failure is one "could not verify" outcome.
 *
 * @example
 * const outcomes = await guardMultiRegionAccessPoint(run, 'roll-global');
 */
export async function guardMultiRegionAccessPoint(run: RunContext, name: string): Promise<BucketOutcome[]> {
  const label = `Multi-Region Access Point ${name}`;
  let details;
  let policies: { readonly established?: string; readonly proposed?: string };
  try {
    const [description, policy] = await Promise.all([
      run.s3Control.send(new GetMultiRegionAccessPointCommand({ AccountId: run.accountId, Name: name })),
      run.s3Control.send(
        new GetMultiRegionAccessPointPolicyCommand({ AccountId: run.accountId, Name: name }),
      ),
    ]);
    details = description.AccessPoint;
    policies = {
      established: policy.Policy?.Established?.Policy,
      proposed: policy.Policy?.Proposed?.Policy,
    };
  } catch (error) {
    return [
      {
        ...unverifiableOutcome(label, `reading ${label} failed: ${describeError(error)}`),
        wayIn: { kind: 'multi-region-access-point', name, bucketUnknown: true },
      },
    ];
  }
  const wayIn = { kind: 'multi-region-access-point', name, alias: details?.Alias } as const;
  const publicStatements = [
    ...labelled('established policy', policies.established),
    ...labelled('proposed policy', policies.proposed),
  ];
  const reasons = publicStatements.map((statement) => `${label} ${statement.label}: ${statement.reason}`);
  const ownBuckets = (details?.Regions ?? [])
    .filter((region) => region.BucketAccountId === undefined || region.BucketAccountId === run.accountId)
    .map((region) => region.Bucket)
    .filter((bucket): bucket is string => bucket !== undefined && bucket !== '');
  if (ownBuckets.length === 0) {
    const none = notApplicable(label, `${label} serves no bucket of this account`);
    return [{ ...none, wayIn: { ...wayIn, bucketUnknown: true } }];
  }
  const restricted = restrictsPublicPolicies(details?.PublicAccessBlock);
  const fingerprint = `mrap-${name}-${createHash('sha256')
    .update(`${policies.established ?? ''}\u0000${policies.proposed ?? ''}`)
    .digest('hex')
    .slice(0, 16)}`;
  const stillInState = async (): Promise<boolean> => {
    const again = await run.s3Control.send(
      new GetMultiRegionAccessPointPolicyCommand({ AccountId: run.accountId, Name: name }),
    );
    return (
      again.Policy?.Established?.Policy === policies.established &&
      again.Policy?.Proposed?.Policy === policies.proposed
    );
  };
  const outcomes: BucketOutcome[] = [];
  for (const bucket of ownBuckets) {
    const outcome = await judgeBucketBehind(run, bucket, label, reasons, restricted, {
      fingerprint,
      stillInState,
    });
    outcomes.push({ ...outcome, wayIn });
  }
  return outcomes;
}

async function judgeBucketBehind(
  run: RunContext,
  bucket: string,
  label: string,
  reasons: readonly string[],
  restricted: boolean,
  incidentOf: { readonly fingerprint: string; readonly stillInState: () => Promise<boolean> },
): Promise<BucketOutcome> {
  if (reasons.length === 0) {
    return outcomeOf(bucket, {
      compliance: 'COMPLIANT',
      problems: [],
      reasons: [],
      notes: [`${label} is not public`],
    });
  }
  const [reading, accountBlockPublicAccess, ledger] = await Promise.all([
    readBucketState(run.s3, bucket, run.accountId),
    run.accountBlockPublicAccess(),
    run.registries.read(bucket),
  ]);
  if (reading.status === 'missing')
    return notApplicable(bucket, `${label} serves a bucket that no longer exists`);
  if (reading.status === 'unreadable') {
    return {
      ...unverifiableOutcome(
        bucket,
        `${label} is public via its policy, and the bucket could not be read (${reading.operation} failed with ${reading.error})`,
      ),
      reasons,
      notes: [NOT_REMEDIATED],
    };
  }
  const decision = decideBucket({
    state: reading.state,
    accountBlockPublicAccess,
    now: run.now(),
    ledger,
    releasedRegistries: run.settings.releasedRegistries,
    maxExemptionDays: run.settings.maxExemptionDays,
  });
  if (!decision.isRegistry && decision.compliance === 'NOT_APPLICABLE') {
    return outcomeOf(bucket, {
      compliance: 'NOT_APPLICABLE',
      isRegistry: false,
      problems: [],
      reasons,
      notes: [`${label} is public, and the bucket is exempt`, ...decision.notes],
    });
  }
  const accountRestricts =
    accountBlockPublicAccess.status === 'found' &&
    accountBlockPublicAccess.configuration.RestrictPublicBuckets === true;
  const neutralised = restricted || accountRestricts;
  if (!decision.isRegistry && neutralised) {
    return outcomeOf(bucket, {
      compliance: 'COMPLIANT',
      isRegistry: false,
      problems: [],
      reasons: [],
      notes: [`${label}'s public policy is neutralised by RestrictPublicBuckets`],
    });
  }
  let remediation: RemediationOutcome | undefined;
  if (run.settings.mode === 'remediate') {
    // Claimed like any incident: the invocation fails while it is public, and its retries must not page again.
    const evidenceBucket = run.settings.evidenceBucket;
    const incident: IncidentClaim =
      evidenceBucket === undefined
        ? { role: 'unclaimed', why: 'no EVIDENCE_BUCKET to claim it in' }
        : await claimIncident({
            s3: run.s3,
            evidenceBucket,
            bucket,
            fingerprint: incidentOf.fingerprint,
            now: run.now(),
            windowMs: run.settings.incidentWindowMs,
            trigger: run.trigger,
            evidenceKey: '',
            stillInState: incidentOf.stillInState,
          });
    remediation = {
      actions: [skipped('access-point-policy', `Left ${label}'s public policy for a human`, NOT_REMEDIATED)],
      replaced: [],
      incident,
      stillPublic: !neutralised,
    };
  }
  return outcomeOf(bucket, {
    compliance: 'NON_COMPLIANT',
    isRegistry: decision.isRegistry,
    problems: [`${label} public via its policy${neutralised ? ' (neutralised)' : ''}`],
    reasons,
    notes: [NOT_REMEDIATED],
    incident: remediation?.incident,
    remediation,
  });
}

/** A proposed policy becomes the established one within minutes: both are judged. */
function labelled(which: string, policy: string | undefined): PublicStatement[] {
  if (policy === undefined || policy === '') return [];
  return judgePolicy(policy, { kind: 'accessPoint' }).publicStatements.map((statement) => ({
    ...statement,
    label: `${which} ${statement.label}`,
  }));
}

function restrictsPublicPolicies(configuration: PublicAccessBlockConfiguration | undefined): boolean {
  return configuration?.RestrictPublicBuckets === true;
}

function outcomeOf(bucket: string, partial: Omit<BucketOutcome, 'bucket' | 'annotation'>): BucketOutcome {
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}
