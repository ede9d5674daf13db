/**
 * Text from outside the guard (error messages, tags, records read back from S3) placed on one line of a
 * notice.
 */

/**
 * Bidirectional format characters: the embeddings and overrides (U+202A-U+202E), the isolates
 * (U+2066-U+2069), the left-to-right and right-to-left marks (U+200E, U+200F) and the Arabic letter mark
 * (U+061C). Each is invisible and changes the order in which what follows it displays.
 */
const BIDI_FORMAT_CHARACTERS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/**
 * A bucket name or reason on one line: a line break or control character in an error message (or in a
 * sweep record read back from S3) must not forge lines of the notice on-call trusts, and a bidirectional
 * override must not make the rest of the line display in another order (`until 2027-01-31` read backwards).
 * Line breaks and control characters become spaces; bidirectional format characters, invisible anyway, are
 * dropped; a lone surrogate becomes U+FFFD.
 *
 * @example
 * oneLine('Access Denied\n\u202Edesolc'); // 'Access Denied desolc'
 */
export function oneLine(text: string): string {
  return text
    .replace(/\p{Cc}|[\u2028\u2029]/gu, ' ')
    .replace(BIDI_FORMAT_CHARACTERS, '')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
