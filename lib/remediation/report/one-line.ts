/**
 * Text from outside the guard (error messages, tags, records read back from S3) placed on one line of a
 * notice.
 */

/**
 * A bucket name or reason on one line: a line break or control character in an error message (or in a
 * sweep record read back from S3) must not forge lines of the notice on-call trusts.
 */
export function oneLine(text: string): string {
  return text
    .replace(/\p{Cc}|[\u2028\u2029]/gu, ' ')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}
