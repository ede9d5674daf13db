/**
 * The kit's one error for invalid construct input, and how to recognise it. Modelled on aws-cdk's
 * `ValidationError` and `Errors.isValidationError`: the check reads a brand on the instance instead of
 * using `instanceof`, which fails when an app loads two copies of this package (a CDK app and a library it
 * uses, each with its own node_modules) or calls it from another language.
 */
import { IConstruct } from 'constructs';

// Symbol.for, not Symbol(): two copies of this package must share the brand.
const VALIDATION_ERROR_BRAND = Symbol.for('registry-guard.ValidationError');

/**
 * A construct of this kit refused its props (or the stack around it) while it was being created: nothing was
 * synthesized. The message starts with the construct's class and path and says what to do instead.
 *
 * @example
 * try {
 *   new PublicAccessGuard(stack, 'Guard', { maxExemptionDays: 0 });
 * } catch (error) {
 *   if (Errors.isValidationError(error)) console.error(error.constructPath, error.message);
 *   // 'Guard/Guard', "PublicAccessGuard Guard/Guard: maxExemptionDays must be a whole number from 1 to 3650, not 0."
 * }
 *
 * @jsii ignore TypeScript only: jsii classes cannot extend Error
 */
export class RegistryGuardValidationError extends Error {
  /** The path of the construct that refused its input, as in `construct.node.path`: `Stack/Roll`. */
  readonly constructPath: string;

  /**
   * @param constructKind the construct's class as users know it (`PublicAccessGuard`): spelt out, because
   *   `constructor.name` is whatever a bundler left of it
   * @param construct the construct whose input is invalid
   * @param problem what is wrong, naming the prop, and what to do instead
   */
  constructor(constructKind: string, construct: IConstruct, problem: string) {
    super(`${constructKind} ${construct.node.path}: ${problem}`);
    this.name = 'RegistryGuardValidationError';
    this.constructPath = construct.node.path;
    Object.defineProperty(this, VALIDATION_ERROR_BRAND, { value: true });
  }
}

/**
 * Recognises the kit's errors without `instanceof`.
 *
 * @example
 * try {
 *   new OrganizationGuardrails(stack, 'Guardrails', { organizationId: 'my-org', organizationalUnits, regions });
 * } catch (error) {
 *   if (!Errors.isValidationError(error)) throw error;
 *   console.error(`fix the props of ${error.constructPath}: ${error.message}`);
 * }
 */
export class Errors {
  /**
   * True when `error` is a {@link RegistryGuardValidationError} (or a subclass), from any copy of this package.
   *
   * @jsii suppress JSII5018 (`error` is reserved in Go: not a target)
   */
  static isValidationError(error: unknown): error is RegistryGuardValidationError {
    if (error === null || typeof error !== 'object') return false;
    try {
      return VALIDATION_ERROR_BRAND in error;
    } catch {
      // A Proxy whose `has` trap throws: the check runs in catch blocks and must not hide the error caught.
      return false;
    }
  }

  private constructor() {}
}
