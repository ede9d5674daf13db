/**
 * What reading one thing amounts to: found (with what was read), gone, or unreadable (why). The guard never
 * throws on a read: an unreadable thing is judged "could not verify", a missing one "nothing to judge".
 */
import { describeError, errorName } from '../aws-errors';

/** A read's result; `T` holds what a found thing carries. */
export type Reading<T extends object> =
  | ({ readonly status: 'found' } & T)
  | { readonly status: 'missing' }
  | { readonly status: 'unreadable'; readonly error: string };

/**
 * Runs a read, turning the errors that mean "it does not exist" into `missing` and any other into
 * `unreadable`.
 *
 * @example
 * const reading = await readingOf(() => readAcl(), ['NoSuchKey', 'NoSuchBucket']);
 */
export async function readingOf<T extends object>(
  read: () => Promise<Reading<T>>,
  missingErrors: readonly string[],
): Promise<Reading<T>> {
  try {
    return await read();
  } catch (error) {
    if (missingErrors.includes(errorName(error))) return { status: 'missing' };
    return { status: 'unreadable', error: describeError(error) };
  }
}
