/**
 * The guard's evidence bucket and what keeps it tamper-evident: Object Lock on the bucket the guard
 * creates, and bucket-policy denials that hold even against administrators whose IAM policies allow
 * everything.
 */
import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RegistryObjectLock, SensitiveRegistryBucket } from '../sensitive-registry-bucket';

/** Object Lock of the evidence bucket the guard creates, unless `evidenceObjectLock` says otherwise. */
const DEFAULT_EVIDENCE_OBJECT_LOCK: RegistryObjectLock = {
  mode: s3.ObjectLockMode.GOVERNANCE,
  retention: Duration.days(365),
};

/**
 * Creates the guard's evidence bucket (construct id `Evidence`) under Object Lock: a locked version cannot be
 * overwritten or deleted before its retention ends.
 *
 * @example
 * const evidenceBucket = props.evidenceBucket ?? renderEvidenceBucket(this, props.evidenceObjectLock);
 */
export function renderEvidenceBucket(
  guard: Construct,
  objectLock: RegistryObjectLock | undefined,
): SensitiveRegistryBucket {
  return new SensitiveRegistryBucket(guard, 'Evidence', {
    objectLock: objectLock ?? DEFAULT_EVIDENCE_OBJECT_LOCK,
  });
}

/**
 * Evidence that whoever opened a bucket cannot quietly rewrite: nobody but the guard's role writes or
 * deletes objects, and nobody but the break-glass role weakens versioning, lifecycle or Object Lock, or
 * destroys a version. Deny statements, so they hold against administrators whose IAM policies allow
 * everything. Warns on the guard when the bucket has no Object Lock, since a bucket policy alone can be
 * changed by whoever may change it.
 *
 * @example
 * protectEvidence(this, evidenceBucket, role, props.breakGlassRole);
 */
export function protectEvidence(
  guard: Construct,
  evidenceBucket: SensitiveRegistryBucket,
  guardRole: iam.IRole,
  breakGlassRole: iam.IRole | undefined,
): void {
  const evidence = evidenceBucket.bucket;
  if (!isObjectLocked(evidence)) {
    Annotations.of(guard).addWarningV2(
      'registry-guard:evidence-without-object-lock',
      `PublicAccessGuard ${guard.node.path}: the evidence bucket has no Object Lock, so whoever may change its bucket policy can destroy evidence. Give it objectLock, or omit evidenceBucket to have a locked one created.`,
    );
  }
  evidence.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyEvidenceTampering',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [
        's3:DeleteObjectVersion',
        's3:PutBucketVersioning',
        's3:PutLifecycleConfiguration',
        's3:PutBucketObjectLockConfiguration',
        's3:BypassGovernanceRetention',
        's3:PutObjectRetention',
        's3:PutObjectLegalHold',
      ],
      resources: [evidence.bucketArn, evidence.arnForObjects('*')],
      conditions:
        breakGlassRole !== undefined
          ? { ArnNotEquals: { 'aws:PrincipalArn': breakGlassRole.roleArn } }
          : undefined,
    }),
  );
  evidence.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyEvidenceWritesExceptGuard',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resources: [evidence.arnForObjects('*')],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': guardRole.roleArn } },
    }),
  );
}

/** Whether the bucket was defined with Object Lock on (false when it cannot be told before deployment). */
function isObjectLocked(bucket: s3.Bucket): boolean {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  return Stack.of(bucket).resolve(cfn.objectLockEnabled) === true;
}
