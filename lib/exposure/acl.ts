/**
 * Is an access control list public? The S3 User Guide: a bucket or object ACL is public if it grants any
 * permission to the predefined AllUsers or AuthenticatedUsers groups. LogDelivery is not public.
 */

/** The two predefined groups whose grants make an ACL public. */
export type PublicGroup = 'AllUsers' | 'AuthenticatedUsers';

/** A grant to a public group. */
export interface PublicGrant {
  readonly grantee: PublicGroup;
  /** The permission as written: `READ`, `WRITE`, `FULL_CONTROL`, `Read`, ... */
  readonly permission: string;
  /** Where the grant came from: a canned ACL's name, or `grant`. */
  readonly source: string;
}

/** The judgement of one ACL. */
export interface AclVerdict {
  readonly isPublic: boolean;
  readonly publicGrants: readonly PublicGrant[];
}

const CANNED_ACL_GRANTS: Readonly<Record<string, readonly Omit<PublicGrant, 'source'>[]>> = {
  publicread: [{ grantee: 'AllUsers', permission: 'READ' }],
  publicreadwrite: [
    { grantee: 'AllUsers', permission: 'READ' },
    { grantee: 'AllUsers', permission: 'WRITE' },
  ],
  authenticatedread: [{ grantee: 'AuthenticatedUsers', permission: 'READ' }],
};

const GROUP_URI_PREFIX = 'http://acs.amazonaws.com/groups/global/';

/**
 * Judges a canned ACL in either spelling: CloudFormation's `PublicRead` or the S3 API's `public-read`.
 *
 * @example
 * judgeCannedAcl('PublicRead').isPublic; // true
 * judgeCannedAcl('log-delivery-write').isPublic; // false
 */
export function judgeCannedAcl(cannedAcl: string): AclVerdict {
  const grants = CANNED_ACL_GRANTS[cannedAcl.replace(/[-_]/g, '').toLowerCase()] ?? [];
  return verdict(grants.map((grant) => ({ ...grant, source: cannedAcl })));
}

/**
 * Judges an ACL in any of the shapes it comes in:
 * - a canned ACL name (`PublicRead`, `public-read`);
 * - the S3 API's `GetBucketAcl` output (`{ Grants: [{ Grantee: { Type: 'Group', URI }, Permission }] }`);
 * - AWS Config's `AccessControlList` (`{ grantList: [{ grantee: 'AllUsers', permission: 'Read' }] }`),
 *   as an object or as the JSON string Config sends, even when that string is encoded twice;
 * - a bare list of grants in either of those shapes.
 * Anything it cannot read is treated as no grant at all; callers that need to fail closed check the input.
 */
export function judgeAcl(acl: unknown): AclVerdict {
  const document = decodeJsonString(acl);
  if (typeof document === 'string') return judgeCannedAcl(document);
  const grants = grantListOf(document);
  const publicGrants: PublicGrant[] = [];
  for (const grant of grants) {
    const grantee = publicGroupOf(grant);
    if (grantee !== undefined)
      publicGrants.push({ grantee, permission: permissionOf(grant), source: 'grant' });
  }
  return verdict(publicGrants);
}

function verdict(publicGrants: PublicGrant[]): AclVerdict {
  return { isPublic: publicGrants.length > 0, publicGrants };
}

/** Config sometimes encodes its ACL as a JSON string inside a JSON string: peel until it is not JSON text. */
function decodeJsonString(value: unknown): unknown {
  let current = value;
  for (let layer = 0; layer < 3 && typeof current === 'string'; layer += 1) {
    const trimmed = current.trim();
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[') && !trimmed.startsWith('"')) return current;
    try {
      current = JSON.parse(trimmed);
    } catch {
      return current;
    }
  }
  return current;
}

function grantListOf(document: unknown): unknown[] {
  if (Array.isArray(document)) return document;
  if (document === null || typeof document !== 'object') return [];
  const fields = document as Record<string, unknown>;
  for (const name of ['Grants', 'grantList', 'AccessControlList', 'grants']) {
    const list = fields[name];
    if (Array.isArray(list)) return list;
    if (list !== null && typeof list === 'object') return grantListOf(list);
  }
  return [];
}

function publicGroupOf(grant: unknown): PublicGroup | undefined {
  if (grant === null || typeof grant !== 'object') return undefined;
  const fields = grant as Record<string, unknown>;
  const grantee = fields.Grantee ?? fields.grantee;
  const names: unknown[] = [];
  if (typeof grantee === 'string') names.push(grantee);
  else if (grantee !== null && typeof grantee === 'object') {
    const granteeFields = grantee as Record<string, unknown>;
    names.push(granteeFields.URI, granteeFields.uri, granteeFields.id, granteeFields.ID);
  }
  for (const name of names) {
    if (typeof name !== 'string') continue;
    const group = name.startsWith(GROUP_URI_PREFIX) ? name.slice(GROUP_URI_PREFIX.length) : name;
    if (group === 'AllUsers' || group === 'AuthenticatedUsers') return group;
  }
  return undefined;
}

function permissionOf(grant: unknown): string {
  const fields = grant as Record<string, unknown>;
  const permission = fields.Permission ?? fields.permission;
  return typeof permission === 'string' ? permission : 'UNKNOWN';
}
