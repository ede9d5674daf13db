/**
 * The registry ledger: one object per bucket the guard has ever seen classified as a registry, kept in the
 * evidence bucket (`_registries/<bucket>.json`), which only the guard's role may write. A tag is a claim anyone
 * who may tag the bucket can remove; the ledger is the guard's memory of it, so removing the tag does not
 * make a registry ordinary.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError, errorName } from '../aws-errors';

/** What the ledger says about one bucket. */
export type LedgerReading =
  | { readonly status: 'known'; readonly since: string }
  | { readonly status: 'unknown' }
  | { readonly status: 'unreadable'; readonly error: string }
  /** No evidence bucket is configured: there is no ledger, and tags alone decide. */
  | { readonly status: 'unavailable' };

/**
 * `_registries/<bucket>.json`.
 *
 * @example
 * registryLedgerKey('electoral-roll'); // '_registries/electoral-roll.json'
 */
export function registryLedgerKey(bucket: string): string {
  return `${EVIDENCE_PREFIXES.registries}${bucket}.json`;
}

/** The ledger of one invocation: read per bucket, or listed once for a sweep. */
export class RegistryLedger {
  private listed: ReadonlyMap<string, string> | { readonly error: string } | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly evidenceBucket: string | undefined,
  ) {}

  /** Lists the whole ledger once, so a sweep reads it in a few calls instead of one per bucket. */
  async preload(): Promise<void> {
    if (this.evidenceBucket === undefined) return;
    const entries = new Map<string, string>();
    try {
      let token: string | undefined;
      do {
        const page = await this.s3.send(
          new ListObjectsV2Command({
            Bucket: this.evidenceBucket,
            Prefix: EVIDENCE_PREFIXES.registries,
            ContinuationToken: token,
          }),
        );
        for (const object of page.Contents ?? []) {
          const name = bucketOfKey(object.Key);
          if (name !== undefined) entries.set(name, object.LastModified?.toISOString() ?? 'unknown');
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined && token !== '');
      this.listed = entries;
    } catch (error) {
      this.listed = {
        error: `listing s3://${this.evidenceBucket}/${EVIDENCE_PREFIXES.registries} failed: ${describeError(error)}`,
      };
    }
  }

  /**
   * Whether the bucket was ever seen as a registry. Unreadable is its own answer: the caller must not read it
   * as "never".
   *
   * @example
   * const reading = await ledger.read('electoral-roll');
   * if (reading.status === 'known') console.log(`registry since ${reading.since}`);
   */
  async read(bucket: string): Promise<LedgerReading> {
    if (this.evidenceBucket === undefined) return { status: 'unavailable' };
    if (this.listed !== undefined) {
      if ('error' in this.listed) return { status: 'unreadable', error: this.listed.error as string };
      const since = (this.listed as ReadonlyMap<string, string>).get(bucket);
      return since === undefined ? { status: 'unknown' } : { status: 'known', since };
    }
    try {
      const output = await this.s3.send(
        new GetObjectCommand({ Bucket: this.evidenceBucket, Key: registryLedgerKey(bucket) }),
      );
      const text = (await output.Body?.transformToString()) ?? '';
      return { status: 'known', since: sinceOf(text) ?? output.LastModified?.toISOString() ?? 'unknown' };
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') return { status: 'unknown' };
      return {
        status: 'unreadable',
        error: `reading s3://${this.evidenceBucket}/${registryLedgerKey(bucket)} failed: ${describeError(error)}`,
      };
    }
  }

  /**
   * Records a registry the first time it is seen. Never overwrites: `If-None-Match: *` keeps the first record.
   *
   * @returns undefined when recorded or already there; otherwise why it could not be recorded.
   */
  async record(bucket: string, since: Date, trigger: string): Promise<string | undefined> {
    if (this.evidenceBucket === undefined) return undefined;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.evidenceBucket,
          Key: registryLedgerKey(bucket),
          Body: `${JSON.stringify({ schema: 'registry-guard/registry/v1', bucket, since: since.toISOString(), seenBy: trigger })}\n`,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      return undefined;
    } catch (error) {
      if (errorName(error) === 'PreconditionFailed') return undefined;
      return `recording s3://${this.evidenceBucket}/${registryLedgerKey(bucket)} failed: ${describeError(error)}`;
    }
  }
}

function bucketOfKey(key: string | undefined): string | undefined {
  if (key === undefined || !key.startsWith(EVIDENCE_PREFIXES.registries) || !key.endsWith('.json'))
    return undefined;
  const name = key.slice(EVIDENCE_PREFIXES.registries.length, -'.json'.length);
  return name === '' || name.includes('/') ? undefined : name;
}

function sinceOf(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { since?: unknown };
    return typeof parsed.since === 'string' ? parsed.since : undefined;
  } catch {
    return undefined;
  }
}
