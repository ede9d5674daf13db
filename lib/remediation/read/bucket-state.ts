/**
 * Reads one bucket's live access settings from S3. The configuration item's copy may be minutes old or,
 * for an oversized item, absent, so the guard always asks S3 itself.
 */
import {
  GetBucketAclCommand,
  GetBucketAclCommandOutput,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  Grant,
  Owner,
  PublicAccessBlockConfiguration,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import { describeError, errorName } from '../aws-errors';

/** The ACL as GetBucketAcl returns it: what PutBucketAcl needs to write it back. */
export interface BucketAcl {
  readonly Owner?: Owner;
  readonly Grants?: readonly Grant[];
}

/** A bucket's access settings as S3 reports them now. */
export interface LiveBucketState {
  readonly bucket: string;
  /** Every tag, in S3's order (for evidence); empty when the bucket has none. */
  readonly tags: readonly Tag[];
  /** The policy text exactly as S3 returned it; undefined when the bucket has none. */
  readonly policy?: string;
  readonly acl: BucketAcl;
  /** The bucket's own Block Public Access; undefined when it has no configuration (every setting off). */
  readonly blockPublicAccess?: PublicAccessBlockConfiguration;
}

/**
 * The outcome of reading a bucket: found, gone, or unreadable (and then never judged compliant, though it
 * carries whatever was read).
 */
export type BucketReading =
  | { readonly status: 'found'; readonly state: LiveBucketState }
  | { readonly status: 'missing' }
  | UnreadableBucket;

/** One read that failed: the operation (with why, when it may be an owner mismatch) and the error. */
export interface FailedRead {
  readonly operation: string;
  readonly error: string;
  /** The error's code alone (`AccessDenied`, `SlowDown`): a refusal is lasting, throttling is not. */
  readonly code?: string;
}

/**
 * A bucket at least one of whose four reads failed. Every read is attempted; each setting that was read
 * is here as S3 reported it, and a setting that could not be read is absent (undefined).
 */
export interface UnreadableBucket extends FailedRead {
  readonly status: 'unreadable';
  /** Every read that failed, in the order tags, policy, ACL, Block Public Access; the first is `operation`. */
  readonly failedReads: readonly FailedRead[];
  /** Present when GetBucketTagging succeeded; empty when the bucket has no tags (NoSuchTagSet). */
  readonly tags?: readonly Tag[];
  /** Present when GetBucketPolicy succeeded; null when the bucket has no policy (NoSuchBucketPolicy). */
  readonly policy?: string | null;
  /** Present when GetBucketAcl succeeded. */
  readonly acl?: BucketAcl;
  /**
   * Present when GetPublicAccessBlock succeeded; null when the bucket has no configuration
   * (NoSuchPublicAccessBlockConfiguration: every setting off).
   */
  readonly blockPublicAccess?: PublicAccessBlockConfiguration | null;
}

/** Error codes that mean "this setting is not configured", per operation. */
const NOT_CONFIGURED: Readonly<Record<string, string>> = {
  GetBucketTagging: 'NoSuchTagSet',
  GetBucketPolicy: 'NoSuchBucketPolicy',
  GetPublicAccessBlock: 'NoSuchPublicAccessBlockConfiguration',
  GetBucketOwnershipControls: 'OwnershipControlsNotFoundError',
};

class ReadFailure extends Error {
  constructor(
    readonly operation: string,
    readonly error: unknown,
  ) {
    super(`${operation}: ${describeError(error)}`);
  }
}

/**
 * Reads tags, policy, ACL and Block Public Access in parallel: four calls. Ownership controls are read
 * only when a rewrite or evidence needs them ({@link readOwnership}), which keeps a compliant bucket at
 * four calls. GetBucketPolicyStatus is not used: it would be a second judgement of "public" (and moto
 * lacks it).
 *
 * Every read is attempted even when another fails, so an unreadable bucket still carries what was read.
 * Any read answering NoSuchBucket makes the bucket missing. With `expectedOwner` (the guard's account id),
 * every call sends `ExpectedBucketOwner`, so S3 refuses (AccessDenied) rather than reads a bucket of the
 * same name in another account; when every read is refused so, the operation says the bucket may belong
 * to another account.
 *
 * @example
 * const reading = await readBucketState(new S3Client({}), 'electoral-roll', '123456789012');
 * if (reading.status === 'found') console.log(reading.state.policy);
 * if (reading.status === 'unreadable' && reading.tags !== undefined) console.log('tags were read');
 */
export async function readBucketState(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<BucketReading> {
  const ownerCheck = expectedBucketOwner(expectedOwner);
  const [tagging, policy, acl, blockPublicAccess] = await Promise.allSettled([
    read('GetBucketTagging', () => s3.send(new GetBucketTaggingCommand({ Bucket: bucket, ...ownerCheck }))),
    read('GetBucketPolicy', () => s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ...ownerCheck }))),
    read('GetBucketAcl', () => s3.send(new GetBucketAclCommand({ Bucket: bucket, ...ownerCheck }))),
    read('GetPublicAccessBlock', () =>
      s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket, ...ownerCheck })),
    ),
  ]);
  const settled = [tagging, policy, acl, blockPublicAccess];
  const failures = settled.flatMap((result) =>
    result.status === 'rejected' ? [asReadFailure(result.reason)] : [],
  );
  if (failures.some((failure) => errorName(failure.error) === 'NoSuchBucket')) return { status: 'missing' };
  if (
    tagging.status === 'fulfilled' &&
    policy.status === 'fulfilled' &&
    acl.status === 'fulfilled' &&
    blockPublicAccess.status === 'fulfilled'
  ) {
    return {
      status: 'found',
      state: {
        bucket,
        tags: tagging.value?.TagSet ?? [],
        policy: policyText(policy.value),
        acl: aclOf(acl.value),
        blockPublicAccess: blockPublicAccess.value?.PublicAccessBlockConfiguration,
      },
    };
  }
  // A read that got an answer (even "not configured") passed S3's owner check: then a refusal is not one.
  const ownerUnconfirmed = failures.length === settled.length;
  const failedReads = failures.map((failure) =>
    failedRead(failure, ownerUnconfirmed ? expectedOwner : undefined),
  );
  return {
    status: 'unreadable',
    ...failedReads[0],
    failedReads,
    ...(tagging.status === 'fulfilled' ? { tags: tagging.value?.TagSet ?? [] } : {}),
    ...(policy.status === 'fulfilled' ? { policy: policyText(policy.value) ?? null } : {}),
    ...(acl.status === 'fulfilled' ? { acl: aclOf(acl.value) } : {}),
    ...(blockPublicAccess.status === 'fulfilled'
      ? { blockPublicAccess: blockPublicAccess.value?.PublicAccessBlockConfiguration ?? null }
      : {}),
  };
}

/**
 * The `ExpectedBucketOwner` parameter for a call on a guarded bucket: S3 then answers AccessDenied (403)
 * instead of acting on a bucket of the same name owned by another account. Empty without an account id.
 *
 * @example
 * new GetBucketPolicyCommand({ Bucket: 'roll', ...expectedBucketOwner('123456789012') });
 */
export function expectedBucketOwner(expectedOwner: string | undefined): { ExpectedBucketOwner?: string } {
  return expectedOwner === undefined || expectedOwner === '' ? {} : { ExpectedBucketOwner: expectedOwner };
}

/** Object ownership (`BucketOwnerEnforced` disables ACLs), or what went wrong reading it. */
export type OwnershipReading =
  | { readonly status: 'found'; readonly objectOwnership?: string }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly operation: string; readonly error: string };

/**
 * Reads the bucket's object ownership setting; `objectOwnership` is undefined when none is configured.
 * With `expectedOwner`, the call sends `ExpectedBucketOwner`.
 *
 * @example
 * const ownership = await readOwnership(new S3Client({}), 'electoral-roll', '123456789012');
 * const aclsDisabled = ownership.status === 'found' && ownership.objectOwnership === 'BucketOwnerEnforced';
 */
export async function readOwnership(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<OwnershipReading> {
  try {
    const output = await read('GetBucketOwnershipControls', () =>
      s3.send(
        new GetBucketOwnershipControlsCommand({ Bucket: bucket, ...expectedBucketOwner(expectedOwner) }),
      ),
    );
    return { status: 'found', objectOwnership: output?.OwnershipControls?.Rules?.[0]?.ObjectOwnership };
  } catch (error) {
    return unreadable(error);
  }
}

/** A single setting read again right before it is rewritten. */
export type Reread<T> =
  { readonly status: 'found'; readonly value: T } | { readonly status: 'unreadable'; readonly error: string };

/**
 * Reads the policy text again (undefined when there is none): a rewrite is computed from what is there
 * right before it, not from a read several calls old. With `expectedOwner`, the call sends
 * `ExpectedBucketOwner`.
 *
 * @example
 * const now = await rereadPolicy(new S3Client({}), 'roll', '123456789012');
 */
export async function rereadPolicy(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<Reread<string | undefined>> {
  try {
    const output = await read('GetBucketPolicy', () =>
      s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ...expectedBucketOwner(expectedOwner) })),
    );
    return { status: 'found', value: policyText(output) };
  } catch (error) {
    return { status: 'unreadable', error: describeError(error instanceof ReadFailure ? error.error : error) };
  }
}

/**
 * Reads the ACL again, right before it is rewritten. With `expectedOwner`, the call sends
 * `ExpectedBucketOwner`.
 *
 * @example
 * const now = await rereadAcl(new S3Client({}), 'roll', '123456789012');
 */
export async function rereadAcl(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<Reread<BucketAcl>> {
  try {
    const output = await s3.send(
      new GetBucketAclCommand({ Bucket: bucket, ...expectedBucketOwner(expectedOwner) }),
    );
    return { status: 'found', value: aclOf(output) };
  } catch (error) {
    return { status: 'unreadable', error: describeError(error) };
  }
}

/**
 * Looks a tag up by key.
 *
 * @example
 * tagValue([{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }], 'registry-guard:classification');
 * // 'sensitive-registry'
 */
export function tagValue(tags: readonly Tag[], key: string): string | undefined {
  return tags.find((tag) => tag.Key === key)?.Value;
}

/** Runs one read; "not configured" becomes undefined, any other error a {@link ReadFailure}. */
async function read<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (errorName(error) === NOT_CONFIGURED[operation]) return undefined;
    throw new ReadFailure(operation, error);
  }
}

function asReadFailure(error: unknown): ReadFailure {
  return error instanceof ReadFailure ? error : new ReadFailure('reading the bucket', error);
}

function unreadable(
  error: unknown,
): { status: 'missing' } | { status: 'unreadable'; operation: string; error: string } {
  const failure = asReadFailure(error);
  if (errorName(failure.error) === 'NoSuchBucket') return { status: 'missing' };
  return { status: 'unreadable', operation: failure.operation, error: describeError(failure.error) };
}

/**
 * A failed read in words. `expectedOwner` is given when no read passed S3's owner check: an AccessDenied
 * then may be S3 refusing a bucket of another account, and the operation says so.
 */
function failedRead(failure: ReadFailure, expectedOwner: string | undefined): FailedRead {
  const error = describeError(failure.error);
  const foreign =
    expectedOwner !== undefined && expectedOwner !== '' && errorName(failure.error) === 'AccessDenied';
  return {
    operation: foreign
      ? `${failure.operation} with ExpectedBucketOwner ${expectedOwner} (the bucket may belong to another account)`
      : failure.operation,
    error,
    code: errorName(failure.error),
  };
}

/** The policy text, or undefined when there is none (S3 may answer an empty string). */
function policyText(output: { Policy?: string } | undefined): string | undefined {
  return output?.Policy === '' ? undefined : output?.Policy;
}

function aclOf(output: GetBucketAclCommandOutput | undefined): BucketAcl {
  return { Owner: output?.Owner, Grants: output?.Grants ?? [] };
}
