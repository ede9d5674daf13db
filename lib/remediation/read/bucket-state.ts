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

/** The outcome of reading a bucket: found, gone, or unreadable (and then never judged compliant). */
export type BucketReading =
  | { readonly status: 'found'; readonly state: LiveBucketState }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly operation: string; readonly error: string };

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
 * @example
 * const reading = await readBucketState(new S3Client({}), 'electoral-roll');
 * if (reading.status === 'found') console.log(reading.state.policy);
 */
export async function readBucketState(s3: S3Client, bucket: string): Promise<BucketReading> {
  try {
    const [tagging, policy, acl, blockPublicAccess] = await Promise.all([
      read('GetBucketTagging', () => s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))),
      read('GetBucketPolicy', () => s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))),
      read('GetBucketAcl', () => s3.send(new GetBucketAclCommand({ Bucket: bucket }))),
      read('GetPublicAccessBlock', () => s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))),
    ]);
    return {
      status: 'found',
      state: {
        bucket,
        tags: tagging?.TagSet ?? [],
        policy: policy?.Policy === '' ? undefined : policy?.Policy,
        acl: aclOf(acl),
        blockPublicAccess: blockPublicAccess?.PublicAccessBlockConfiguration,
      },
    };
  } catch (error) {
    return unreadable(error);
  }
}

/** Object ownership (`BucketOwnerEnforced` disables ACLs), or what went wrong reading it. */
export type OwnershipReading =
  | { readonly status: 'found'; readonly objectOwnership?: string }
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly operation: string; readonly error: string };

/**
 * Reads the bucket's object ownership setting; `objectOwnership` is undefined when none is configured.
 *
 * @example
 * const ownership = await readOwnership(new S3Client({}), 'electoral-roll');
 * const aclsDisabled = ownership.status === 'found' && ownership.objectOwnership === 'BucketOwnerEnforced';
 */
export async function readOwnership(s3: S3Client, bucket: string): Promise<OwnershipReading> {
  try {
    const output = await read('GetBucketOwnershipControls', () =>
      s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })),
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
 * right before it, not from a read several calls old.
 *
 * @example
 * const now = await rereadPolicy(new S3Client({}), 'roll');
 */
export async function rereadPolicy(s3: S3Client, bucket: string): Promise<Reread<string | undefined>> {
  try {
    const output = await read('GetBucketPolicy', () =>
      s3.send(new GetBucketPolicyCommand({ Bucket: bucket })),
    );
    return { status: 'found', value: output?.Policy === '' ? undefined : output?.Policy };
  } catch (error) {
    return { status: 'unreadable', error: describeError(error instanceof ReadFailure ? error.error : error) };
  }
}

/**
 * Reads the ACL again, right before it is rewritten.
 *
 * @example
 * const now = await rereadAcl(new S3Client({}), 'roll');
 */
export async function rereadAcl(s3: S3Client, bucket: string): Promise<Reread<BucketAcl>> {
  try {
    return { status: 'found', value: aclOf(await s3.send(new GetBucketAclCommand({ Bucket: bucket }))) };
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

function unreadable(
  error: unknown,
): { status: 'missing' } | { status: 'unreadable'; operation: string; error: string } {
  const failure = error instanceof ReadFailure ? error : new ReadFailure('reading the bucket', error);
  if (errorName(failure.error) === 'NoSuchBucket') return { status: 'missing' };
  return { status: 'unreadable', operation: failure.operation, error: describeError(failure.error) };
}

function aclOf(output: GetBucketAclCommandOutput | undefined): BucketAcl {
  return { Owner: output?.Owner, Grants: output?.Grants ?? [] };
}
