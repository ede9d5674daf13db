/**
 * Validation of {@link PublicAccessGuardProps}: invalid props and combinations fail in the constructor,
 * before any resource exists, naming the prop and what to do instead.
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RegistryGuardValidationError } from '../errors';
import { DEFAULT_MAX_EXEMPTION_DAYS, GuardMode } from '../guard-facts';
import type { PublicAccessGuardProps } from '../public-access-guard';

/** Reserved concurrency of the guard's function unless `reservedConcurrentExecutions` says otherwise. */
export const DEFAULT_RESERVED_CONCURRENCY = 10;
/** Concurrent sweep invocations unless `sweepConcurrency` says otherwise (or the reserved concurrency is lower). */
export const DEFAULT_SWEEP_CONCURRENCY = 5;
/** The limits SQS event sources put on maximum concurrency. */
const MIN_SWEEP_CONCURRENCY = 2;
const MAX_SWEEP_CONCURRENCY = 1000;
/** Remediations within an hour that fire the storm alarm, unless `remediationAlarmThreshold` says otherwise. */
export const DEFAULT_REMEDIATION_ALARM_THRESHOLD = 5;
/** Beyond this a storm alarm would never fire in practice: a typo, not a choice. */
const MAX_REMEDIATION_ALARM_THRESHOLD = 10_000;
/** The incident window unless `incidentWindow` says otherwise. */
export const DEFAULT_INCIDENT_WINDOW = Duration.minutes(15);
const MIN_INCIDENT_WINDOW_SECONDS = 60;
const MAX_INCIDENT_WINDOW_SECONDS = 24 * 60 * 60;
/** The handler refuses (and replaces with the default) anything above this; refuse it here first. */
const MAX_EXEMPTION_DAYS_LIMIT = 3650;
/** S3's general purpose bucket naming rules: 3 to 63 lowercase letters, digits, dots and hyphens. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Throws when the props of the guard at `guard` cannot work, with a message that starts with the guard's
 * path and says what to do instead. Values that are tokens are left to deployment.
 *
 * @example
 * validateGuardProps(this, props, props.mode ?? GuardMode.REMEDIATE);
 */
export function validateGuardProps(guard: Construct, props: PublicAccessGuardProps, mode: GuardMode): void {
  const fail = (message: string): never => {
    throw new RegistryGuardValidationError('PublicAccessGuard', guard, message);
  };
  if (mode !== 'remediate' && mode !== 'report') {
    fail(`mode must be 'remediate' or 'report', not '${String(mode)}'.`);
  }
  if (props.enforceAccountBlockPublicAccess === true && mode !== 'remediate') {
    fail(
      "enforceAccountBlockPublicAccess needs mode 'remediate': in report mode the guard changes nothing. Instead, leave enforceAccountBlockPublicAccess off while reporting.",
    );
  }
  const concurrency = props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY;
  // A token is a large negative number to JavaScript: it would read as "not positive".
  if (!Token.isUnresolved(concurrency) && (!Number.isInteger(concurrency) || concurrency < 1)) {
    fail(`reservedConcurrentExecutions must be a positive integer, not ${String(concurrency)}.`);
  }
  validateSweepConcurrency(props, fail);
  const threshold = props.remediationAlarmThreshold ?? DEFAULT_REMEDIATION_ALARM_THRESHOLD;
  if (
    !Token.isUnresolved(threshold) &&
    (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_REMEDIATION_ALARM_THRESHOLD)
  ) {
    fail(
      `remediationAlarmThreshold must be a whole number from 1 to ${MAX_REMEDIATION_ALARM_THRESHOLD}, not ${String(threshold)}.`,
    );
  }
  const maxExemptionDays = props.maxExemptionDays ?? DEFAULT_MAX_EXEMPTION_DAYS;
  if (
    !Token.isUnresolved(maxExemptionDays) &&
    (!Number.isInteger(maxExemptionDays) ||
      maxExemptionDays < 1 ||
      maxExemptionDays > MAX_EXEMPTION_DAYS_LIMIT)
  ) {
    fail(
      `maxExemptionDays must be a whole number from 1 to ${MAX_EXEMPTION_DAYS_LIMIT}, not ${String(maxExemptionDays)}.`,
    );
  }
  if (
    props.trustedOrganizationId !== undefined &&
    !Token.isUnresolved(props.trustedOrganizationId) &&
    !/^o-[a-z0-9]{10,32}$/.test(props.trustedOrganizationId)
  ) {
    fail(
      `trustedOrganizationId: '${props.trustedOrganizationId}' is not an organization id (o- and 10 to 32 lowercase letters or digits).`,
    );
  }
  for (const id of props.trustedAccountIds ?? []) {
    if (!Token.isUnresolved(id) && !/^\d{12}$/.test(id)) {
      fail(`trustedAccountIds: '${id}' is not a 12-digit account id.`);
    }
  }
  for (const name of props.releasedRegistryBuckets ?? []) {
    if (!Token.isUnresolved(name) && (!BUCKET_NAME.test(name) || name.includes('..'))) {
      fail(
        `releasedRegistryBuckets: '${name}' is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens, no commas). List bucket names, not ARNs.`,
      );
    }
  }
  const window = props.incidentWindow;
  if (window !== undefined && !window.isUnresolved()) {
    const seconds = window.toSeconds({ integral: false });
    if (
      !Number.isInteger(seconds) ||
      seconds < MIN_INCIDENT_WINDOW_SECONDS ||
      seconds > MAX_INCIDENT_WINDOW_SECONDS
    ) {
      fail(`incidentWindow must be whole seconds from 1 minute to 24 hours, not ${window.toHumanString()}.`);
    }
  }
  if (props.evidenceBucket !== undefined) {
    if (props.evidenceObjectLock !== undefined) {
      fail(
        'evidenceObjectLock applies only to the evidence bucket the guard creates. Instead, give the supplied evidenceBucket its objectLock where you create it.',
      );
    }
    if (Stack.of(props.evidenceBucket) !== Stack.of(guard)) {
      fail(
        "evidenceBucket must be in the guard's stack: its bucket policy names the guard's role, and the guard names the bucket, so two stacks would depend on each other. Instead, create it in the guard's stack or omit evidenceBucket.",
      );
    }
  }
}

/**
 * The sweep queue's maximum concurrency: `sweepConcurrency`, or by default 5 and at most one less than the
 * reserved concurrency, so the fast path keeps an invocation free.
 *
 * @example
 * renderSweepConsumer(this, { guardFunction, role, sweepQueue, maxConcurrency: sweepConcurrencyOf(props) });
 */
export function sweepConcurrencyOf(props: PublicAccessGuardProps): number {
  if (props.sweepConcurrency !== undefined) return props.sweepConcurrency;
  const reserved = props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY;
  return Token.isUnresolved(reserved)
    ? DEFAULT_SWEEP_CONCURRENCY
    : Math.min(DEFAULT_SWEEP_CONCURRENCY, reserved - 1);
}

function validateSweepConcurrency(props: PublicAccessGuardProps, fail: (message: string) => never): void {
  const sweep = sweepConcurrencyOf(props);
  const reserved = props.reservedConcurrentExecutions ?? DEFAULT_RESERVED_CONCURRENCY;
  if (Token.isUnresolved(sweep)) return;
  if (!Number.isInteger(sweep) || sweep < MIN_SWEEP_CONCURRENCY || sweep > MAX_SWEEP_CONCURRENCY) {
    if (props.sweepConcurrency === undefined) {
      fail(
        `reservedConcurrentExecutions ${reserved} leaves no room for the sweep (sweepConcurrency): its queue needs at least ${MIN_SWEEP_CONCURRENCY} concurrent invocations (the least an SQS event source takes) and the fast path one more. Instead, set reservedConcurrentExecutions to ${MIN_SWEEP_CONCURRENCY + 1} or more.`,
      );
    }
    fail(
      `sweepConcurrency must be a whole number from ${MIN_SWEEP_CONCURRENCY} to ${MAX_SWEEP_CONCURRENCY} (the limits of an SQS event source), not ${String(sweep)}.`,
    );
  }
  if (!Token.isUnresolved(reserved) && sweep >= reserved) {
    fail(
      `sweepConcurrency (${sweep}) must be lower than reservedConcurrentExecutions (${reserved}): sweep batches would take every invocation the function has, and the fast path would wait behind them. Instead, lower sweepConcurrency or raise reservedConcurrentExecutions.`,
    );
  }
}
