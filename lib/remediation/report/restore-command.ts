/**
 * The one command on-call runs to put a remediated bucket back: `registry-guard restore`, pinned to the
 * evidence object's version and checksum so a later or forged copy is refused instead of restored.
 */
import { EvidenceRef } from '../act/evidence';

/**
 * The `registry-guard restore` command line for an evidence object (a dry run: it prints the diff and
 * changes nothing until `--apply` is added).
 *
 * @example
 * restoreCommandFor({ bucket: 'guard-evidence', key: 'roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json',
 *   uri: 's3://guard-evidence/roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json', versionId: 'v1', sha256: 'ab12...' });
 * // 'npx registry-guard restore s3://guard-evidence/roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json --version-id v1 --sha256 ab12...'
 */
export function restoreCommandFor(evidence: EvidenceRef): string {
  const version = evidence.versionId === undefined ? '' : ` --version-id ${shellWord(evidence.versionId)}`;
  return `npx registry-guard restore ${shellWord(evidence.uri)}${version} --sha256 ${shellWord(evidence.sha256)}`;
}

/** Quotes a word for a POSIX shell unless it is made only of characters no shell treats specially. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9._:/=+@%,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
