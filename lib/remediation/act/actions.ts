/**
 * The changes the guard makes, one function each. Every change only tightens access, and each is read
 * back and judged again, so a notice can say "verified" and mean it.
 */
import {
  DeleteBucketPolicyCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import { judgeAcl, judgeBlockPublicAccess, judgePolicy, PublicStatement } from '../../exposure';
import { describeError, errorName } from '../aws-errors';
import { AclRewrite, PolicyRewrite } from '../decide/rewrite';
import { expectedBucketOwner } from '../read/bucket-state';

/** How an action ended. */
export type ActionStatus = 'done' | 'failed' | 'skipped';

/** Which change an {@link ActionRecord} is about: short names for annotations. */
export type ActionKind =
  | 'evidence'
  | 'block-public-access'
  | 'account-block-public-access'
  | 'policy'
  | 'acl'
  | 'access-point-policy'
  | 'object-acl';

/** One thing the guard did (or decided not to do), for annotations, notices and logs. */
export interface ActionRecord {
  readonly kind: ActionKind;
  /** What, in words: "Turned on all four bucket-level Block Public Access settings". */
  readonly action: string;
  readonly status: ActionStatus;
  /** True when the result was read back and judged as intended (evidence is written, never read back). */
  readonly verified: boolean;
  /** Why it failed or was skipped, or what the read-back showed. */
  readonly detail?: string;
}

const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
} as const;

/**
 * Turns on all four bucket-level Block Public Access settings, then reads them back. With `expectedOwner`
 * (the guard's account id), both calls send `ExpectedBucketOwner`, so a bucket of the same name in another
 * account is never changed.
 *
 * @example
 * const record = await enableBucketBlockPublicAccess(new S3Client({}), 'roll', '123456789012');
 * record.verified; // true once S3 reports all four on
 */
export async function enableBucketBlockPublicAccess(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<ActionRecord> {
  const ownerCheck = expectedBucketOwner(expectedOwner);
  return changeThenVerify(
    'block-public-access',
    'Turned on all four bucket-level Block Public Access settings',
    () =>
      s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: ALL_ON,
          ...ownerCheck,
        }),
      ),
    async () =>
      whatIsStillOff(
        await readBlockPublicAccess(() =>
          s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket, ...ownerCheck })),
        ),
      ),
  );
}

/**
 * Turns on all four account-level Block Public Access settings (S3 Control), then reads them back.
 *
 * @example
 * await restoreAccountBlockPublicAccess(new S3ControlClient({}), '123456789012');
 */
export async function restoreAccountBlockPublicAccess(
  s3Control: S3ControlClient,
  accountId: string,
): Promise<ActionRecord> {
  return changeThenVerify(
    'account-block-public-access',
    `Turned on all four account-level Block Public Access settings for ${accountId}`,
    () =>
      s3Control.send(
        new PutAccountPublicAccessBlockCommand({
          AccountId: accountId,
          PublicAccessBlockConfiguration: ALL_ON,
        }),
      ),
    async () =>
      whatIsStillOff(
        await readBlockPublicAccess(() =>
          s3Control.send(new GetAccountPublicAccessBlockCommand({ AccountId: accountId })),
        ),
      ),
  );
}

/**
 * Applies a {@link PolicyRewrite}: writes the policy without its public statements, or deletes it when
 * none is left, then reads it back and judges it again. With `expectedOwner`, every call sends
 * `ExpectedBucketOwner`.
 *
 * @example
 * const rewrite = policyWithoutPublicStatements(policyText);
 * if (rewrite.kind === 'replace' || rewrite.kind === 'delete') await applyPolicyRewrite(new S3Client({}), 'roll', rewrite, '123456789012');
 */
export async function applyPolicyRewrite(
  s3: S3Client,
  bucket: string,
  rewrite: Extract<PolicyRewrite, { kind: 'replace' | 'delete' }>,
  expectedOwner?: string,
): Promise<ActionRecord> {
  const ownerCheck = expectedBucketOwner(expectedOwner);
  const removed = describeStatements(rewrite.removed);
  if (rewrite.kind === 'delete') {
    return changeThenVerify(
      'policy',
      `Deleted the bucket policy: every statement was public (${removed})`,
      () => s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket, ...ownerCheck })),
      async () => {
        try {
          await s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ...ownerCheck }));
          return 'the bucket still has a policy';
        } catch (error) {
          if (errorName(error) === 'NoSuchBucketPolicy') return undefined;
          throw error;
        }
      },
    );
  }
  return changeThenVerify(
    'policy',
    `Removed ${removed} from the bucket policy; kept the other ${count(rewrite.keptStatements, 'statement')} unchanged`,
    () => s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: rewrite.policy, ...ownerCheck })),
    async () => {
      const readBack = await s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ...ownerCheck }));
      return judgePolicy(readBack.Policy, { kind: 'bucket' }).isPublic
        ? 'the policy is still public'
        : undefined;
    },
  );
}

/**
 * Writes the ACL without its public grants, keeping the owner and every other grant, then reads it back.
 * With `expectedOwner`, both calls send `ExpectedBucketOwner`.
 *
 * @example
 * const rewrite = aclWithoutPublicGrants(acl);
 * if (rewrite.changed) await applyAclRewrite(new S3Client({}), 'roll', rewrite, '123456789012');
 */
export async function applyAclRewrite(
  s3: S3Client,
  bucket: string,
  rewrite: AclRewrite,
  expectedOwner?: string,
): Promise<ActionRecord> {
  const ownerCheck = expectedBucketOwner(expectedOwner);
  const grants = rewrite.removed.map((grant) => `${grant.permission} to ${grant.grantee}`).join(', ');
  const action = `Removed the public ACL grants (${grants}); kept the other ${count(rewrite.acl.Grants.length, 'grant')} unchanged`;
  const owner = rewrite.acl.Owner;
  if (owner === undefined) {
    return {
      kind: 'acl',
      action,
      status: 'failed',
      verified: false,
      detail: 'GetBucketAcl returned no owner to write back',
    };
  }
  return changeThenVerify(
    'acl',
    action,
    () =>
      s3.send(
        new PutBucketAclCommand({
          Bucket: bucket,
          AccessControlPolicy: { Owner: owner, Grants: rewrite.acl.Grants },
          ...ownerCheck,
        }),
      ),
    async () => {
      const readBack = await s3.send(new GetBucketAclCommand({ Bucket: bucket, ...ownerCheck }));
      return judgeAcl({ Grants: readBack.Grants ?? [] }).isPublic
        ? 'the ACL still has a public grant'
        : undefined;
    },
  );
}

/**
 * A record for something deliberately not done.
 *
 * @example
 * skipped('policy', 'Left the public bucket policy for a human', 'no EVIDENCE_BUCKET is set to back it up first');
 */
export function skipped(kind: ActionKind, action: string, detail: string): ActionRecord {
  return { kind, action, status: 'skipped', verified: false, detail };
}

function count(howMany: number, noun: string): string {
  return `${howMany} ${noun}${howMany === 1 ? '' : 's'}`;
}

/** `statement 1 (Sid "Public")`, `statements 1 (Sid "A") and 3`. */
function describeStatements(statements: readonly PublicStatement[]): string {
  const labels = statements.map((statement) => statement.label.replace(/^statement /, ''));
  const noun = labels.length === 1 ? 'public statement' : 'public statements';
  return `${noun} ${labels.join(', ')}`;
}

/** A configuration that vanished is a reading too: every setting off. */
async function readBlockPublicAccess(
  read: () => Promise<{ PublicAccessBlockConfiguration?: unknown }>,
): Promise<unknown> {
  try {
    return (await read()).PublicAccessBlockConfiguration;
  } catch (error) {
    if (errorName(error) === 'NoSuchPublicAccessBlockConfiguration') return undefined;
    throw error;
  }
}

function whatIsStillOff(configuration: unknown): string | undefined {
  const verdict = judgeBlockPublicAccess(configuration);
  return verdict.allOn ? undefined : `still off: ${verdict.settingsOff.join(', ')}`;
}

/**
 * Makes a change, then reads it back. `verify` returns what is still wrong, or undefined when the change
 * holds. A change that was made but could not be read back is done, not verified.
 */
export async function changeThenVerify(
  kind: ActionKind,
  action: string,
  change: () => Promise<unknown>,
  verify: () => Promise<string | undefined>,
): Promise<ActionRecord> {
  try {
    await change();
  } catch (error) {
    return { kind, action, status: 'failed', verified: false, detail: describeError(error) };
  }
  try {
    const stillWrong = await verify();
    return stillWrong === undefined
      ? { kind, action, status: 'done', verified: true }
      : { kind, action, status: 'failed', verified: false, detail: `read back: ${stillWrong}` };
  } catch (error) {
    return {
      kind,
      action,
      status: 'done',
      verified: false,
      detail: `could not read back: ${describeError(error)}`,
    };
  }
}
