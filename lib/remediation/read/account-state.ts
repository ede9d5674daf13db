/**
 * The account's side: its id and its Block Public Access, which can neutralise a public bucket policy or
 * ACL for every bucket in it.
 */
import {
  GetPublicAccessBlockCommand,
  PublicAccessBlockConfiguration,
  S3ControlClient,
} from '@aws-sdk/client-s3-control';
import type { STSClient } from '@aws-sdk/client-sts';
import { describeError, errorName } from '../aws-errors';
import { stsSdk } from '../sdk/on-demand';

/** The account's Block Public Access as S3 Control reports it. */
export type AccountBlockPublicAccessReading =
  | { readonly status: 'found'; readonly configuration: PublicAccessBlockConfiguration }
  | { readonly status: 'none' }
  | { readonly status: 'unreadable'; readonly error: string };

/**
 * Reads the account-level Block Public Access (S3 Control GetPublicAccessBlock).
 * No configuration means every setting off. When it cannot be read, callers judge buckets without it:
 * stricter, never wrongly compliant.
 *
 * @example
 * const reading = await readAccountBlockPublicAccess(new S3ControlClient({}), '123456789012');
 */
export async function readAccountBlockPublicAccess(
  s3Control: S3ControlClient,
  accountId: string,
): Promise<AccountBlockPublicAccessReading> {
  try {
    const output = await s3Control.send(new GetPublicAccessBlockCommand({ AccountId: accountId }));
    return output.PublicAccessBlockConfiguration === undefined
      ? { status: 'none' }
      : { status: 'found', configuration: output.PublicAccessBlockConfiguration };
  } catch (error) {
    if (errorName(error) === 'NoSuchPublicAccessBlockConfiguration') return { status: 'none' };
    return { status: 'unreadable', error: describeError(error) };
  }
}

/**
 * The function's own account id from STS, asked at most once per container: events usually name the
 * account, so this is the fallback.
 *
 * @example
 * const accountIdOf = memoizedCallerAccount(new STSClient({}));
 * const accountId = await accountIdOf();
 */
export function memoizedCallerAccount(sts: STSClient): () => Promise<string> {
  let pending: Promise<string> | undefined;
  return () => {
    const { GetCallerIdentityCommand } = stsSdk();
    pending ??= sts.send(new GetCallerIdentityCommand({})).then((identity) => {
      if (identity.Account === undefined) throw new Error('STS GetCallerIdentity returned no account');
      return identity.Account;
    });
    // A failure must not be cached for the container's lifetime: the next invocation asks again.
    pending.catch(() => {
      pending = undefined;
    });
    return pending;
  };
}
