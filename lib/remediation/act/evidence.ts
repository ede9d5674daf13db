/**
 * The evidence bucket: a copy of a bucket's access settings taken before the guard changes them, which
 * also serves as the remediation history that loop detection counts.
 */
import { createHash } from 'crypto';
import {
  ListObjectsV2Command,
  PublicAccessBlockConfiguration,
  PutObjectCommand,
  S3Client,
  Tag,
} from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError } from '../aws-errors';
import { BucketAcl } from '../read/bucket-state';
import { ActionRecord } from './actions';

/** Remediations of one bucket within {@link LOOP_WINDOW_MS}, this one included, that make a loop. */
export const LOOP_THRESHOLD = 3;
/** The window loop detection looks back over: one hour. */
export const LOOP_WINDOW_MS = 60 * 60 * 1000;

/** What a bucket looked like before the guard touched it. Field names match docs/runbook.md. */
export interface BucketSnapshot {
  /** The policy text exactly as S3 returned it; null when none. */
  readonly policy: string | null;
  readonly acl: BucketAcl;
  /** The bucket's own Block Public Access; null when none was configured. */
  readonly blockPublicAccess: PublicAccessBlockConfiguration | null;
  /** `{ objectOwnership }`, null when none was configured, or why it could not be read. */
  readonly ownershipControls: { readonly objectOwnership?: string } | null | { readonly unreadable: string };
  readonly tags: readonly Tag[];
  /** The account's Block Public Access, as read for the judgement. */
  readonly accountBlockPublicAccess: PublicAccessBlockConfiguration | null | { readonly unreadable: string };
}

/** An access point as the guard read it before removing public statements from its policy. */
export interface AccessPointSnapshot {
  readonly name: string;
  readonly bucket: string;
  readonly networkOrigin?: string;
  readonly blockPublicAccess: PublicAccessBlockConfiguration | null;
  /** The policy text exactly as S3 Control returned it; null when the access point had none. */
  readonly policy: string | null;
}

/** One object's ACL as the guard read it before removing its public grants. */
export interface ObjectAclSnapshot {
  readonly key: string;
  readonly versionId?: string;
  readonly acl: BucketAcl;
}

/** The evidence object written before any change. */
export interface EvidenceDocument {
  readonly schema: 'registry-guard/evidence/v1';
  readonly evidenceId: string;
  readonly capturedAt: string;
  /** The bucket concerned; absent for account-level evidence. */
  readonly bucket?: string;
  readonly account?: string;
  readonly region?: string;
  readonly registryBucket?: boolean;
  readonly mode: string;
  /** What triggered the guard, e.g. `CloudTrail PutBucketPolicy at 2026-11-25T02:49:00Z`. */
  readonly event: string;
  /** For CloudTrail events, who made the change (`userIdentity.arn`). */
  readonly caller?: string;
  /** Each way in, as the exposure judgement words it. */
  readonly whatWasPublic: readonly string[];
  /** Set when this is the {@link LOOP_THRESHOLD}th remediation or more within the hour. */
  readonly loop?: { readonly remediationsInLastHour: number };
  readonly before:
    | BucketSnapshot
    | PartialSnapshot
    | { readonly accessPoint: AccessPointSnapshot }
    | { readonly object: ObjectAclSnapshot }
    | { readonly accountBlockPublicAccess: PublicAccessBlockConfiguration | null };
}

/**
 * What could be read of a bucket the guard could not read whole, before it turned on its Block Public
 * Access: only that setting is changed, so only that setting needs keeping, and it was read.
 */
export interface PartialSnapshot {
  readonly blockPublicAccess: PublicAccessBlockConfiguration | null;
  readonly tags: readonly Tag[];
  /** The reads that failed, each `Operation: error`. */
  readonly unreadable: readonly string[];
}

/**
 * Written right before a rewrite when the setting changed after the evidence object was written: the state
 * the rewrite replaced (and was recomputed from), so what the owner wrote in between is never lost.
 */
export interface ReplacedStateDocument {
  readonly schema: 'registry-guard/evidence-replaced/v1';
  readonly evidenceId: string;
  readonly capturedAt: string;
  readonly bucket: string;
  /** Which setting changed: `policy` or `acl`. */
  readonly setting: 'policy' | 'acl';
  /** The value the evidence object holds (what the decision was first computed from). */
  readonly decidedFrom: string | BucketAcl | null;
  /** The value read right before the rewrite, which the rewrite replaced. */
  readonly replaced: string | BucketAcl | null;
}

/** Where an evidence object is, pinned: its version and the SHA-256 of its bytes. */
export interface EvidenceRef {
  readonly bucket: string;
  readonly key: string;
  /** `s3://bucket/key`. */
  readonly uri: string;
  /** The object version S3 gave it; undefined when the evidence bucket is not versioned. */
  readonly versionId?: string;
  /** Hex SHA-256 of the object's bytes, for `sha256sum -c`. */
  readonly sha256: string;
}

/**
 * `<bucket>/<ISO timestamp>-<short id>.json`: sorted by time under the bucket's own prefix.
 *
 * @example
 * evidenceKey('roll', new Date('2026-11-25T02:49:00Z'), '1a2b3c4d'); // 'roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json'
 */
export function evidenceKey(bucket: string, capturedAt: Date, evidenceId: string): string {
  return `${bucket}/${capturedAt.toISOString()}-${evidenceId}.json`;
}

/**
 * `_account/<account id>/<ISO timestamp>-<short id>.json`. No bucket name can start with `_`, so account
 * evidence never mixes with a bucket's.
 *
 * @example
 * accountEvidenceKey('123456789012', new Date('2026-11-25T02:49:00Z'), '1a2b3c4d');
 */
export function accountEvidenceKey(accountId: string, capturedAt: Date, evidenceId: string): string {
  return `${EVIDENCE_PREFIXES.account}${accountId}/${capturedAt.toISOString()}-${evidenceId}.json`;
}

/**
 * The key of a replaced-state record: one level below the evidence object's own key, so loop detection,
 * which counts a bucket's top-level evidence objects, does not count it.
 *
 * @example
 * replacedStateKey('roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json', 'policy', '5e6f7a8b');
 * // 'roll/2026-11-25T02:49:00.000Z-1a2b3c4d/replaced-policy-5e6f7a8b.json'
 */
export function replacedStateKey(evidenceKey: string, setting: 'policy' | 'acl', evidenceId: string): string {
  return `${evidenceKey.replace(/\.json$/, '')}/replaced-${setting}-${evidenceId}.json`;
}

/**
 * Writes an evidence object, never over an existing one (`If-None-Match: *`), with S3 checking its SHA-256
 * on arrival. Throws when S3 refuses it: the caller must then rewrite nothing.
 *
 * @returns the object pinned by version and checksum, for the notice's restore recipe.
 * @example
 * const ref = await writeEvidence(new S3Client({}), 'guard-evidence', 'roll/2026-...json', document);
 * console.log(ref.versionId, ref.sha256);
 */
export async function writeEvidence(
  s3: S3Client,
  evidenceBucket: string,
  key: string,
  document: EvidenceDocument | ReplacedStateDocument,
): Promise<EvidenceRef> {
  const body = `${JSON.stringify(document, null, 2)}\n`;
  const digest = createHash('sha256').update(body, 'utf8').digest();
  const output = await s3.send(
    new PutObjectCommand({
      Bucket: evidenceBucket,
      Key: key,
      Body: body,
      ContentType: 'application/json',
      ChecksumSHA256: digest.toString('base64'),
      IfNoneMatch: '*',
    }),
  );
  return {
    bucket: evidenceBucket,
    key,
    uri: `s3://${evidenceBucket}/${key}`,
    versionId: output.VersionId === undefined || output.VersionId === 'null' ? undefined : output.VersionId,
    sha256: digest.toString('hex'),
  };
}

/**
 * How many times the guard remediated the bucket within the last hour, counted from its evidence objects
 * (one per remediation). Listing starts after the key an hour-old evidence object would have, so only
 * the last hour's objects come back.
 *
 * @example
 * const earlier = await countRecentRemediations(new S3Client({}), 'guard-evidence', 'roll', new Date());
 * const isLoop = earlier + 1 >= LOOP_THRESHOLD;
 */
export async function countRecentRemediations(
  s3: S3Client,
  evidenceBucket: string,
  bucket: string,
  now: Date,
): Promise<number> {
  const windowStart = new Date(now.getTime() - LOOP_WINDOW_MS);
  const output = await s3.send(
    new ListObjectsV2Command({
      Bucket: evidenceBucket,
      Prefix: `${bucket}/`,
      // Keys below a deeper "/" (another tool's objects) come back as CommonPrefixes, not Contents.
      Delimiter: '/',
      StartAfter: `${bucket}/${windowStart.toISOString()}`,
    }),
  );
  return (output.Contents ?? []).filter((object) => object.Key?.endsWith('.json')).length;
}

/**
 * Writes an evidence object and says so as an action for the notice: done with the pinned reference, or
 * failed with why (the caller then rewrites nothing it would have needed the backup for).
 *
 * @example
 * const { evidence, action } = await recordEvidence(s3, 'guard-evidence', key, document);
 */
export async function recordEvidence(
  s3: S3Client,
  evidenceBucket: string,
  key: string,
  document: EvidenceDocument,
): Promise<{ readonly evidence?: EvidenceRef; readonly action: ActionRecord }> {
  const uri = `s3://${evidenceBucket}/${key}`;
  try {
    const evidence = await writeEvidence(s3, evidenceBucket, key, document);
    return {
      evidence,
      action: { kind: 'evidence', action: `Wrote evidence to ${uri}`, status: 'done', verified: false },
    };
  } catch (error) {
    return {
      action: {
        kind: 'evidence',
        action: `Write evidence to ${uri}`,
        status: 'failed',
        verified: false,
        detail: describeError(error),
      },
    };
  }
}
