/**
 * The Security Hub findings the guard has open, one object each in its evidence bucket:
 * `_security-hub-findings/<subject>/<kind>.json`, holding the finding as last imported. The subject is the
 * finding's (security-hub-finding.ts, `subjectKeyOf`): a bucket's name for its own settings, or
 * `<bucket>/<way in>`, or a way in alone. A subject found closed resolves only what is listed here, so a
 * sweep of 100,000 closed buckets sends Security Hub nothing for them. A sweep lists the prefix once per
 * invocation; any other event lists only its own subject's part.
 *
 * Written and deleted in remediate mode only, like every record of the guard's: report mode writes nothing.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { EVIDENCE_PREFIXES } from '../../guard-facts';
import { describeError, errorName } from '../aws-errors';
import { RunContext } from '../run-context';
import { FINDING_KINDS, FindingKind } from './security-hub-finding';

const PREFIX = EVIDENCE_PREFIXES.securityHubFindings;

/** How the open findings are looked up: the whole list once (a sweep), or one bucket's at a time. */
export type OpenFindingsLookup = 'whole-list' | 'per-bucket';

/** The open findings of one run's account, read lazily and kept up to date as the run changes them. */
export class OpenFindings {
  /** The whole list, once read (`whole-list` only): subject → kinds open. */
  private wholeList: Promise<Map<string, Set<FindingKind>>> | undefined;

  constructor(
    private readonly run: RunContext,
    private readonly evidenceBucket: string,
    private readonly lookup: OpenFindingsLookup,
  ) {}

  /**
   * The kinds of finding open for `subject` (a bucket's name for its own settings), in
   * {@link FINDING_KINDS} order.
   *
   * @throws when the list could not be read: the caller leaves the subject's findings as they are.
   */
  async kindsOf(subject: string): Promise<FindingKind[]> {
    const open =
      this.lookup === 'whole-list'
        ? ((await this.readWholeList()).get(subject) ?? new Set<FindingKind>())
        : await this.listSubject(subject);
    return FINDING_KINDS.filter((kind) => open.has(kind));
  }

  /**
   * The finding as last imported, or undefined when there is no record of it.
   *
   * @throws when the record cannot be read or is not a finding: it is kept for a person to look at.
   */
  async read(subject: string, kind: FindingKind): Promise<AwsSecurityFinding | undefined> {
    let text: string;
    try {
      const output = await this.run.s3.send(
        new GetObjectCommand({ Bucket: this.evidenceBucket, Key: keyOf(subject, kind) }),
      );
      text = (await output.Body?.transformToString()) ?? '';
    } catch (error) {
      const name = errorName(error);
      if (name === 'NoSuchKey' || name === 'NotFound') return undefined;
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<AwsSecurityFinding> | null;
    if (parsed === null || typeof parsed !== 'object' || typeof parsed.Id !== 'string') {
      throw new Error(`s3://${this.evidenceBucket}/${keyOf(subject, kind)} is not a Security Hub finding`);
    }
    return parsed as AwsSecurityFinding;
  }

  /** Records an imported finding as open. @returns why it could not be, or undefined. */
  async remember(
    subject: string,
    kind: FindingKind,
    finding: AwsSecurityFinding,
  ): Promise<string | undefined> {
    try {
      await this.run.s3.send(
        new PutObjectCommand({
          Bucket: this.evidenceBucket,
          Key: keyOf(subject, kind),
          Body: `${JSON.stringify(finding)}\n`,
          ContentType: 'application/json',
        }),
      );
    } catch (error) {
      return describeError(error);
    }
    if (this.wholeList !== undefined) {
      const list = await this.wholeList.catch(() => undefined);
      if (list !== undefined) list.set(subject, new Set([...(list.get(subject) ?? []), kind]));
    }
    return undefined;
  }

  /** Drops the record of a resolved finding. @returns why it could not be, or undefined. */
  async forget(subject: string, kind: FindingKind): Promise<string | undefined> {
    try {
      await this.run.s3.send(
        new DeleteObjectCommand({ Bucket: this.evidenceBucket, Key: keyOf(subject, kind) }),
      );
    } catch (error) {
      return describeError(error);
    }
    if (this.wholeList !== undefined) {
      const list = await this.wholeList.catch(() => undefined);
      list?.get(subject)?.delete(kind);
    }
    return undefined;
  }

  private readWholeList(): Promise<Map<string, Set<FindingKind>>> {
    this.wholeList ??= this.list(PREFIX).then((keys) => {
      const open = new Map<string, Set<FindingKind>>();
      for (const key of keys) {
        const parsed = parseKey(key);
        if (parsed === undefined) continue;
        open.set(parsed.subject, new Set([...(open.get(parsed.subject) ?? []), parsed.kind]));
      }
      return open;
    });
    return this.wholeList;
  }

  /** The subject's own records: a bucket's list also holds its ways in (`<bucket>/<way in>/...`), left out. */
  private async listSubject(subject: string): Promise<Set<FindingKind>> {
    const keys = await this.list(`${PREFIX}${subject}/`);
    return new Set(
      keys
        .map(parseKey)
        .filter((parsed) => parsed?.subject === subject)
        .map((parsed) => (parsed as { kind: FindingKind }).kind),
    );
  }

  /** Every key under `prefix`, page by page. */
  private async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.run.s3.send(
        new ListObjectsV2Command({
          Bucket: this.evidenceBucket,
          Prefix: prefix,
          ContinuationToken: continuationToken,
        }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      continuationToken =
        page.IsTruncated === true && page.NextContinuationToken !== ''
          ? page.NextContinuationToken
          : undefined;
    } while (continuationToken !== undefined);
    return keys;
  }
}

/** `_security-hub-findings/<subject>/<kind>.json`: the kind follows the last `/` (kinds hold none). */
function keyOf(subject: string, kind: FindingKind): string {
  return `${PREFIX}${subject}/${kind}.json`;
}

function parseKey(key: string): { subject: string; kind: FindingKind } | undefined {
  const rest = key.slice(PREFIX.length);
  const slash = rest.lastIndexOf('/');
  if (!key.startsWith(PREFIX) || slash <= 0) return undefined;
  const kind = FINDING_KINDS.find((known) => rest.slice(slash + 1) === `${known}.json`);
  return kind === undefined ? undefined : { subject: rest.slice(0, slash), kind };
}
