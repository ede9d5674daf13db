/**
 * `registry-guard restore` arguments: parsed and checked before any AWS call, so a typo costs nothing and
 * never reaches a bucket.
 */
import { parseArgs } from 'util';
import { RestoreStop } from './restore-errors';

export const RESTORE_USAGE = `Usage: registry-guard restore s3://EVIDENCE_BUCKET/KEY --version-id VERSION --sha256 HEX [options]

Puts back what registry-guard changed on a bucket (its policy, ACL and Block Public Access; or an access
point's policy; or an object's ACL), from the evidence record the guard wrote before changing it. Paste the
command line from the guard's notice.

DRY RUN BY DEFAULT: without --apply it reads the record and the live settings, prints the difference
(- live now, + what the record holds) and changes nothing.

The record is used only when it can be verified: read at the pinned --version-id, its SHA-256 must match
--sha256 (from the notice) and the checksum S3 stored. A versioned evidence bucket needs --version-id.

Only settings that differ are written. Restore never deletes a policy, an object or any data: where the
record says "no policy" but the bucket has one now, the live policy is left alone (it may hold Deny
statements the guard never added). A registry bucket (tagged, recorded as one, or known to the guard's
registry ledger) is never made public again: if anything to put back is public, or would turn a Block Public
Access setting off, the whole restore is refused and nothing is changed.

Options (each at most once):
  --version-id VERSION   the evidence object's version (required when the evidence bucket is versioned)
  --sha256 HEX           the SHA-256 the notice gives; the record is refused unless its bytes match
  --apply                make the changes (default: dry run)
  --dry-run              print the difference only (the default)
  --exempt-days N        ordinary buckets only: first tag the bucket exempt for N days (1 to the guard's
                         maximum, MAX_EXEMPTION_DAYS, default 90), so the guard does not close it again
  --exempt-reason TEXT   the exemption's reason (default: the evidence id); name the ticket that approved it
  --region REGION        the region of the evidence and target buckets (default: the record's, then the SDK's)
  --guard-evidence-bucket NAME
                         the guard's evidence bucket, whose registry ledger is read (default: EVIDENCE_BUCKET,
                         else the bucket the URI names); a record in any other bucket is refused (exit 3)
  --other-evidence-bucket
                         accept a record copied to another bucket; the ledger is still the guard's
  --format text|json     output format (default: text)
  -h, --help             show this help

Credentials come from the standard AWS SDK chain; AWS_ENDPOINT_URL is honoured.

Exit codes: 0 restored, nothing to restore, or dry run printed; 1 refused: a registry bucket would become
public (nothing changed); 2 usage or input error; 3 evidence refused (checksum, version pin, schema, size,
malformed, another bucket); 4 AWS error (the message says what was already changed).
`;

const FORMATS = ['text', 'json'] as const;
/** How the result is printed. */
export type RestoreFormat = (typeof FORMATS)[number];

/** Where the evidence object is, as the user named it. */
export interface EvidenceLocation {
  readonly bucket: string;
  readonly key: string;
  /** `s3://bucket/key`. */
  readonly uri: string;
}

/** What the user asked for. */
export interface RestoreOptions {
  readonly evidence: EvidenceLocation;
  readonly versionId?: string;
  /** Lower-case hex. */
  readonly sha256?: string;
  readonly apply: boolean;
  readonly exemptDays?: number;
  readonly exemptReason?: string;
  readonly region?: string;
  readonly format: RestoreFormat;
  /** The guard's evidence bucket, whose registry ledger is read. */
  readonly guardEvidenceBucket?: string;
  /** Accept a record from a bucket other than the guard's evidence bucket. */
  readonly otherEvidenceBucket: boolean;
}

/** What the parser needs to know from outside the arguments. */
export interface RestoreArgLimits {
  /** The longest exemption the guard honours. */
  readonly maxExemptionDays: number;
}

/** S3's bucket naming rules: 3-63 characters, lower-case letters, digits, dots and hyphens, alphanumeric ends. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** Version ids are printable ASCII without spaces. */
const VERSION_ID = /^[\x21-\x7e]{1,1024}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const REGION = /^[a-z0-9-]{1,32}$/;
const DAYS = /^\d{1,6}$/;
/** S3 tag values: letters, digits, spaces and `+ - = . _ : / @`, at most 256 characters. */
const TAG_VALUE = /^[\p{L}\p{N}\p{Zs}+\-=._:/@]{1,256}$/u;
const MAX_KEY_BYTES = 1024;

/**
 * Parses `restore`'s arguments (those after the word `restore`).
 *
 * @returns the options, or `'help'` for `--help`.
 * @throws RestoreStop (`usage`) naming the argument that is wrong.
 * @example
 * parseRestoreArgs(['s3://guard-evidence/roll/x.json', '--version-id', 'v1'], { maxExemptionDays: 90 });
 */
export function parseRestoreArgs(args: readonly string[], limits: RestoreArgLimits): RestoreOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      tokens: true,
      options: {
        'version-id': { type: 'string' },
        sha256: { type: 'string' },
        apply: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'exempt-days': { type: 'string' },
        'exempt-reason': { type: 'string' },
        region: { type: 'string' },
        format: { type: 'string' },
        'guard-evidence-bucket': { type: 'string' },
        'other-evidence-bucket': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // Node's message goes on to explain '--' positionals: the first sentence is the one that helps. Read
    // `message` by shape: an error from another realm (a test runner's VM) is not `instanceof Error` here.
    const message = (error as { message?: unknown } | null)?.message;
    const first = (typeof message === 'string' ? message : String(error)).split('\n')[0].split('. ')[0];
    throw usage(`restore: ${first} (see registry-guard restore --help)`);
  }
  const values = parsed.values;
  if (values.help === true) return 'help';
  const repeated = repeatedOption(parsed.tokens);
  if (repeated !== undefined) {
    // parseArgs keeps the last silently: a second --sha256 appended to a pasted command must not win.
    throw usage(`restore: --${repeated} is given more than once; pass it once`);
  }
  if (parsed.positionals.length !== 1) {
    throw usage(
      parsed.positionals.length === 0
        ? 'restore needs the evidence URI, s3://EVIDENCE_BUCKET/KEY, from the notice (see --help)'
        : `restore takes one evidence URI, got ${parsed.positionals.length}`,
    );
  }
  if (values.apply === true && values['dry-run'] === true) {
    throw usage('restore: --apply and --dry-run contradict each other; pass one');
  }
  const format = values.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw usage(`restore: unknown format '${format}'; use one of ${FORMATS.join(', ')}`);
  }
  const exemptDays = parseExemptDays(values['exempt-days'], limits.maxExemptionDays);
  const exemptReason = values['exempt-reason'];
  if (exemptReason !== undefined) {
    if (exemptDays === undefined) throw usage('restore: --exempt-reason needs --exempt-days');
    if (!TAG_VALUE.test(exemptReason)) {
      throw usage(
        'restore: --exempt-reason must be 1-256 letters, digits, spaces or + - = . _ : / @ (an S3 tag value)',
      );
    }
  }
  return {
    evidence: parseEvidenceUri(parsed.positionals[0]),
    versionId: checked(values['version-id'], VERSION_ID, '--version-id', 'printable characters, no spaces'),
    sha256: checked(values.sha256, SHA256_HEX, '--sha256', '64 hexadecimal digits')?.toLowerCase(),
    apply: values.apply === true,
    exemptDays,
    exemptReason,
    region: checked(values.region, REGION, '--region', 'a region name such as eu-west-1'),
    format: format as RestoreFormat,
    guardEvidenceBucket: guardBucket(values['guard-evidence-bucket']),
    otherEvidenceBucket: values['other-evidence-bucket'] === true,
  };
}

/**
 * Reads `s3://bucket/key`. The bucket must follow S3's naming rules and the key must be a key the guard
 * could have written: at most 1,024 bytes, no control characters.
 *
 * @example
 * parseEvidenceUri('s3://guard-evidence/roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json').key;
 * // 'roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json'
 */
export function parseEvidenceUri(text: string): EvidenceLocation {
  const shown = text.length > 120 ? `${text.slice(0, 117)}...` : text;
  if (!text.startsWith('s3://')) throw usage(`${shown}: not an s3:// URI; pass s3://EVIDENCE_BUCKET/KEY`);
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash < 0 || slash === rest.length - 1) {
    throw usage(`${shown}: names no object; pass s3://EVIDENCE_BUCKET/KEY`);
  }
  const bucket = rest.slice(0, slash);
  const key = rest.slice(slash + 1);
  if (!isBucketName(bucket)) throw usage(`${shown}: '${bucket}' is not an S3 bucket name`);
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw usage(`${shown}: the key is longer than S3's ${MAX_KEY_BYTES} bytes`);
  }
  if (hasControlCharacter(key)) throw usage(`${shown}: the key holds control characters`);
  return { bucket, key, uri: text };
}

/**
 * True when `name` follows S3's bucket naming rules (and is not an IP address).
 *
 * @example
 * isBucketName('electoral-roll'); // true
 * isBucketName('Electoral_Roll'); // false
 */
export function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..') && !/^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}

function guardBucket(name: string | undefined): string | undefined {
  if (name !== undefined && !isBucketName(name)) {
    throw usage(`restore: --guard-evidence-bucket '${name.slice(0, 80)}' is not an S3 bucket name`);
  }
  return name;
}

function parseExemptDays(text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  const days = DAYS.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(days) || days < 1) {
    throw usage(`restore: --exempt-days '${text}' is not a whole number of days from 1 to ${max}`);
  }
  if (days > max) {
    throw usage(
      `restore: --exempt-days ${days} is more than ${max} days, the longest exemption the guard honours (MAX_EXEMPTION_DAYS)`,
    );
  }
  return days;
}

function checked(value: string | undefined, pattern: RegExp, flag: string, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (!pattern.test(value)) {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    throw usage(`restore: ${flag} '${shown}' is not valid: expected ${what}`);
  }
  return value;
}

/** The first option named twice in the arguments, if any. */
function repeatedOption(tokens: readonly { kind: string; name?: string }[]): string | undefined {
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    if (seen.has(token.name)) return token.name;
    seen.add(token.name);
  }
  return undefined;
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function usage(message: string): RestoreStop {
  return new RestoreStop('usage', message);
}
