/**
 * A fanned-out sweep's records in the evidence bucket, under `_sweep/<sweepId>/`, which only the guard's
 * role may write:
 *
 * - `started.json`: written by the invocation AWS Config started, before the first message is sent. It holds
 *   a hash of the result token, so a message naming a sweep that was never started, or another token, is
 *   refused: sending to the queue does not let anyone start a sweep or use a token Config did not give.
 * - `listed.json`: written by the last page, with how many batches the sweep handed out.
 * - `done/<batchId>.json`: one per batch that finished and delivered its evaluations.
 * - `unverifiable/<batchId>.json`: the buckets of that batch that could not be verified, for the digest.
 * - `digest.json`, `token-rejected.json`: claims, written `If-None-Match: *`, so the digest and the page
 *   about a rejected token go out once per sweep however many messages ask.
 *
 * Nothing here deletes them (the guard's role deletes only delivered pending notices, and Object Lock keeps
 * every version): a daily sweep of 100,000 buckets leaves about 4,200 small objects.
 */
import { createHash } from 'crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { errorName } from '../aws-errors';
import { SweepIdentity } from './messages';

/** `_sweep/<sweepId>/`. */
export function sweepPrefix(sweepId: string): string {
  return `${EVIDENCE_PREFIXES.sweep}${sweepId}/`;
}

/** A hex SHA-256: what the records keep of a result token (the token itself stays in the queue only). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What `started.json` holds. */
export interface SweepStartRecord {
  readonly schema: 'registry-guard/sweep/v1';
  readonly sweepId: string;
  readonly resultTokenSha256: string;
  readonly orderingTimestamp: string;
  readonly region: string | null;
  readonly startedAt: string;
}

/** A bucket that could not be verified, as a batch records it for the digest. */
export interface UnverifiableEntry {
  readonly bucket: string;
  readonly reason: string;
}

/** Records the sweep's start; the same sweep started twice writes the same record. */
export async function writeSweepStart(
  s3: S3Client,
  evidenceBucket: string,
  sweep: SweepIdentity,
  now: Date,
): Promise<void> {
  const record: SweepStartRecord = {
    schema: 'registry-guard/sweep/v1',
    sweepId: sweep.sweepId,
    resultTokenSha256: sha256(sweep.resultToken),
    orderingTimestamp: sweep.orderingTimestamp.toISOString(),
    region: sweep.region ?? null,
    startedAt: now.toISOString(),
  };
  await putJson(s3, evidenceBucket, `${sweepPrefix(sweep.sweepId)}started.json`, record);
}

/**
 * Why a message may not act for the sweep it names, or undefined when it may: the sweep was started by
 * this guard, with this result token, ordering timestamp and Region.
 *
 * @throws when the record cannot be read for another reason than its absence (the message is retried).
 */
export async function sweepStartMismatch(
  s3: S3Client,
  evidenceBucket: string,
  sweep: SweepIdentity,
): Promise<string | undefined> {
  const key = `${sweepPrefix(sweep.sweepId)}started.json`;
  const record = await getJson<Partial<SweepStartRecord>>(s3, evidenceBucket, key);
  if (record === undefined)
    return `no sweep ${sweep.sweepId} was started (s3://${evidenceBucket}/${key} is missing)`;
  if (record.resultTokenSha256 !== sha256(sweep.resultToken)) {
    return `its result token is not the one AWS Config gave sweep ${sweep.sweepId}`;
  }
  if (record.orderingTimestamp !== sweep.orderingTimestamp.toISOString()) {
    return `its orderingTimestamp is not sweep ${sweep.sweepId}'s (${record.orderingTimestamp})`;
  }
  if ((record.region ?? undefined) !== sweep.region) {
    return `its region ${sweep.region ?? 'none'} is not sweep ${sweep.sweepId}'s (${record.region ?? 'none'})`;
  }
  return undefined;
}

/** Records how many batches the sweep handed out, once its last page is listed. */
export async function writeSweepListed(
  s3: S3Client,
  evidenceBucket: string,
  sweepId: string,
  listing: { batches: number; pages: number; now: Date },
): Promise<void> {
  await putJson(s3, evidenceBucket, `${sweepPrefix(sweepId)}listed.json`, {
    schema: 'registry-guard/sweep-listed/v1',
    batches: listing.batches,
    pages: listing.pages,
    listedAt: listing.now.toISOString(),
  });
}

/** How many batches the sweep handed out, or undefined while its listing has not finished. */
export async function readSweepListed(
  s3: S3Client,
  evidenceBucket: string,
  sweepId: string,
): Promise<number | undefined> {
  const record = await getJson<{ batches?: unknown }>(
    s3,
    evidenceBucket,
    `${sweepPrefix(sweepId)}listed.json`,
  );
  return typeof record?.batches === 'number' ? record.batches : undefined;
}

/**
 * Records that a batch finished: its unverifiable buckets first (when any), then the batch as done, so a
 * batch counted done always has its unverifiable buckets recorded.
 */
export async function writeBatchDone(
  s3: S3Client,
  evidenceBucket: string,
  sweepId: string,
  batch: { batchId: string; buckets: number; unverifiable: readonly UnverifiableEntry[]; now: Date },
): Promise<void> {
  const prefix = sweepPrefix(sweepId);
  if (batch.unverifiable.length > 0) {
    await putJson(s3, evidenceBucket, `${prefix}unverifiable/${batch.batchId}.json`, {
      schema: 'registry-guard/sweep-unverifiable/v1',
      entries: batch.unverifiable,
    });
  }
  await putJson(s3, evidenceBucket, `${prefix}done/${batch.batchId}.json`, {
    schema: 'registry-guard/sweep-batch-done/v1',
    buckets: batch.buckets,
    unverifiable: batch.unverifiable.length,
    doneAt: batch.now.toISOString(),
  });
}

/** The batch ids recorded done. */
export async function listDoneBatches(
  s3: S3Client,
  evidenceBucket: string,
  sweepId: string,
): Promise<string[]> {
  const prefix = `${sweepPrefix(sweepId)}done/`;
  return (await listKeys(s3, evidenceBucket, prefix)).map((key) => key.slice(prefix.length, -'.json'.length));
}

/** Every unverifiable bucket the sweep's batches recorded. */
export async function readUnverifiable(
  s3: S3Client,
  evidenceBucket: string,
  sweepId: string,
): Promise<UnverifiableEntry[]> {
  const keys = await listKeys(s3, evidenceBucket, `${sweepPrefix(sweepId)}unverifiable/`);
  const entries: UnverifiableEntry[] = [];
  for (const key of keys) {
    const record = await getJson<{ entries?: unknown }>(s3, evidenceBucket, key);
    if (!Array.isArray(record?.entries)) continue;
    for (const entry of record.entries as Partial<UnverifiableEntry>[]) {
      if (typeof entry?.bucket === 'string' && typeof entry.reason === 'string') {
        entries.push({ bucket: entry.bucket, reason: entry.reason });
      }
    }
  }
  return entries;
}

/**
 * Claims `_sweep/<sweepId>/<name>.json` for this invocation: true for the first to ask, false for every
 * later one.
 */
export async function claimOnce(
  s3: S3Client,
  evidenceBucket: string,
  sweepId: string,
  name: 'digest' | 'token-rejected',
  body: Record<string, unknown>,
): Promise<boolean> {
  try {
    await putJson(s3, evidenceBucket, `${sweepPrefix(sweepId)}${name}.json`, body, true);
    return true;
  } catch (error) {
    if (errorName(error) === 'PreconditionFailed') return false;
    throw error;
  }
}

async function putJson(
  s3: S3Client,
  bucket: string,
  key: string,
  body: unknown,
  onlyIfAbsent = false,
): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${JSON.stringify(body)}\n`,
      ContentType: 'application/json',
      ...(onlyIfAbsent ? { IfNoneMatch: '*' } : {}),
    }),
  );
}

async function getJson<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse((await output.Body?.transformToString()) ?? 'null') as T;
  } catch (error) {
    if (errorName(error) === 'NoSuchKey') return undefined;
    throw error;
  }
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined && token !== '');
  return keys;
}
