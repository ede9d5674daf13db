/**
 * One object a CloudTrail data event says was given an ACL: read it, judge it with the one judgement of
 * "public", and, in remediate mode, back the ACL up and remove only its public grants. The object itself is
 * never touched. Objects are not resources of the Config rule: the outcome is reported for its bucket.
 */
import { createHash } from 'crypto';
import { GetObjectAclCommand, PutObjectAclCommand } from '@aws-sdk/client-s3';
import { judgeAcl } from '../exposure';
import { ActionRecord, changeThenVerify, skipped } from './act/actions';
import { evidenceKey, recordEvidence } from './act/evidence';
import { claimIncident, IncidentClaim } from './act/incident-claim';
import { RemediationOutcome } from './act/remediate';
import { describeError } from './aws-errors';
import { BucketDecision, decideBucket } from './decide/decision';
import { aclWithoutPublicGrants } from './decide/rewrite';
import { notApplicable } from './guard-bucket';
import { BucketAcl, expectedBucketOwner, readBucketState, readOwnership } from './read/bucket-state';
import { Reading, readingOf } from './read/reading';
import { BucketOutcome, composeAnnotation, unverifiableOutcome } from './report/outcome';
import { RunContext } from './run-context';

/** The object an event names. */
export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

type AclReading = Reading<{ readonly acl: BucketAcl }>;

/**
 * Judges one object's ACL. With `BucketOwnerEnforced` ACLs do not apply: nothing is read or changed.
 * IgnorePublicAcls (bucket or account) neutralises a public grant, which still counts on a registry. An
 * exempt ordinary bucket's objects are left alone. Never throws: a failure is "could not verify".
 *
 * @example
 * const outcome = await guardObjectAcl(run, { bucket: 'electoral-roll', key: 'roll.csv' });
 */
export async function guardObjectAcl(run: RunContext, object: ObjectRef): Promise<BucketOutcome> {
  const wayIn = { kind: 'object-acl', key: object.key, versionId: object.versionId } as const;
  try {
    return { ...(await guardObjectAclUnsafe(run, object)), wayIn };
  } catch (error) {
    return {
      ...unverifiableOutcome(
        object.bucket,
        `registry-guard failed on ${describeObject(object)}: ${describeError(error)}`,
      ),
      wayIn,
    };
  }
}

async function guardObjectAclUnsafe(run: RunContext, object: ObjectRef): Promise<BucketOutcome> {
  const ownership = await readOwnership(run.s3, object.bucket, run.accountId);
  if (ownership.status === 'missing') return notApplicable(object.bucket, 'the bucket no longer exists');
  if (ownership.status === 'found' && ownership.objectOwnership === 'BucketOwnerEnforced') {
    run.logger.info(
      'Object ACL event ignored: the bucket enforces bucket-owner ownership, so ACLs do not apply',
      {
        bucket: object.bucket,
        key: object.key,
      },
    );
    return notApplicable(
      object.bucket,
      `ACLs are disabled (BucketOwnerEnforced), so ${describeObject(object)}'s ACL grants nothing`,
    );
  }
  const reading = await readObjectAcl(run, object);
  if (reading.status === 'missing')
    return notApplicable(object.bucket, `${describeObject(object)} no longer exists`);
  if (reading.status === 'unreadable') {
    return unverifiableOutcome(
      object.bucket,
      `reading ${describeObject(object)}'s ACL failed: ${reading.error}`,
    );
  }
  const verdict = judgeAcl(reading.acl.Grants ?? []);
  const reasons = [
    ...verdict.publicGrants.map(
      (grant) => `${describeObject(object)}: ${grant.permission} granted to ${grant.grantee}`,
    ),
    ...(verdict.unreadable === undefined ? [] : [`${describeObject(object)}: ${verdict.unreadable}`]),
  ];
  if (!verdict.isPublic) {
    return outcomeOf(object.bucket, {
      compliance: 'COMPLIANT',
      problems: [],
      reasons: [],
      notes: [`${describeObject(object)} is not public`],
    });
  }
  const [bucketReading, accountBlockPublicAccess, ledger] = await Promise.all([
    readBucketState(run.s3, object.bucket, run.accountId),
    run.accountBlockPublicAccess(),
    run.registries.read(object.bucket),
  ]);
  if (bucketReading.status === 'missing') return notApplicable(object.bucket, 'the bucket no longer exists');
  if (bucketReading.status === 'unreadable') {
    return {
      ...unverifiableOutcome(
        object.bucket,
        `${describeObject(object)} has a public ACL, and its bucket could not be read (${bucketReading.operation} failed with ${bucketReading.error})`,
      ),
      reasons,
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
  if (!decision.isRegistry && decision.compliance === 'NOT_APPLICABLE') {
    return outcomeOf(object.bucket, {
      compliance: 'NOT_APPLICABLE',
      isRegistry: false,
      problems: [],
      reasons,
      notes: [`${describeObject(object)} has a public ACL, and its bucket is exempt`, ...decision.notes],
    });
  }
  const neutralisedBy =
    bucketReading.state.blockPublicAccess?.IgnorePublicAcls === true
      ? 'bucket'
      : accountBlockPublicAccess.status === 'found' &&
          accountBlockPublicAccess.configuration.IgnorePublicAcls === true
        ? 'account'
        : undefined;
  if (!decision.isRegistry && neutralisedBy !== undefined) {
    return outcomeOf(object.bucket, {
      compliance: 'COMPLIANT',
      isRegistry: false,
      problems: [],
      reasons: [],
      notes: [
        `${describeObject(object)}'s public ACL is neutralised by ${neutralisedBy}-level Block Public Access (IgnorePublicAcls)`,
      ],
    });
  }
  const partial = {
    compliance: 'NON_COMPLIANT' as const,
    isRegistry: decision.isRegistry,
    problems: [
      `${describeObject(object)} public via its ACL${neutralisedBy === undefined ? '' : ' (neutralised)'}`,
    ],
    reasons,
    notes: [],
  };
  if (run.settings.mode !== 'remediate') return outcomeOf(object.bucket, partial);
  const remediation = await closeObjectAcl(
    run,
    object,
    reading.acl,
    decision,
    reasons,
    neutralisedBy === undefined,
  );
  return outcomeOf(object.bucket, { ...partial, incident: remediation.incident, remediation });
}

/**
 * Backs the ACL up, then writes it without its public grants (the owner and every other grant kept), only
 * when a read right before is the backed-up ACL: one changed in between is left to its own event.
 */
async function closeObjectAcl(
  run: RunContext,
  object: ObjectRef,
  acl: BucketAcl,
  decision: BucketDecision,
  reasons: readonly string[],
  effectivelyPublic: boolean,
): Promise<RemediationOutcome> {
  const evidenceBucket = run.settings.evidenceBucket;
  const now = run.now();
  const evidenceId = run.newId();
  const key = evidenceKey(object.bucket, now, evidenceId);
  const aclText = JSON.stringify(acl);
  const fingerprint = `object-acl-${createHash('sha256')
    .update(`${object.key}\u0000${object.versionId ?? ''}\u0000${aclText}`)
    .digest('hex')
    .slice(0, 24)}`;
  const incident: IncidentClaim =
    evidenceBucket === undefined
      ? { role: 'unclaimed', why: 'no EVIDENCE_BUCKET to claim it in' }
      : await claimIncident({
          s3: run.s3,
          evidenceBucket,
          bucket: object.bucket,
          fingerprint,
          now,
          windowMs: run.settings.incidentWindowMs,
          trigger: run.trigger,
          evidenceKey: key,
          stillInState: async () => {
            const again = await readObjectAcl(run, object);
            return again.status === 'found' && JSON.stringify(again.acl) === aclText;
          },
        });
  if (incident.role === 'duplicate') return { actions: [], replaced: [], incident, stillPublic: false };
  const leftAlone = (why: string): ActionRecord =>
    skipped('object-acl', `Left ${describeObject(object)}'s public ACL for a human`, why);
  if (evidenceBucket === undefined) {
    return {
      actions: [leftAlone('no EVIDENCE_BUCKET is set to back it up first')],
      replaced: [],
      incident,
      stillPublic: effectivelyPublic,
    };
  }
  const backup = await recordEvidence(run.s3, evidenceBucket, key, {
    schema: 'registry-guard/evidence/v1',
    evidenceId,
    capturedAt: now.toISOString(),
    bucket: object.bucket,
    account: run.accountId,
    region: run.region,
    registryBucket: decision.isRegistry,
    mode: run.settings.mode,
    event: run.trigger,
    caller: run.callerArn,
    whatWasPublic: reasons,
    before: { object: { key: object.key, versionId: object.versionId, acl } },
  });
  if (backup.evidence === undefined) {
    return {
      actions: [backup.action, leftAlone('the backup could not be written')],
      replaced: [],
      incident,
      stillPublic: effectivelyPublic,
    };
  }
  const fresh = await readObjectAcl(run, object);
  if (fresh.status !== 'found' || JSON.stringify(fresh.acl) !== aclText) {
    const why =
      fresh.status === 'found'
        ? 'its ACL changed after it was backed up; the event of that change judges it again'
        : fresh.status === 'missing'
          ? 'the object was deleted'
          : `it could not be read again (${fresh.error})`;
    return {
      actions: [backup.action, leftAlone(why)],
      evidence: backup.evidence,
      replaced: [],
      incident,
      stillPublic: fresh.status === 'missing' ? false : effectivelyPublic,
    };
  }
  const rewrite = aclWithoutPublicGrants(acl);
  const ownerCheck = expectedBucketOwner(run.accountId);
  const record = await changeThenVerify(
    'object-acl',
    `Removed ${rewrite.removed.length} public grant${rewrite.removed.length === 1 ? '' : 's'} from ${describeObject(object)}'s ACL, kept the owner's and every other grant`,
    () =>
      run.s3.send(
        new PutObjectAclCommand({
          Bucket: object.bucket,
          Key: object.key,
          VersionId: object.versionId,
          AccessControlPolicy: { Owner: rewrite.acl.Owner, Grants: rewrite.acl.Grants },
          ...ownerCheck,
        }),
      ),
    async () => {
      const after = await readObjectAcl(run, object);
      if (after.status !== 'found')
        return after.status === 'missing' ? undefined : `unreadable: ${after.error}`;
      return judgeAcl(after.acl.Grants ?? []).isPublic
        ? 'the object ACL still has a public grant'
        : undefined;
    },
  );
  return {
    actions: [backup.action, record],
    evidence: backup.evidence,
    replaced: [],
    incident,
    stillPublic: effectivelyPublic && !(record.status === 'done' && record.verified),
  };
}

async function readObjectAcl(run: RunContext, object: ObjectRef): Promise<AclReading> {
  return readingOf(async (): Promise<AclReading> => {
    const output = await run.s3.send(
      new GetObjectAclCommand({
        Bucket: object.bucket,
        Key: object.key,
        VersionId: object.versionId,
        ...expectedBucketOwner(run.accountId),
      }),
    );
    return { status: 'found', acl: { Owner: output.Owner, Grants: output.Grants ?? [] } };
  }, ['NoSuchKey', 'NoSuchVersion', 'NoSuchBucket']);
}

function describeObject(object: ObjectRef): string {
  return `object ${object.key}${object.versionId === undefined ? '' : ` (version ${object.versionId})`}`;
}

function outcomeOf(bucket: string, partial: Omit<BucketOutcome, 'bucket' | 'annotation'>): BucketOutcome {
  return { bucket, ...partial, annotation: composeAnnotation(partial) };
}
