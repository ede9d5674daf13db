/**
 * The function's configuration, read from its environment on every invocation (it is cheap, and an
 * operator who flips GUARD_MODE in an emergency should not wait for a new container).
 */

/** `remediate` changes buckets; `report` only judges, evaluates and notifies. */
export type GuardMode = 'remediate' | 'report';

/** What the environment asks the guard to do. */
export interface GuardSettings {
  readonly mode: GuardMode;
  /** Set when GUARD_MODE held a value the guard does not know; the guard then runs in report mode. */
  readonly modeWarning?: string;
  /** Bucket for evidence objects and the remediation history. Without it nothing is rewritten. */
  readonly evidenceBucket?: string;
  /** SNS topic for on-call notices. Without it notices are only logged. */
  readonly notifyTopicArn?: string;
  /** The function's region (AWS_REGION): the region swept, and named in notices when the event does not say. */
  readonly region?: string;
}

/** Environment variables the guard reads. */
export type GuardEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Reads GUARD_MODE (default `remediate`), EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN and AWS_REGION.
 * An unknown GUARD_MODE means report mode: a typo must never let the guard change buckets its operator
 * meant it only to watch.
 *
 * @example
 * readGuardSettings({ GUARD_MODE: 'Report', AWS_REGION: 'eu-west-1' }).mode; // 'report'
 * readGuardSettings({ GUARD_MODE: 'fix' }).modeWarning; // 'GUARD_MODE "fix" is not remediate or report: ...'
 */
export function readGuardSettings(env: GuardEnvironment): GuardSettings {
  const rawMode = (env.GUARD_MODE ?? '').trim();
  const normalised = rawMode.toLowerCase();
  const known = normalised === '' || normalised === 'remediate' || normalised === 'report';
  return {
    mode: normalised === '' || normalised === 'remediate' ? 'remediate' : 'report',
    modeWarning: known
      ? undefined
      : `GUARD_MODE "${rawMode}" is not remediate or report: running in report mode, nothing is changed`,
    evidenceBucket: nonEmpty(env.EVIDENCE_BUCKET),
    notifyTopicArn: nonEmpty(env.NOTIFY_TOPIC_ARN),
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
