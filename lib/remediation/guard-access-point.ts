/**
 * One access point, start to finish: read it and its bucket, judge it with the one judgement of "public"
 * (lib/exposure), and, in remediate mode, back its policy up and remove only the public statements. Access
 * points are not resources of the Config rule: the outcome is reported for the bucket they open (notice,
 * logs and the run's result), never as an evaluation of the access point.
 */
import { createHash } from 'crypto';
import { PublicAccessBlockConfiguration } from '@aws-sdk/client-s3';
import {
  DeleteAccessPointPolicyCommand,
  GetAccessPointCommand,
  GetAccessPointPolicyCommand,
  PutAccessPointPolicyCommand,
} from '@aws-sdk/client-s3-control';
import { judgeAccessPoint, judgeBlockPublicAccess, judgeExternalAccess, PolicyVerdict } from '../exposure';
import { ActionRecord, changeThenVerify, skipped } from './act/actions';
import { evidenceKey, recordEvidence } from './act/evidence';
import { claimIncident, IncidentClaim } from './act/incident-claim';
import { RemediationOutcome } from './act/remediate';
import { describeError, errorName } from './aws-errors';
import { BucketDecision, decideBucket } from './decide/decision';
import { policyWithoutPublicStatements } from './decide/rewrite';
import { notApplicable, trustZoneOf } from './guard-bucket';
import { readBucketState } from './read/bucket-state';
import { Reading, readingOf } from './read/reading';
import { BucketOutcome, composeAnnotation, unverifiableOutcome } from './report/outcome';
import { RunContext } from './run-context';

/** An access point of the guard's account as S3 Control reports it. */
interface AccessPointState {
  readonly name: string;
  readonly bucket: string;
  /** Set when the bucket belongs to another account (a cross-account access point). */
  readonly bucketAccountId?: string;
  readonly networkOrigin: 'Internet' | 'VPC';
  /** Fixed at creation: S3 has no call that changes it. */
  readonly blockPublicAccess?: PublicAccessBlockConfiguration;
  /** The policy text exactly as S3 Control returned it; undefined when there is none. */
  readonly policy?: string;
  /** Set when the access point was read but its policy could not be: why. */
  readonly policyUnreadable?: string;
}

type AccessPointReading = Reading<{ readonly accessPoint: AccessPointState }>;

/**
 * Reads, judges and, in remediate mode, closes one access point of the guard's account. Public means what
 * {@link judgeAccessPoint} says (a VPC-only access point never is); RestrictPublicBuckets at the access
 * point, its bucket or the account neutralises a public policy, which still counts against a registry.
 * An exempt ordinary bucket's access points are left alone. Never throws: a failure is "could not verify".
 *
 * @example
 * const outcome = await guardAccessPoint(run, 'roll-analytics');
 * outcome.problems; // ['access point roll-analytics public via its policy']
 */
export async function guardAccessPoint(run: RunContext, name: string): Promise<BucketOutcome> {
  try {
    return { wayIn: { kind: 'access-point', name }, ...(await guardAccessPointUnsafe(run, name)) };
  } catch (error) {
    return aboutAccessPointAlone(
      name,
      unverifiableOutcome(`access point ${name}`, `registry-guard failed on it: ${describeError(error)}`),
    );
  }
}

/** An outcome about the access point alone: its bucket is unknown, `bucket` is only its label. */
function aboutAccessPointAlone(name: string, outcome: BucketOutcome): BucketOutcome {
  return { ...outcome, wayIn: { kind: 'access-point', name, bucketUnknown: true } };
}

async function guardAccessPointUnsafe(run: RunContext, name: string): Promise<BucketOutcome> {
  const reading = await readAccessPoint(run, name);
  if (reading.status === 'missing') {
    return aboutAccessPointAlone(
      name,
      notApplicable(`access point ${name}`, 'the access point no longer exists'),
    );
  }
  if (reading.status === 'unreadable') {
    return aboutAccessPointAlone(
      name,
      unverifiableOutcome(`access point ${name}`, `reading access point ${name} failed: ${reading.error}`),
    );
  }
  const { accessPoint } = reading;
  if (accessPoint.bucketAccountId !== undefined && accessPoint.bucketAccountId !== run.accountId) {
    // The bucket's owner decides who reaches it through this access point: its own guard judges that.
    return notApplicable(
      accessPoint.bucket,
      `access point ${name} serves a bucket of account ${accessPoint.bucketAccountId}, which its owner guards`,
    );
  }
  if (accessPoint.policyUnreadable !== undefined) {
    // Who this access point lets in cannot be told: the bucket it opens is not verified.
    return unverifiableOutcome(
      accessPoint.bucket,
      `reading access point ${name}'s policy failed: ${accessPoint.policyUnreadable}`,
    );
  }
  const verdict = judgeAccessPoint({ policy: accessPoint.policy, networkOrigin: accessPoint.networkOrigin });
  const [bucketReading, accountBlockPublicAccess, ledger] = await Promise.all([
    readBucketState(run.s3, accessPoint.bucket, run.accountId),
    run.accountBlockPublicAccess(),
    run.registries.read(accessPoint.bucket),
  ]);
  if (bucketReading.status === 'missing') {
    return notApplicable(accessPoint.bucket, `access point ${name} serves a bucket that no longer exists`);
  }
  const ownNotes = accessPointNotes(accessPoint);
  if (bucketReading.status === 'unreadable') {
    if (!verdict.isPublic) return compliant(accessPoint, undefined, ownNotes);
    // Registry or exempt cannot be told: page, change nothing on a guess.
    return {
      ...unverifiableOutcome(
        accessPoint.bucket,
        `access point ${name} is public via its policy, and its bucket could not be read (${bucketReading.operation} failed with ${bucketReading.error})`,
      ),
      reasons: reasonsOf(name, verdict),
    };
  }
  const decision = decideBucket({
    state: bucketReading.state,
    accountBlockPublicAccess,
    now: run.now(),
    ledger,
    releasedRegistries: run.settings.releasedRegistries,
    maxExemptionDays: run.settings.maxExemptionDays,
  });
  const restrictedBy = restrictingLevel(
    accessPoint.blockPublicAccess,
    bucketReading.state.blockPublicAccess,
    accountBlockPublicAccess.status === 'found' ? accountBlockPublicAccess.configuration : undefined,
  );
  const external = decision.isRegistry ? externalButNotPublic(run, accessPoint, verdict) : [];
  if (!verdict.isPublic && external.length > 0) {
    return outcomeOf(accessPoint.bucket, {
      compliance: 'NON_COMPLIANT',
      isRegistry: true,
      problems: [`access point ${name} grants outside the zone of trust`],
      reasons: [],
      notes: ownNotes,
      externalAccess: external,
      whyUnchanged: 'an external grant is for a person to judge; the guard removes only what is public',
    });
  }
  if (!verdict.isPublic) return compliant(accessPoint, decision, ownNotes);
  if (!decision.isRegistry && decision.compliance === 'NOT_APPLICABLE') {
    return outcomeOf(accessPoint.bucket, {
      compliance: 'NOT_APPLICABLE',
      isRegistry: false,
      problems: [],
      reasons: reasonsOf(name, verdict),
      notes: [`access point ${name} is public, and its bucket is exempt`, ...decision.notes, ...ownNotes],
    });
  }
  if (!decision.isRegistry && restrictedBy !== undefined) {
    return compliant(accessPoint, decision, [
      `access point ${name}'s public policy is neutralised by ${restrictedBy}-level Block Public Access (RestrictPublicBuckets)`,
      ...ownNotes,
    ]);
  }
  const problems = [
    `access point ${name} public via its policy${restrictedBy === undefined ? '' : ' (neutralised)'}`,
  ];
  const notes = [...ownNotes];
  const externalAccess = external.length === 0 ? undefined : external;
  if (run.settings.mode !== 'remediate') {
    return outcomeOf(accessPoint.bucket, {
      compliance: 'NON_COMPLIANT',
      isRegistry: decision.isRegistry,
      problems,
      reasons: reasonsOf(name, verdict),
      notes,
      externalAccess,
    });
  }
  const remediation = await closeAccessPoint(run, accessPoint, decision, verdict, restrictedBy);
  return outcomeOf(accessPoint.bucket, {
    compliance: 'NON_COMPLIANT',
    isRegistry: decision.isRegistry,
    problems,
    reasons: reasonsOf(name, verdict),
    notes,
    incident: remediation.incident,
    remediation,
    externalAccess,
  });
}

/**
 * Backs the access point's policy up, then removes its public statements, computed from a read taken right
 * before and only when that read is the backed-up text: a policy changed in between is left for the next
 * event (its own CloudTrail event follows), never rewritten without a backup of what it replaces.
 */
async function closeAccessPoint(
  run: RunContext,
  accessPoint: AccessPointState,
  decision: BucketDecision,
  verdict: PolicyVerdict,
  restrictedBy: string | undefined,
): Promise<RemediationOutcome> {
  const evidenceBucket = run.settings.evidenceBucket;
  const now = run.now();
  const evidenceId = run.newId();
  const key = evidenceKey(accessPoint.bucket, now, evidenceId);
  const fingerprint = `access-point-${accessPoint.name}-${createHash('sha256')
    .update(accessPoint.policy ?? '')
    .digest('hex')
    .slice(0, 16)}`;
  const incident: IncidentClaim =
    evidenceBucket === undefined
      ? { role: 'unclaimed', why: 'no EVIDENCE_BUCKET to claim it in' }
      : await claimIncident({
          s3: run.s3,
          evidenceBucket,
          bucket: accessPoint.bucket,
          fingerprint,
          now,
          windowMs: run.settings.incidentWindowMs,
          trigger: run.trigger,
          evidenceKey: key,
          stillInState: async () => {
            const again = await readAccessPoint(run, accessPoint.name);
            return again.status === 'found' && again.accessPoint.policy === accessPoint.policy;
          },
        });
  const effectivelyPublic = restrictedBy === undefined;
  const leftAlone = (why: string): RemediationOutcome => ({
    actions: [
      skipped(
        'access-point-policy',
        `Left access point ${accessPoint.name}'s public policy for a human`,
        why,
      ),
    ],
    replaced: [],
    incident,
    stillPublic: effectivelyPublic,
  });
  if (incident.role === 'duplicate') {
    return { actions: [], replaced: [], incident, stillPublic: false };
  }
  if (evidenceBucket === undefined) return leftAlone('no EVIDENCE_BUCKET is set to back it up first');
  const backup = await recordEvidence(run.s3, evidenceBucket, key, {
    schema: 'registry-guard/evidence/v1',
    evidenceId,
    capturedAt: now.toISOString(),
    bucket: accessPoint.bucket,
    account: run.accountId,
    region: run.region,
    registryBucket: decision.isRegistry,
    mode: run.settings.mode,
    event: run.trigger,
    caller: run.callerArn,
    whatWasPublic: reasonsOf(accessPoint.name, verdict),
    before: {
      accessPoint: {
        name: accessPoint.name,
        bucket: accessPoint.bucket,
        networkOrigin: accessPoint.networkOrigin,
        blockPublicAccess: accessPoint.blockPublicAccess ?? null,
        policy: accessPoint.policy ?? null,
      },
    },
  });
  const actions: ActionRecord[] = [backup.action];
  if (backup.evidence === undefined) {
    const unbacked = leftAlone('the backup could not be written');
    return { ...unbacked, actions: [...actions, ...unbacked.actions] };
  }
  const fresh = await readAccessPoint(run, accessPoint.name);
  if (fresh.status !== 'found' || fresh.accessPoint.policy !== accessPoint.policy) {
    const why =
      fresh.status === 'found'
        ? 'its policy changed after it was backed up; the event of that change judges it again'
        : fresh.status === 'missing'
          ? 'the access point was deleted'
          : `it could not be read again (${fresh.error})`;
    return {
      actions: [
        ...actions,
        skipped('access-point-policy', `Left access point ${accessPoint.name}'s policy as is`, why),
      ],
      evidence: backup.evidence,
      replaced: [],
      incident,
      stillPublic: fresh.status === 'missing' ? false : effectivelyPublic,
    };
  }
  const rewrite = policyWithoutPublicStatements(accessPoint.policy, 'accessPoint');
  const record =
    rewrite.kind === 'replace' || rewrite.kind === 'delete'
      ? await applyAccessPointRewrite(run, accessPoint.name, rewrite)
      : skipped(
          'access-point-policy',
          `Left access point ${accessPoint.name}'s policy for a human`,
          rewrite.kind === 'impossible' ? rewrite.why : 'no statement could be named as public',
        );
  return {
    actions: [...actions, record],
    evidence: backup.evidence,
    replaced: [],
    incident,
    stillPublic: effectivelyPublic && !(record.status === 'done' && record.verified),
  };
}

async function applyAccessPointRewrite(
  run: RunContext,
  name: string,
  rewrite: Extract<ReturnType<typeof policyWithoutPublicStatements>, { kind: 'replace' | 'delete' }>,
): Promise<ActionRecord> {
  const removed = rewrite.removed.map((statement) => statement.label).join(', ');
  const verify = async (): Promise<string | undefined> => {
    const after = await readAccessPoint(run, name);
    if (after.status !== 'found')
      return after.status === 'missing' ? undefined : `unreadable: ${after.error}`;
    return judgeAccessPoint({
      policy: after.accessPoint.policy,
      networkOrigin: after.accessPoint.networkOrigin,
    }).isPublic
      ? 'the access point policy is still public'
      : undefined;
  };
  if (rewrite.kind === 'delete') {
    return changeThenVerify(
      'access-point-policy',
      `Deleted access point ${name}'s policy: every statement was public (${removed})`,
      () => run.s3Control.send(new DeleteAccessPointPolicyCommand({ AccountId: run.accountId, Name: name })),
      verify,
    );
  }
  return changeThenVerify(
    'access-point-policy',
    `Removed ${removed} from access point ${name}'s policy, kept ${rewrite.keptStatements}`,
    () =>
      run.s3Control.send(
        new PutAccessPointPolicyCommand({ AccountId: run.accountId, Name: name, Policy: rewrite.policy }),
      ),
    verify,
  );
}

/** GetAccessPoint and GetAccessPointPolicy, both for the guard's own account (S3 Control's AccountId). */
async function readAccessPoint(run: RunContext, name: string): Promise<AccessPointReading> {
  return readingOf(async (): Promise<AccessPointReading> => {
    const [description, policy] = await Promise.all([
      run.s3Control.send(new GetAccessPointCommand({ AccountId: run.accountId, Name: name })),
      run.s3Control
        .send(new GetAccessPointPolicyCommand({ AccountId: run.accountId, Name: name }))
        .then((output) => ({ policy: output.Policy === '' ? undefined : output.Policy }))
        .catch((error: unknown) => {
          if (errorName(error) === 'NoSuchAccessPointPolicy') return { policy: undefined };
          // Kept apart: the access point itself says which bucket the unknown policy opens.
          return { policy: undefined, policyUnreadable: describeError(error) };
        }),
    ]);
    if (description.Bucket === undefined || description.Bucket === '') {
      return { status: 'unreadable', error: 'GetAccessPoint named no bucket' };
    }
    return {
      status: 'found',
      accessPoint: {
        name,
        bucket: description.Bucket,
        bucketAccountId: description.BucketAccountId === '' ? undefined : description.BucketAccountId,
        // Anything but an explicit VPC origin is judged as internet-facing: never looser.
        networkOrigin: description.NetworkOrigin === 'VPC' ? 'VPC' : 'Internet',
        blockPublicAccess: description.PublicAccessBlockConfiguration,
        ...policy,
      },
    };
  }, ['NoSuchAccessPoint']);
}

/** RestrictPublicBuckets at any level keeps a public access point policy from the public. */
function restrictingLevel(
  accessPoint: PublicAccessBlockConfiguration | undefined,
  bucket: PublicAccessBlockConfiguration | undefined,
  account: PublicAccessBlockConfiguration | undefined,
): string | undefined {
  if (accessPoint?.RestrictPublicBuckets === true) return 'access-point';
  if (bucket?.RestrictPublicBuckets === true) return 'bucket';
  if (account?.RestrictPublicBuckets === true) return 'account';
  return undefined;
}

function accessPointNotes(accessPoint: AccessPointState): string[] {
  const settingsOff = judgeBlockPublicAccess(accessPoint.blockPublicAccess).settingsOff;
  if (settingsOff.length === 0) return [];
  return [
    `access point ${accessPoint.name}'s own Block Public Access is off (${settingsOff.join(', ')}); S3 cannot change it after creation, so only its policy keeps it private`,
  ];
}

/**
 * A registry's access point statements that grant outside its zone of trust without being public: paged,
 * never removed (the public ones are the public judgement's to name and remove).
 */
function externalButNotPublic(
  run: RunContext,
  accessPoint: AccessPointState,
  verdict: PolicyVerdict,
): string[] {
  if (accessPoint.policy === undefined) return [];
  const publicIndexes = new Set(verdict.publicStatements.map((statement) => statement.index));
  return judgeExternalAccess(accessPoint.policy, trustZoneOf(run), { kind: 'accessPoint' })
    .externalStatements.filter((statement) => !publicIndexes.has(statement.index))
    .map((statement) => `access point ${accessPoint.name} ${statement.label}: ${statement.reason}`);
}

function reasonsOf(name: string, verdict: PolicyVerdict): string[] {
  return verdict.publicStatements.map(
    (statement) => `access point ${name} ${statement.label}: ${statement.reason}`,
  );
}

function compliant(
  accessPoint: AccessPointState,
  decision: BucketDecision | undefined,
  notes: readonly string[],
): BucketOutcome {
  return outcomeOf(accessPoint.bucket, {
    compliance: 'COMPLIANT',
    isRegistry: decision?.isRegistry,
    problems: [],
    reasons: [],
    notes: [`access point ${accessPoint.name} is not public`, ...notes],
  });
}

function outcomeOf(bucket: string, partial: Omit<BucketOutcome, 'bucket' | 'annotation'>): BucketOutcome {
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}
