/**
 * One incident, one page. Twenty events for one bucket in one state (a Config change and several CloudTrail
 * events within a second) may all read the bucket open before any of them closes it. Each tries to claim the
 * incident with a conditional write (`If-None-Match: *`) to `_incidents/<bucket>/<fingerprint>.json` in the
 * evidence bucket; exactly one wins. The winner backs up, closes, tells on-call and counts; the others still
 * close what they can, but write no evidence and send no notice.
 *
 * A claim stays the incident's for the incident window, until the bucket is closed: an event that finds the
 * claim closed and the bucket, read again, still (or again) in the claimed state saw it reopen, which is a
 * new incident (and, counted with the others of the hour, a loop).
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError, errorName } from '../aws-errors';

/** This invocation's part in the incident. */
export type IncidentClaim =
  /** This invocation handles the incident: evidence, notice, count. */
  | {
      readonly role: 'owner';
      readonly key: string;
      /** True when an earlier claim for the same state was closed before this state was read. */
      readonly reopened: boolean;
    }
  /** Another invocation owns it; this one only closes what it can. */
  | {
      readonly role: 'duplicate';
      readonly key: string;
      readonly claimedAt: string;
      readonly claimedBy: string;
      /** Where the owner keeps (or will keep) the evidence of this very state. */
      readonly evidenceKey?: string;
    }
  /** No claim could be made (no evidence bucket, report mode, S3 failed): act and tell, as the owner would. */
  | { readonly role: 'unclaimed'; readonly why: string };

/** What an incident object holds. */
interface IncidentRecord {
  readonly schema: 'registry-guard/incident/v1';
  readonly bucket: string;
  readonly fingerprint: string;
  readonly claimedAt: string;
  readonly claimedBy: string;
  /** The evidence key the owner writes. */
  readonly evidenceKey?: string;
  /** Set once the owner verified the bucket closed. */
  readonly closedAt?: string;
}

/** Where the claim is made and what it covers. */
export interface ClaimRequest {
  readonly s3: S3Client;
  readonly evidenceBucket: string;
  readonly bucket: string;
  readonly fingerprint: string;
  /**
   * Reads the bucket again and says whether it is still in the claimed state: asked only when the claim's
   * owner already closed it, to tell a stale read (a duplicate) from a bucket opened again (a new incident)
   * without comparing two machines' clocks.
   */
  readonly stillInState: () => Promise<boolean>;
  readonly now: Date;
  readonly windowMs: number;
  readonly trigger: string;
  readonly evidenceKey: string;
}

/**
 * `_incidents/<bucket>/<fingerprint>.json`.
 *
 * @example
 * incidentKey('roll', '0123abcd'); // '_incidents/roll/0123abcd.json'
 */
export function incidentKey(bucket: string, fingerprint: string): string {
  return `${EVIDENCE_PREFIXES.incidents}${bucket}/${fingerprint}.json`;
}

/**
 * Claims the incident for this invocation, or learns who has it.
 *
 * @example
 * const claim = await claimIncident({ s3, evidenceBucket, bucket, fingerprint, now, windowMs, trigger, evidenceKey, stillInState });
 * if (claim.role !== 'duplicate') await publishNotice(...);
 */
export async function claimIncident(request: ClaimRequest): Promise<IncidentClaim> {
  const key = incidentKey(request.bucket, request.fingerprint);
  const record: IncidentRecord = {
    schema: 'registry-guard/incident/v1',
    bucket: request.bucket,
    fingerprint: request.fingerprint,
    claimedAt: request.now.toISOString(),
    claimedBy: request.trigger,
    evidenceKey: request.evidenceKey,
  };
  const write = (condition: { IfNoneMatch: '*' } | { IfMatch: string }): Promise<unknown> =>
    request.s3.send(
      new PutObjectCommand({
        Bucket: request.evidenceBucket,
        Key: key,
        Body: `${JSON.stringify(record)}\n`,
        ContentType: 'application/json',
        ...condition,
      }),
    );
  try {
    await write({ IfNoneMatch: '*' });
    return { role: 'owner', key, reopened: false };
  } catch (error) {
    if (!isPreconditionFailure(error)) return unclaimed(request, error);
  }
  let existing: { record: Partial<IncidentRecord>; etag?: string };
  try {
    existing = await readRecord(request.s3, request.evidenceBucket, key);
  } catch (error) {
    return unclaimed(request, error);
  }
  const claimedAt = Date.parse(existing.record.claimedAt ?? '');
  const withinWindow = Number.isFinite(claimedAt) && request.now.getTime() - claimedAt < request.windowMs;
  const closed = existing.record.closedAt !== undefined;
  let reopened = false;
  if (withinWindow && closed) {
    try {
      reopened = await request.stillInState();
    } catch (error) {
      return unclaimed(request, error);
    }
  }
  if (withinWindow && !reopened) {
    return {
      role: 'duplicate',
      key,
      claimedAt: existing.record.claimedAt ?? 'unknown',
      claimedBy: existing.record.claimedBy ?? 'unknown',
      evidenceKey: existing.record.evidenceKey,
    };
  }
  if (existing.etag === undefined) return unclaimed(request, new Error('the incident object has no ETag'));
  try {
    // Only the first of several reopen events replaces the old claim; the others find it changed.
    await write({ IfMatch: existing.etag });
    return { role: 'owner', key, reopened: closed };
  } catch (error) {
    if (!isPreconditionFailure(error)) return unclaimed(request, error);
    return claimIncident({ ...request, windowMs: Number.POSITIVE_INFINITY, stillInState: async () => false });
  }
}

/**
 * Marks the owner's incident closed: later events that read the same open state saw it reopen.
 *
 * @returns undefined when recorded; otherwise why not (the caller logs it: the next event is then a duplicate
 *   until the window ends, which errs toward fewer pages for the same state, never toward leaving it open;
 *   a duplicate still closes what it can).
 */
export async function closeIncident(
  s3: S3Client,
  evidenceBucket: string,
  key: string,
  closedAt: Date,
): Promise<string | undefined> {
  try {
    const existing = await readRecord(s3, evidenceBucket, key);
    await s3.send(
      new PutObjectCommand({
        Bucket: evidenceBucket,
        Key: key,
        Body: `${JSON.stringify({ ...existing.record, closedAt: closedAt.toISOString() })}\n`,
        ContentType: 'application/json',
        ...(existing.etag === undefined ? {} : { IfMatch: existing.etag }),
      }),
    );
    return undefined;
  } catch (error) {
    return `marking s3://${evidenceBucket}/${key} closed failed: ${describeError(error)}`;
  }
}

/**
 * True when an object exists: a duplicate relies on the owner's evidence only once it is really there.
 * Asked by listing (the role may list the evidence bucket but not read evidence objects).
 */
export async function evidenceExists(s3: S3Client, evidenceBucket: string, key: string): Promise<boolean> {
  try {
    const listing = await s3.send(
      new ListObjectsV2Command({ Bucket: evidenceBucket, Prefix: key, MaxKeys: 1 }),
    );
    return listing.Contents?.[0]?.Key === key;
  } catch {
    return false;
  }
}

async function readRecord(
  s3: S3Client,
  evidenceBucket: string,
  key: string,
): Promise<{ record: Partial<IncidentRecord>; etag?: string }> {
  const output = await s3.send(new GetObjectCommand({ Bucket: evidenceBucket, Key: key }));
  const text = (await output.Body?.transformToString()) ?? '';
  let record: Partial<IncidentRecord> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object') record = parsed as Partial<IncidentRecord>;
  } catch {
    // An unreadable record claims nothing: its time is unknown, so the window test fails and it is replaced.
  }
  return { record, etag: output.ETag };
}

function isPreconditionFailure(error: unknown): boolean {
  const name = errorName(error);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

function unclaimed(request: ClaimRequest, error: unknown): IncidentClaim {
  return {
    role: 'unclaimed',
    why: `claiming s3://${request.evidenceBucket}/${incidentKey(request.bucket, request.fingerprint)} failed: ${describeError(error)}`,
  };
}

/**
 * Claims the state the guard left a still non-compliant bucket in (a registry whose tag is gone, a policy
 * left for a human) for the same incident, so the events that follow, which read that state, are
 * duplicates instead of pages. Never replaces an existing claim.
 *
 * @returns undefined when claimed or already claimed; otherwise why not.
 */
export async function claimStateLeftBehind(
  request: Omit<ClaimRequest, 'stillInState' | 'windowMs'>,
): Promise<string | undefined> {
  const key = incidentKey(request.bucket, request.fingerprint);
  const record: IncidentRecord = {
    schema: 'registry-guard/incident/v1',
    bucket: request.bucket,
    fingerprint: request.fingerprint,
    claimedAt: request.now.toISOString(),
    claimedBy: `the state ${request.trigger} left the bucket in`,
    evidenceKey: request.evidenceKey,
  };
  try {
    await request.s3.send(
      new PutObjectCommand({
        Bucket: request.evidenceBucket,
        Key: key,
        Body: `${JSON.stringify(record)}\n`,
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return undefined;
  } catch (error) {
    if (isPreconditionFailure(error)) return undefined;
    return `claiming s3://${request.evidenceBucket}/${key} failed: ${describeError(error)}`;
  }
}
