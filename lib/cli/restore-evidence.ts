/**
 * Reads one evidence record and refuses it unless it can be verified: pinned to its version, its bytes
 * matching the SHA-256 from the notice and the checksum S3 stored, within a size cap, and a well-formed
 * `registry-guard/evidence/v1` record for a bucket this command can put back. Whatever cannot be verified
 * is refused: a restore loosens access, so an unverified record must never drive one.
 */
import { createHash } from 'crypto';
import {
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectCommandOutput,
  Grant,
  PublicAccessBlockConfiguration,
  S3Client,
} from '@aws-sdk/client-s3';
import { BLOCK_PUBLIC_ACCESS_SETTINGS } from '../exposure';
import { describeError, errorName } from '../remediation/aws-errors';
import { BucketAcl } from '../remediation/read/bucket-state';
import { EvidenceLocation, isBucketName } from './restore-args';
import { RestoreStop } from './restore-errors';

/**
 * The largest evidence record read. A record holds one policy (S3 caps a bucket policy at 20 KB), one ACL
 * (at most 100 grants) and at most 50 tags: tens of kilobytes. Anything far larger is not the guard's.
 */
export const MAX_EVIDENCE_BYTES = 1024 * 1024;

/** What every kind of record says about where it came from. */
interface RecordOrigin {
  readonly evidenceId: string;
  readonly capturedAt: string;
  /** The bucket the record concerns. */
  readonly bucket: string;
  /** The account the guard ran in: every call on the bucket names it as the expected owner. */
  readonly account?: string;
  readonly region?: string;
  /** What the guard decided when it wrote the record; undefined when it did not record it. */
  readonly registryBucket?: boolean;
}

/** A bucket's own settings before the guard changed them. */
export interface BucketRecord extends RecordOrigin {
  readonly kind: 'bucket';
  /** The policy text; null when there was none; undefined when the guard could not read it (partial record). */
  readonly policy?: string | null;
  /** Undefined when the guard could not read it (partial record). */
  readonly acl?: BucketAcl;
  /** The bucket's own Block Public Access; null when none was configured. */
  readonly blockPublicAccess: PublicAccessBlockConfiguration | null;
}

/** An access point's policy before the guard removed its public statements. */
export interface AccessPointRecord extends RecordOrigin {
  readonly kind: 'access-point';
  readonly account: string;
  readonly name: string;
  /** The policy text; null when there was none. */
  readonly policy: string | null;
}

/** One object's ACL before the guard removed its public grants. */
export interface ObjectAclRecord extends RecordOrigin {
  readonly kind: 'object-acl';
  readonly key: string;
  readonly versionId?: string;
  readonly acl: BucketAcl;
}

/** What a verified record asks to put back. */
export type RestoreRecord = BucketRecord | AccessPointRecord | ObjectAclRecord;

/** A record that passed every check, and how it was checked. */
export interface VerifiedEvidence {
  readonly location: EvidenceLocation;
  /** The version read; undefined only for an unversioned evidence bucket. */
  readonly versionId?: string;
  /** Hex SHA-256 of the bytes read. */
  readonly sha256: string;
  /** Each check that passed, in words: `SHA-256 matches --sha256`. */
  readonly checks: readonly string[];
  readonly record: RestoreRecord;
}

/** How the record is to be read. */
export interface EvidenceRequest {
  readonly location: EvidenceLocation;
  readonly versionId?: string;
  /** Lower-case hex, from the notice. */
  readonly sha256?: string;
}

/**
 * Reads and verifies an evidence record.
 *
 * @throws RestoreStop `evidence-refused` when the record cannot be verified or is not one this command can
 *   restore; `aws` when S3 fails in a way that says nothing about the record (credentials, network).
 * @example
 * const evidence = await readEvidence(new S3Client({}), {
 *   location: parseEvidenceUri('s3://guard-evidence/roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json'),
 *   versionId: 'v1',
 *   sha256: 'ab12...',
 * });
 * evidence.record.kind; // 'bucket'
 */
export async function readEvidence(s3: S3Client, request: EvidenceRequest): Promise<VerifiedEvidence> {
  const { location } = request;
  if (request.versionId === undefined) await requireUnversioned(s3, location);
  const output = await getEvidenceObject(s3, request);
  if (request.versionId !== undefined && output.VersionId !== request.versionId) {
    throw refused(location, `S3 answered version ${output.VersionId ?? 'none'}, not ${request.versionId}`);
  }
  const bytes = await readCapped(output, location);
  const digest = createHash('sha256').update(bytes).digest();
  const checks = verifyDigest(digest, output.ChecksumSHA256, request.sha256, location);
  const document = parseJson(bytes, location);
  return {
    location,
    versionId: output.VersionId === undefined || output.VersionId === 'null' ? undefined : output.VersionId,
    sha256: digest.toString('hex'),
    checks,
    record: recordOf(document, location),
  };
}

/**
 * Without a version id, the object read is whatever version is newest: in a versioned bucket that could be
 * a later write than the guard's. A pin is then required; only an unversioned bucket (one version per key)
 * can do without, and then the checksum is the only proof.
 */
async function requireUnversioned(s3: S3Client, location: EvidenceLocation): Promise<void> {
  let status: string | undefined;
  try {
    status = (await s3.send(new GetBucketVersioningCommand({ Bucket: location.bucket }))).Status;
  } catch (error) {
    throw new RestoreStop(
      'aws',
      `s3://${location.bucket}: cannot tell whether the evidence bucket is versioned (GetBucketVersioning: ${describeError(error)}); pass --version-id from the notice`,
    );
  }
  if (status === 'Enabled' || status === 'Suspended') {
    throw refused(
      location,
      `the evidence bucket is versioned (${status}), so the record must be pinned: pass --version-id from the notice`,
    );
  }
}

/** Errors that say the object (or that version of it) is not there: the record is refused, not S3. */
const NOT_THERE: Readonly<Record<string, string>> = {
  NoSuchKey: 'no such object',
  NoSuchVersion: 'no such version',
  NotFound: 'no such object',
  MethodNotAllowed: 'that version is a delete marker',
  InvalidArgument: 'S3 rejected the version id',
  NoSuchBucket: 'no such evidence bucket',
};

async function getEvidenceObject(s3: S3Client, request: EvidenceRequest): Promise<GetObjectCommandOutput> {
  try {
    return await s3.send(
      new GetObjectCommand({
        Bucket: request.location.bucket,
        Key: request.location.key,
        VersionId: request.versionId,
        ChecksumMode: 'ENABLED',
      }),
    );
  } catch (error) {
    const name = errorName(error);
    const version = request.versionId === undefined ? '' : ` (version ${request.versionId})`;
    if (Object.prototype.hasOwnProperty.call(NOT_THERE, name)) {
      throw refused(request.location, `${NOT_THERE[name]}${version}`);
    }
    throw new RestoreStop('aws', `${request.location.uri}: GetObject failed: ${describeError(error)}`);
  }
}

/** Reads the body, stopping at {@link MAX_EVIDENCE_BYTES} whatever Content-Length claimed. */
async function readCapped(output: GetObjectCommandOutput, location: EvidenceLocation): Promise<Buffer> {
  const body = output.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  const tooLarge = (): RestoreStop =>
    refused(
      location,
      `larger than ${MAX_EVIDENCE_BYTES} bytes, far more than any record the guard writes: not read`,
    );
  if (output.ContentLength !== undefined && output.ContentLength > MAX_EVIDENCE_BYTES) {
    body?.destroy?.();
    throw tooLarge();
  }
  if (body === undefined) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.byteLength;
      if (size > MAX_EVIDENCE_BYTES) {
        body.destroy?.();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof RestoreStop) throw error;
    // The SDK checks the bytes against S3's stored checksum as they stream, and fails the stream on a mismatch.
    if (/checksum mismatch/i.test(errorMessageOf(error))) {
      throw refused(location, 'its bytes do not match the SHA-256 S3 stored for them');
    }
    throw new RestoreStop('aws', `${location.uri}: reading the object failed: ${describeError(error)}`);
  }
  return Buffer.concat(chunks);
}

/**
 * Compares the bytes' SHA-256 with each reference there is: the notice's (`--sha256`) and the one S3 stored.
 * At least one is needed; every one present must match.
 */
function verifyDigest(
  digest: Buffer,
  storedBase64: string | undefined,
  expectedHex: string | undefined,
  location: EvidenceLocation,
): string[] {
  const checks: string[] = [];
  const actualHex = digest.toString('hex');
  if (expectedHex !== undefined) {
    if (actualHex !== expectedHex) {
      throw refused(
        location,
        `its SHA-256 is ${actualHex}, not ${expectedHex} as --sha256 says: not the record the guard wrote`,
      );
    }
    checks.push('SHA-256 matches --sha256');
  }
  if (storedBase64 !== undefined && storedBase64 !== '') {
    if (storedBase64.includes('-')) {
      throw refused(location, 'S3 stored a multipart checksum; the guard writes evidence in one part');
    }
    if (storedBase64 !== digest.toString('base64')) {
      throw refused(location, 'its bytes do not match the SHA-256 S3 stored for them');
    }
    checks.push('SHA-256 matches the checksum S3 stored');
  }
  if (checks.length === 0) {
    throw refused(
      location,
      'S3 stored no SHA-256 for it and no --sha256 was given, so it cannot be verified: pass --sha256 from the notice',
    );
  }
  return checks;
}

function parseJson(bytes: Buffer, location: EvidenceLocation): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw refused(location, 'not UTF-8 text, so not an evidence record');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw refused(location, `not JSON (${errorMessageOf(error).split('\n')[0]}), so not an evidence record`);
  }
}

type Fields = Readonly<Record<string, unknown>>;

/**
 * The record's restorable part, checked field by field. Only fields of known shape are kept, so nothing
 * the guard did not write can reach an S3 call.
 */
function recordOf(document: unknown, location: EvidenceLocation): RestoreRecord {
  const malformed = (what: string): RestoreStop => refused(location, `malformed evidence record: ${what}`);
  if (!isFields(document)) throw malformed('not a JSON object');
  if (document.schema !== 'registry-guard/evidence/v1') {
    if (document.schema === 'registry-guard/evidence-replaced/v1') {
      throw refused(
        location,
        'a replaced-state record (registry-guard/evidence-replaced/v1), not evidence: restore its "replaced" field by hand (docs/runbook.md, section 3)',
      );
    }
    throw refused(location, `schema is ${describeValue(document.schema)}, not registry-guard/evidence/v1`);
  }
  const before = document.before;
  if (!isFields(before)) throw malformed('"before" is not an object');
  if (document.bucket === undefined && 'accountBlockPublicAccess' in before) {
    throw refused(
      location,
      "account-level evidence: restore puts back a bucket's, access point's or object's settings only; the account's Block Public Access protects every bucket, so put it back by hand with the command in the notice",
    );
  }
  const origin = originOf(document, malformed);
  // The guard keeps a bucket's evidence under `<bucket>/`: a record elsewhere names a bucket it was not written for.
  if (!location.key.startsWith(`${origin.bucket}/`)) {
    throw refused(
      location,
      `the record names bucket ${origin.bucket}, but it is not stored under ${origin.bucket}/ where the guard keeps that bucket's evidence`,
    );
  }
  if ('accessPoint' in before) return accessPointRecordOf(origin, before.accessPoint, malformed, location);
  if ('object' in before) return objectRecordOf(origin, before.object, malformed);
  const blockPublicAccess = blockPublicAccessOf(before.blockPublicAccess, malformed);
  if (Array.isArray(before.unreadable)) {
    // A bucket the guard could not read whole: only its Block Public Access was changed, and recorded.
    return { kind: 'bucket', ...origin, blockPublicAccess };
  }
  if (!('policy' in before) || !('acl' in before)) {
    throw malformed('"before" holds neither a bucket, an access point nor an object snapshot');
  }
  return {
    kind: 'bucket',
    ...origin,
    policy: policyOf(before.policy, 'before.policy', malformed),
    acl: aclOf(before.acl, 'before.acl', malformed),
    blockPublicAccess,
  };
}

function originOf(document: Fields, malformed: (what: string) => RestoreStop): RecordOrigin {
  const { bucket, account, region, registryBucket, evidenceId, capturedAt } = document;
  if (typeof bucket !== 'string' || !isBucketName(bucket)) throw malformed('"bucket" is not a bucket name');
  if (account !== undefined && (typeof account !== 'string' || !/^\d{12}$/.test(account))) {
    throw malformed('"account" is not a 12-digit account id');
  }
  if (region !== undefined && (typeof region !== 'string' || !/^[a-z0-9-]{1,32}$/.test(region))) {
    throw malformed('"region" is not a region name');
  }
  if (registryBucket !== undefined && typeof registryBucket !== 'boolean') {
    throw malformed('"registryBucket" is not true or false');
  }
  if (typeof evidenceId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(evidenceId)) {
    throw malformed('"evidenceId" is missing or not an id');
  }
  if (typeof capturedAt !== 'string' || Number.isNaN(Date.parse(capturedAt)) || capturedAt.length > 40) {
    throw malformed('"capturedAt" is not a time');
  }
  return { bucket, account, region, registryBucket, evidenceId, capturedAt };
}

function accessPointRecordOf(
  origin: RecordOrigin,
  snapshot: unknown,
  malformed: (what: string) => RestoreStop,
  location: EvidenceLocation,
): AccessPointRecord {
  if (!isFields(snapshot)) throw malformed('"before.accessPoint" is not an object');
  const { name, bucket } = snapshot;
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/.test(name)) {
    throw malformed('"before.accessPoint.name" is not an access point name');
  }
  if (bucket !== origin.bucket) {
    throw refused(
      location,
      `the access point snapshot names bucket ${describeValue(bucket)}, the record ${origin.bucket}`,
    );
  }
  if (origin.account === undefined) throw malformed('an access point record needs "account"');
  return {
    kind: 'access-point',
    ...origin,
    account: origin.account,
    name,
    policy: policyOf(snapshot.policy, 'before.accessPoint.policy', malformed),
  };
}

function objectRecordOf(
  origin: RecordOrigin,
  snapshot: unknown,
  malformed: (what: string) => RestoreStop,
): ObjectAclRecord {
  if (!isFields(snapshot)) throw malformed('"before.object" is not an object');
  const { key, versionId } = snapshot;
  if (typeof key !== 'string' || key === '' || Buffer.byteLength(key, 'utf8') > 1024) {
    throw malformed('"before.object.key" is not an object key');
  }
  if (
    versionId !== undefined &&
    (typeof versionId !== 'string' || !/^[\x21-\x7e]{1,1024}$/.test(versionId))
  ) {
    throw malformed('"before.object.versionId" is not a version id');
  }
  return {
    kind: 'object-acl',
    ...origin,
    key,
    versionId,
    acl: aclOf(snapshot.acl, 'before.object.acl', malformed),
  };
}

/** A policy is restored as the exact text S3 returned, so it must be that: JSON text of an object, or null. */
function policyOf(value: unknown, field: string, malformed: (what: string) => RestoreStop): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw malformed(`"${field}" is neither policy text nor null`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw malformed(`"${field}" is not JSON policy text`);
  }
  if (!isFields(parsed)) throw malformed(`"${field}" is not a policy document`);
  if (!nestedAtMost(value, MAX_POLICY_DEPTH)) {
    throw malformed(`"${field}" nests deeper than ${MAX_POLICY_DEPTH} levels, which no IAM policy does`);
  }
  return value;
}

/** IAM policies nest a handful of levels (Statement, Condition, operator, key, values). */
const MAX_POLICY_DEPTH = 16;

/**
 * True when JSON text nests objects and arrays at most `max` deep: one pass over the characters, so the
 * recursive walks that compare and print a policy never meet a depth that could exhaust the stack.
 */
function nestedAtMost(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const character = text[index];
    if (inString) {
      if (character === '\\') index += 1;
      else if (character === '"') inString = false;
    } else if (character === '"') {
      inString = true;
    } else if (character === '{' || character === '[') {
      depth += 1;
      if (depth > max) return false;
    } else if (character === '}' || character === ']') {
      depth -= 1;
    }
  }
  return true;
}

const GRANTEE_TYPES: ReadonlySet<string> = new Set(['CanonicalUser', 'Group', 'AmazonCustomerByEmail']);
const PERMISSIONS: ReadonlySet<string> = new Set(['FULL_CONTROL', 'READ', 'WRITE', 'READ_ACP', 'WRITE_ACP']);
/** S3 allows at most 100 grants in an ACL. */
const MAX_GRANTS = 100;

function aclOf(value: unknown, field: string, malformed: (what: string) => RestoreStop): BucketAcl {
  if (!isFields(value)) throw malformed(`"${field}" is not an ACL`);
  const owner = value.Owner;
  if (owner !== undefined && (!isFields(owner) || !optionalStrings(owner, ['ID', 'DisplayName']))) {
    throw malformed(`"${field}.Owner" is not an owner`);
  }
  const grants = value.Grants ?? [];
  if (!Array.isArray(grants) || grants.length > MAX_GRANTS) {
    throw malformed(`"${field}.Grants" is not a list of at most ${MAX_GRANTS} grants`);
  }
  return {
    Owner:
      owner === undefined
        ? undefined
        : { ID: owner.ID as string | undefined, DisplayName: owner.DisplayName as string | undefined },
    Grants: grants.map((grant, position) => grantOf(grant, `${field}.Grants[${position}]`, malformed)),
  };
}

function grantOf(value: unknown, field: string, malformed: (what: string) => RestoreStop): Grant {
  if (!isFields(value) || typeof value.Permission !== 'string' || !PERMISSIONS.has(value.Permission)) {
    throw malformed(`"${field}" has no S3 permission`);
  }
  const grantee = value.Grantee;
  if (
    !isFields(grantee) ||
    typeof grantee.Type !== 'string' ||
    !GRANTEE_TYPES.has(grantee.Type) ||
    !optionalStrings(grantee, ['ID', 'URI', 'EmailAddress', 'DisplayName'])
  ) {
    throw malformed(`"${field}.Grantee" is not a grantee S3 knows`);
  }
  return {
    Permission: value.Permission as Grant['Permission'],
    Grantee: {
      Type: grantee.Type as NonNullable<Grant['Grantee']>['Type'],
      ID: grantee.ID as string | undefined,
      URI: grantee.URI as string | undefined,
      EmailAddress: grantee.EmailAddress as string | undefined,
      DisplayName: grantee.DisplayName as string | undefined,
    },
  };
}

function blockPublicAccessOf(
  value: unknown,
  malformed: (what: string) => RestoreStop,
): PublicAccessBlockConfiguration | null {
  if (value === null) return null;
  if (!isFields(value)) throw malformed('"before.blockPublicAccess" is neither a configuration nor null');
  const configuration: Record<string, boolean> = {};
  for (const setting of BLOCK_PUBLIC_ACCESS_SETTINGS) {
    const on = value[setting];
    if (on === undefined) continue;
    if (typeof on !== 'boolean')
      throw malformed(`"before.blockPublicAccess.${setting}" is not true or false`);
    configuration[setting] = on;
  }
  return configuration as PublicAccessBlockConfiguration;
}

function optionalStrings(fields: Fields, names: readonly string[]): boolean {
  return names.every((name) => fields[name] === undefined || typeof fields[name] === 'string');
}

function isFields(value: unknown): value is Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 60 ? `${value.slice(0, 57)}...` : value}"`;
  return value === undefined ? 'missing' : typeof value;
}

function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function refused(location: EvidenceLocation, why: string): RestoreStop {
  return new RestoreStop('evidence-refused', `${location.uri}: refused: ${why}`);
}
