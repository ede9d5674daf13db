import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Errors, RegistryGuardValidationError } from '../../lib/errors';
import { PublicAccessGuard, PublicAccessGuardProps } from '../../lib/public-access-guard';
import { SensitiveRegistryBucket, SensitiveRegistryBucketProps } from '../../lib/sensitive-registry-bucket';
import { validationErrorOf } from '../support/validation-error';

function guard(props: PublicAccessGuardProps): void {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  new PublicAccessGuard(stack, 'Guard', props);
}

function registry(props: SensitiveRegistryBucketProps): void {
  const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  new SensitiveRegistryBucket(stack, 'Roll', props);
}

const ABSURD = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, 1.5, 1e308];

describe('absurd numeric props fail as RegistryGuardValidationError, naming the prop', () => {
  test.each(ABSURD.filter((value) => value !== 1e308))('reservedConcurrentExecutions %p', (value) => {
    expect(validationErrorOf(() => guard({ reservedConcurrentExecutions: value })).message).toContain(
      'reservedConcurrentExecutions',
    );
  });

  test.each([...ABSURD, 1, 1001])('sweepConcurrency %p', (value) => {
    const error = validationErrorOf(() =>
      guard({ sweepConcurrency: value, reservedConcurrentExecutions: 2000 }),
    );
    expect(error.message).toContain('sweepConcurrency');
  });

  test('sweepConcurrency equal to reservedConcurrentExecutions leaves the fast path nothing', () => {
    expect(
      validationErrorOf(() => guard({ sweepConcurrency: 10, reservedConcurrentExecutions: 10 })).message,
    ).toContain('lower than reservedConcurrentExecutions');
  });

  test.each([1, 2])('reservedConcurrentExecutions %p leaves no room for the sweep', (value) => {
    expect(validationErrorOf(() => guard({ reservedConcurrentExecutions: value })).message).toContain(
      'sweepConcurrency',
    );
  });

  test.each(ABSURD)('remediationAlarmThreshold %p', (value) => {
    expect(validationErrorOf(() => guard({ remediationAlarmThreshold: value })).message).toContain(
      'remediationAlarmThreshold',
    );
  });

  test.each(ABSURD)('maxExemptionDays %p', (value) => {
    expect(validationErrorOf(() => guard({ maxExemptionDays: value })).message).toContain('maxExemptionDays');
  });

  test.each([Duration.seconds(Number.NaN), Duration.seconds(1.5), Duration.days(2), Duration.seconds(59)])(
    'incidentWindow %p',
    (window) => {
      expect(validationErrorOf(() => guard({ incidentWindow: window })).message).toContain('incidentWindow');
    },
  );

  test('a token for reservedConcurrentExecutions is left to deployment, as the other numeric props are', () => {
    const stack = new Stack(new App(), 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
    const reserved = Token.asNumber({ Ref: 'Reserved' });
    expect(
      () => new PublicAccessGuard(stack, 'Guard', { reservedConcurrentExecutions: reserved }),
    ).not.toThrow();
  });

  test('tokens for the other numeric props are left to deployment', () => {
    expect(() =>
      guard({
        remediationAlarmThreshold: Token.asNumber({ Ref: 'T' }),
        maxExemptionDays: Token.asNumber({ Ref: 'D' }),
        sweepConcurrency: Token.asNumber({ Ref: 'S' }),
      }),
    ).not.toThrow();
  });

  test.each([Duration.days(Number.NaN), Duration.hours(36), Duration.days(0)])(
    'registry noncurrentVersionExpiration %p',
    (duration) => {
      const error = validationErrorOf(() => registry({ noncurrentVersionExpiration: duration }));
      expect(error.message).toContain('noncurrentVersionExpiration');
    },
  );

  test.each([Number.NaN, 1.1, -1])('registry minimumTLSVersion %p is refused', (value) => {
    const error = validationErrorOf(() =>
      registry({ minimumTLSVersion: value } as unknown as SensitiveRegistryBucketProps),
    );
    expect(error.message).toContain('minimumTLSVersion');
  });

  test('registry objectLock retention of NaN or 200 years', () => {
    for (const retention of [Duration.days(Number.NaN), Duration.days(365 * 200)]) {
      const error = validationErrorOf(() =>
        registry({ objectLock: { mode: s3.ObjectLockMode.GOVERNANCE, retention } }),
      );
      expect(error.message).toContain('objectLock');
    }
  });
});

describe('Errors.isValidationError on what is not one', () => {
  test('null, undefined, primitives, plain errors and look-alikes are not validation errors', () => {
    const lookAlike = Object.assign(new Error('x'), {
      name: 'RegistryGuardValidationError',
      constructPath: 'a/b',
    });
    for (const value of [
      null,
      undefined,
      0,
      '',
      'RegistryGuardValidationError',
      {},
      [],
      new Error('x'),
      lookAlike,
    ]) {
      expect(Errors.isValidationError(value)).toBe(false);
    }
  });

  test('a function carrying the brand is not one (only objects are)', () => {
    const branded = Object.assign(() => undefined, { [Symbol.for('registry-guard.ValidationError')]: true });
    expect(Errors.isValidationError(branded)).toBe(false);
  });

  test('a Proxy whose has-trap throws does not make the check throw', () => {
    const hostile = new Proxy(
      {},
      {
        has: () => {
          throw new Error('boom');
        },
      },
    );
    expect(() => Errors.isValidationError(hostile)).not.toThrow();
    expect(Errors.isValidationError(hostile)).toBe(false);
  });

  test('the brand is not enumerable, so it does not leak into JSON or spread copies', () => {
    const stack = new Stack(new App(), 'S');
    const error = new RegistryGuardValidationError('PublicAccessGuard', stack, 'x');
    expect(Errors.isValidationError({ ...error })).toBe(false);
    expect(JSON.stringify(error)).not.toContain('registry-guard');
  });
});
