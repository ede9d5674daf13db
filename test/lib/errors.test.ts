import { App, Stack } from 'aws-cdk-lib';
import { Errors, RegistryGuardValidationError } from '../../lib/errors';

describe('Errors.isValidationError', () => {
  const stack = new Stack(new App(), 'Registries');

  test('recognises the kit validation error, with the construct path and a message that starts with it', () => {
    const error = new RegistryGuardValidationError(
      'OrganizationGuardrails',
      stack,
      'regions is empty: name every Region to guard.',
    );
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.constructPath).toBe('Registries');
    expect(error.message).toBe(
      'OrganizationGuardrails Registries: regions is empty: name every Region to guard.',
    );
    expect(error.name).toBe('RegistryGuardValidationError');
  });

  test('recognises one thrown by another copy of the package, where instanceof fails', () => {
    const fromAnotherCopy = Object.assign(new Error('Stack Registries: refused'), {
      constructPath: 'Registries',
    });
    Object.defineProperty(fromAnotherCopy, Symbol.for('registry-guard.ValidationError'), { value: true });
    expect(fromAnotherCopy instanceof RegistryGuardValidationError).toBe(false);
    expect(Errors.isValidationError(fromAnotherCopy)).toBe(true);
  });

  test.each([
    ['a plain Error', new Error('Stack Registries: refused')],
    ['undefined', undefined],
    ['null', null],
    ['a string', 'Stack Registries: refused'],
  ])('does not recognise %s', (_name, value) => {
    expect(Errors.isValidationError(value)).toBe(false);
  });
});
