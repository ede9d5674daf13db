/**
 * What makes two events one incident: the same bucket seen in the same state. The fingerprint covers
 * exactly what an evidence object records about access (policy, ACL, Block Public Access, tags), so an
 * event that sees the same state as an earlier one has nothing new to back up or to tell.
 */
import { createHash } from 'crypto';
import { LiveBucketState } from '../read/bucket-state';

/**
 * A short, stable digest of the bucket's access state. Tags are sorted: S3 may return them in any order.
 *
 * @example
 * stateFingerprint({ bucket: 'roll', tags: [], acl: {} }); // 32 hex digits
 */
export function stateFingerprint(state: LiveBucketState): string {
  const tags = [...state.tags]
    .map((tag) => [tag.Key ?? '', tag.Value ?? ''])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const canonical = JSON.stringify([
    state.policy ?? null,
    state.acl.Owner?.ID ?? null,
    (state.acl.Grants ?? []).map((grant) => [
      grant.Permission ?? null,
      grant.Grantee?.Type ?? null,
      grant.Grantee?.ID ?? null,
      grant.Grantee?.URI ?? null,
      grant.Grantee?.EmailAddress ?? null,
    ]),
    state.blockPublicAccess ?? null,
    tags,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

/**
 * The same kind of digest for a text that names a state the guard could not read (`unverifiable
 * GetBucketPolicy AccessDenied: ...`): one incident per cause.
 *
 * @example
 * stateFingerprintOfText('unverifiable GetBucketPolicy AccessDenied'); // 32 hex digits
 */
export function stateFingerprintOfText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
