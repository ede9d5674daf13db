/**
 * The errors `registry-guard check` reports as bad input: one line on stderr, exit 2, never a stack trace.
 */

/** Bad input or usage: the CLI prints the message on one line and exits 2, never a stack trace. */
export class CliInputError extends Error {
  /**
   * @param message starts with the path it concerns and says what to do where it can. Control characters
   *   (a newline in a file name, an escape sequence in a template) are shown escaped, so the message stays
   *   one line and cannot drive the terminal.
   */
  constructor(message: string) {
    super(escapeControlCharacters(message));
    this.name = 'CliInputError';
  }
}

// Matching control characters is the point: they are what must not reach the terminal raw. With them the
// bidirectional marks, embeddings, overrides and isolates (U+200E/200F, U+061C, U+202A-202E, U+2066-2069),
// which make text display in another order than it reads ("Trojan Source").
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
const SHORT_ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `a\nb` → `a\\nb`, `\u001b` → `\\u001b`, `\u202e` → `\\u202e`: readable, one line, shown in reading order. */
export function escapeControlCharacters(text: string): string {
  return text.replace(
    CONTROL_CHARACTER,
    (character) => SHORT_ESCAPES[character] ?? `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Plain words for the error codes the file system gives. ENOENT stays bare because it is the message users
 * and scripts already match ("no such file or directory").
 */
const FILE_ERROR_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied; check its permissions, or run as a user who can read it',
  EPERM:
    'permission denied (operation not permitted); check its permissions, or run as a user who can read it',
  ELOOP: 'too many levels of symbolic links (a symbolic link loop?); fix the link',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory where a file was expected',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many open files; raise the limit (ulimit -n) or check fewer paths at once',
  ENFILE: 'too many open files on this system; try again later',
  EIO: 'input/output error while reading it; check the disk or network file system',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EBUSY: 'the file is busy; try again later',
  EAGAIN: 'the file is not ready to be read; pass a regular file',
  ETIMEDOUT: 'timed out while reading it; check the network file system',
  EOVERFLOW: 'too large to read',
};

/**
 * What went wrong with a file system call, in plain words.
 *
 * @example
 * fileErrorReason(Object.assign(new Error(), { code: 'ELOOP' })); // 'too many levels of symbolic links ...'
 */
export function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null | undefined)?.code;
  if (code !== undefined && Object.prototype.hasOwnProperty.call(FILE_ERROR_REASONS, code)) {
    return FILE_ERROR_REASONS[code];
  }
  const detail = code ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
  return `cannot be read (${detail})`;
}
