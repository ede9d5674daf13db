/**
 * Reading the AWS SDK's errors without trusting their shape: a rejected promise may hold anything.
 */

/** The error code the SDK reports (`NoSuchBucket`, `AccessDenied`, ...), or the JavaScript error name. */
export function errorName(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const fields = error as { name?: unknown; Code?: unknown };
    if (typeof fields.Code === 'string' && fields.Code !== '') return fields.Code;
    if (typeof fields.name === 'string' && fields.name !== '') return fields.name;
  }
  return 'UnknownError';
}

/** The error's message, for people; never empty. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error && error.message !== '') return error.message;
  if (typeof error === 'string' && error !== '') return error;
  return errorName(error);
}

/** `AccessDenied: Access Denied`: how the guard names an error in annotations and notices. */
export function describeError(error: unknown): string {
  const name = errorName(error);
  const message = errorMessage(error);
  return message === name ? name : `${name}: ${message}`;
}
