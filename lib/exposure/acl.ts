/**
 * Is an access control list public? The S3 User Guide: a bucket or object ACL is public if it grants any
 * permission to the predefined AllUsers or AuthenticatedUsers groups. LogDelivery is not public.
 */

/** The two predefined groups whose grants make an ACL public. */
export type PublicGroup = 'AllUsers' | 'AuthenticatedUsers';

/**
 * A grant to a public group.
 *
 * @jsii ignore TypeScript only: a verdict of the judgement functions
 */
export interface PublicGrant {
  readonly grantee: PublicGroup;
  /** The permission as written: `READ`, `WRITE`, `FULL_CONTROL`, `Read`, ... */
  readonly permission: string;
  /** Where the grant came from: a canned ACL's name, or `grant`. */
  readonly source: string;
}

/**
 * The judgement of one ACL.
 *
 * @jsii ignore TypeScript only: readonly arrays
 */
export interface AclVerdict {
  /** True when a grant is public, or when the ACL cannot be read (it cannot be shown to be private). */
  readonly isPublic: boolean;
  readonly publicGrants: readonly PublicGrant[];
  /** Why the ACL, or one of its grants, cannot be read; undefined when every grant was read. */
  readonly unreadable?: string;
}

type CannedGrants = readonly Omit<PublicGrant, 'source'>[];

/** Every canned ACL S3 and CloudFormation know, by name without dashes or case; only three are public. */
const CANNED_ACL_GRANTS: ReadonlyMap<string, CannedGrants> = new Map<string, CannedGrants>([
  ['private', []],
  ['publicread', [{ grantee: 'AllUsers', permission: 'READ' }]],
  [
    'publicreadwrite',
    [
      { grantee: 'AllUsers', permission: 'READ' },
      { grantee: 'AllUsers', permission: 'WRITE' },
    ],
  ],
  ['authenticatedread', [{ grantee: 'AuthenticatedUsers', permission: 'READ' }]],
  ['awsexecread', []],
  ['bucketownerread', []],
  ['bucketownerfullcontrol', []],
  ['logdeliverywrite', []],
]);

const GROUP_URI_PREFIX = 'http://acs.amazonaws.com/groups/global/';

/**
 * Judges a canned ACL in either spelling: CloudFormation's `PublicRead` or the S3 API's `public-read`. A name
 * that is no canned ACL cannot be shown to be private.
 *
 * @example
 * judgeCannedAcl('PublicRead').isPublic; // true
 * judgeCannedAcl('log-delivery-write').isPublic; // false
 */
export function judgeCannedAcl(cannedAcl: string): AclVerdict {
  const grants = CANNED_ACL_GRANTS.get(cannedAcl.replace(/[-_]/g, '').toLowerCase());
  if (grants === undefined) {
    return {
      isPublic: true,
      publicGrants: [],
      unreadable: `'${cannedAcl}' is not a canned ACL, so it cannot be shown to be private`,
    };
  }
  return verdict(grants.map((grant) => ({ ...grant, source: cannedAcl })));
}

/**
 * Judges an ACL in any of the shapes AWS returns it:
 * - a canned ACL name (`PublicRead`, `public-read`);
 * - the S3 API's `GetBucketAcl` output (`{ Owner, Grants: [{ Grantee: { Type: 'Group', URI }, Permission }] }`),
 *   or the `{ AccessControlPolicy: { Grants } }` that `PutBucketAcl` takes;
 * - the S3 REST API's XML `AccessControlPolicy`;
 * - AWS Config's `AccessControlList` (`grantList` or `grantSet`, grantees as short names such as `AllUsers`),
 *   as an object or as the JSON string Config sends, even when that string is encoded twice;
 * - a bare list of grants in any of those shapes.
 * `undefined` and `null` are no ACL. Anything else, and any grant whose grantee cannot be read, makes the
 * verdict `unreadable` and public: it cannot be shown to be private.
 *
 * @example
 * judgeAcl({ grantList: [{ grantee: 'AllUsers', permission: 'Read' }] }).isPublic; // true
 * judgeAcl({ grantSet: 'surprise' }).unreadable; // 'the ACL is not in a shape AWS returns: ...'
 */
export function judgeAcl(acl: unknown): AclVerdict {
  if (acl === undefined || acl === null) return verdict([]);
  const document = decodeJsonString(acl);
  if (typeof document === 'string') {
    const xmlGrants = grantsFromXml(document);
    if (xmlGrants === undefined) return judgeCannedAcl(document);
    if (typeof xmlGrants === 'string') return unreadableAcl(xmlGrants);
    return judgeGrants(xmlGrants);
  }
  const grants = grantListOf(document, 0);
  if (typeof grants === 'string') return unreadableAcl(grants);
  return judgeGrants(grants);
}

function judgeGrants(grants: readonly unknown[]): AclVerdict {
  const publicGrants: PublicGrant[] = [];
  let unreadable: string | undefined;
  for (const grant of grants) {
    const grantee = granteeOf(grant);
    if (grantee === undefined) {
      unreadable ??= 'a grant names no grantee S3 knows, so the ACL cannot be shown to be private';
    } else if (grantee === 'AllUsers' || grantee === 'AuthenticatedUsers') {
      publicGrants.push({ grantee, permission: permissionOf(grant), source: 'grant' });
    }
  }
  return { isPublic: publicGrants.length > 0 || unreadable !== undefined, publicGrants, unreadable };
}

function verdict(publicGrants: PublicGrant[]): AclVerdict {
  return { isPublic: publicGrants.length > 0, publicGrants };
}

function unreadableAcl(why: string): AclVerdict {
  return { isPublic: true, publicGrants: [], unreadable: why };
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

const GRANT_LIST_FIELDS = ['Grants', 'grantList', 'grantSet', 'grants'] as const;
const NESTED_ACL_FIELDS = ['AccessControlPolicy', 'AccessControlList', 'accessControlList'] as const;

/** The grants of an ACL object, or why it is not an ACL shape AWS returns. */
function grantListOf(document: unknown, depth: number): unknown[] | string {
  if (Array.isArray(document)) return document;
  const notAnAcl = `the ACL is not in a shape AWS returns (${describe(document)}), so it cannot be shown to be private`;
  if (document === null || typeof document !== 'object' || depth > 2) return notAnAcl;
  const fields = document as Record<string, unknown>;
  const grants: unknown[] = [];
  let recognised = false;
  for (const name of GRANT_LIST_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(fields, name)) continue;
    const list = fields[name];
    if (list === null || list === undefined) continue;
    if (!Array.isArray(list)) return `the ACL's ${name} is not a list, so it cannot be shown to be private`;
    grants.push(...list);
    recognised = true;
  }
  for (const name of NESTED_ACL_FIELDS) {
    if (!Object.prototype.hasOwnProperty.call(fields, name) || fields[name] === null) continue;
    const nested = grantListOf(decodeJsonString(fields[name]), depth + 1);
    if (typeof nested === 'string') return nested;
    grants.push(...nested);
    recognised = true;
  }
  // GetBucketAcl leaves Grants out when there are none; an owner alone is still an ACL.
  if (!recognised && !Object.prototype.hasOwnProperty.call(fields, 'Owner')) {
    if (
      Object.prototype.hasOwnProperty.call(fields, 'grantList') ||
      Object.prototype.hasOwnProperty.call(fields, 'grantSet')
    ) {
      return "the ACL's grantList and grantSet are both empty, so its grants cannot be read";
    }
    return notAnAcl;
  }
  return grants;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object without Grants, grantList or grantSet';
  return `a ${typeof value}`;
}

/**
 * The grants of the S3 REST API's XML `AccessControlPolicy`, read with `indexOf` (no regular expression);
 * undefined when the text is not that XML, a string when it is but cannot be read.
 */
function grantsFromXml(text: string): unknown[] | string | undefined {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('<')) return undefined;
  if (!trimmed.includes('<AccessControlPolicy') && !trimmed.includes('<AccessControlList')) {
    return 'the ACL is XML but not an AccessControlPolicy, so it cannot be shown to be private';
  }
  // S3 writes plain elements: anything that would change how a grant reads (CDATA, entities, comments,
  // attributes on Grant, namespace prefixes) is refused rather than half-read.
  const unreadConstruct = UNREAD_XML_CONSTRUCTS.find((construct) => trimmed.includes(construct));
  if (unreadConstruct !== undefined) {
    return `the ACL XML uses '${unreadConstruct}', which this reader does not interpret, so it cannot be shown to be private`;
  }
  const grants: unknown[] = [];
  let position = 0;
  for (;;) {
    const start = trimmed.indexOf('<Grant>', position);
    if (start === -1) break;
    const end = trimmed.indexOf('</Grant>', start);
    if (end === -1) return 'the ACL XML has a Grant that never closes, so it cannot be shown to be private';
    const grant = trimmed.slice(start, end);
    grants.push({
      Grantee: {
        URI: elementText(grant, 'URI'),
        ID: elementText(grant, 'ID'),
        EmailAddress: elementText(grant, 'EmailAddress'),
      },
      Permission: elementText(grant, 'Permission'),
    });
    position = end + '</Grant>'.length;
  }
  return grants;
}

const UNREAD_XML_CONSTRUCTS = ['<![CDATA[', '&', '<!--', '<Grant ', ':Grant', ':URI', ':ID>', ':Permission'];

function elementText(xml: string, element: string): string | undefined {
  const open = xml.indexOf(`<${element}>`);
  if (open === -1) return undefined;
  const close = xml.indexOf(`</${element}>`, open);
  return close === -1 ? undefined : xml.slice(open + element.length + 2, close).trim();
}

/**
 * Who a grant is for: a predefined group's short name (`AllUsers`, `AuthenticatedUsers`, `LogDelivery`, ...),
 * or `account` for a canonical user or e-mail grantee; undefined when the grant names no grantee.
 */
function granteeOf(grant: unknown): string | undefined {
  if (grant === null || typeof grant !== 'object') return undefined;
  const fields = grant as Record<string, unknown>;
  const grantee = fields.Grantee ?? fields.grantee;
  if (typeof grantee === 'string') return groupName(grantee);
  if (grantee === null || typeof grantee !== 'object') return undefined;
  const granteeFields = grantee as Record<string, unknown>;
  for (const uri of [granteeFields.URI, granteeFields.uri]) {
    if (typeof uri === 'string' && uri !== '') return groupName(uri);
  }
  for (const id of [
    granteeFields.ID,
    granteeFields.id,
    granteeFields.EmailAddress,
    granteeFields.emailAddress,
  ]) {
    if (typeof id === 'string' && id !== '') {
      // Config writes the groups as ids too ({ id: 'AllUsers' }); any other id is an account.
      return groupName(id) ?? 'account';
    }
  }
  return undefined;
}

/** The predefined groups S3 defines, by URI and by the short name AWS Config writes. */
const PREDEFINED_GROUPS: ReadonlyMap<string, string> = new Map([
  [`${GROUP_URI_PREFIX}AllUsers`, 'AllUsers'],
  [`${GROUP_URI_PREFIX}AuthenticatedUsers`, 'AuthenticatedUsers'],
  ['http://acs.amazonaws.com/groups/s3/LogDelivery', 'LogDelivery'],
  ['AllUsers', 'AllUsers'],
  ['AuthenticatedUsers', 'AuthenticatedUsers'],
  ['LogDelivery', 'LogDelivery'],
]);

/** A group S3 defines, or undefined for any other text: a grantee that names no known group is unreadable. */
function groupName(name: string): string | undefined {
  return PREDEFINED_GROUPS.get(name);
}

function permissionOf(grant: unknown): string {
  const fields = grant as Record<string, unknown>;
  const permission = fields.Permission ?? fields.permission;
  return typeof permission === 'string' ? permission : 'UNKNOWN';
}
