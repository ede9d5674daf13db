import { Errors, RegistryGuardValidationError } from '../../lib/errors';

/**
 * The error `build` throws, which must be the kit's validation error: recognised by `Errors.isValidationError`,
 * carrying the construct path, with a message that starts with the construct's class and that path.
 */
export function validationErrorOf(build: () => unknown): RegistryGuardValidationError {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  if (!Errors.isValidationError(thrown)) {
    throw new Error(`expected a RegistryGuardValidationError, got ${String(thrown)}`);
  }
  const escapedPath = thrown.constructPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect(thrown.message).toMatch(new RegExp(`^[A-Z][A-Za-z]+ ${escapedPath}: `));
  return thrown;
}
