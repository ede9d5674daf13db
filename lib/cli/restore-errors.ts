/**
 * How `registry-guard restore` ends when it does not restore: each kind of stop has its own exit code, so a
 * script (or on-call at 3 a.m.) can tell "the record is not trustworthy" from "AWS said no" from "a registry
 * must stay closed". Every message is one line; control characters are escaped like `check`'s.
 */
import { escapeControlCharacters } from './input-error';

/** Restored, nothing left to restore, or a dry run that printed what it would do. */
export const RESTORE_EXIT_OK = 0;
/**
 * Refused by the public judgement: the bucket is a registry and the restore would put back something
 * public (or turn Block Public Access off), or `--exempt-days` was asked for a registry. Nothing was changed.
 * The same number as `check`'s "findings": the judgement found something.
 */
export const RESTORE_EXIT_REFUSED_PUBLIC = 1;
/** Usage or input error (a bad flag, an s3 URI that is not one), as for `check`. */
export const RESTORE_EXIT_USAGE = 2;
/**
 * The evidence record was refused: checksum mismatch, not pinned to a version in a versioned bucket, not a
 * `registry-guard/evidence/v1` record, too large, malformed, or naming another bucket. Nothing was changed.
 */
export const RESTORE_EXIT_EVIDENCE_REFUSED = 3;
/** AWS refused or failed a read or a write (credentials, AccessDenied, network). The message says what was done. */
export const RESTORE_EXIT_AWS = 4;

/** Why the restore stopped, with the exit code that says so. */
export type RestoreStopKind = 'refused-public' | 'usage' | 'evidence-refused' | 'aws';

const EXIT_CODES: Readonly<Record<RestoreStopKind, number>> = {
  'refused-public': RESTORE_EXIT_REFUSED_PUBLIC,
  usage: RESTORE_EXIT_USAGE,
  'evidence-refused': RESTORE_EXIT_EVIDENCE_REFUSED,
  aws: RESTORE_EXIT_AWS,
};

/**
 * A stop the user can hit: printed as one line on stderr, never with a stack trace. `kind` is read instead
 * of `instanceof`, which breaks across copies of the package.
 *
 * @example
 * throw new RestoreStop('evidence-refused', 's3://guard-evidence/roll/x.json: its SHA-256 is ... not ...');
 */
export class RestoreStop extends Error {
  readonly exitCode: number;

  constructor(
    readonly kind: RestoreStopKind,
    message: string,
  ) {
    super(escapeControlCharacters(message));
    this.name = 'RestoreStop';
    this.exitCode = EXIT_CODES[kind];
  }
}

/**
 * True for a {@link RestoreStop}, recognised by its fields.
 *
 * @example
 * if (isRestoreStop(error)) io.stderr(`registry-guard: ${error.message}\n`);
 */
export function isRestoreStop(error: unknown): error is RestoreStop {
  const fields = error as Partial<RestoreStop> | null;
  return (
    typeof error === 'object' &&
    fields?.name === 'RestoreStop' &&
    typeof fields.exitCode === 'number' &&
    typeof fields.message === 'string'
  );
}
