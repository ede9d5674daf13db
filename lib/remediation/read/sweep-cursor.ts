/**
 * Where a sweep that ran short of time stopped, kept in the evidence bucket (`_sweep/cursor.json`), so the
 * next sweep (Lambda's retry, or the next scheduled one) starts with the buckets it did not reach instead of
 * judging the same first ones again and never the last.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError } from '../aws-errors';

/** The cursor object's key. */
export const SWEEP_CURSOR_KEY = `${EVIDENCE_PREFIXES.sweep}cursor.json`;

/**
 * The bucket the next sweep should start with, or undefined to start at the beginning (no cursor, the
 * last sweep finished, or the cursor cannot be read: a sweep from the start is never wrong, only slower).
 *
 * @example
 * const startAt = await readSweepCursor(new S3Client({}), 'guard-evidence');
 */
export async function readSweepCursor(s3: S3Client, evidenceBucket: string): Promise<string | undefined> {
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: evidenceBucket, Key: SWEEP_CURSOR_KEY }));
    const parsed = JSON.parse((await output.Body?.transformToString()) ?? '{}') as { startAt?: unknown };
    return typeof parsed.startAt === 'string' && parsed.startAt !== '' ? parsed.startAt : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records where the next sweep starts (`undefined`: at the beginning).
 *
 * @returns undefined when written; otherwise why not.
 */
export async function writeSweepCursor(
  s3: S3Client,
  evidenceBucket: string,
  startAt: string | undefined,
  now: Date,
): Promise<string | undefined> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: evidenceBucket,
        Key: SWEEP_CURSOR_KEY,
        Body: `${JSON.stringify({ schema: 'registry-guard/sweep-cursor/v1', startAt: startAt ?? null, savedAt: now.toISOString() })}\n`,
        ContentType: 'application/json',
      }),
    );
    return undefined;
  } catch (error) {
    return `writing s3://${evidenceBucket}/${SWEEP_CURSOR_KEY} failed: ${describeError(error)}`;
  }
}

/**
 * The buckets in sweep order: from the first at or after `startAt` to the end, then from the beginning.
 *
 * @example
 * rotateFrom(['a', 'b', 'c'], 'b'); // ['b', 'c', 'a']
 */
export function rotateFrom(buckets: readonly string[], startAt: string | undefined): string[] {
  if (startAt === undefined) return [...buckets];
  const index = buckets.findIndex((bucket) => bucket >= startAt);
  return index <= 0 ? [...buckets] : [...buckets.slice(index), ...buckets.slice(0, index)];
}
