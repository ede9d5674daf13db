/**
 * The function's configuration, read from its environment on every invocation (it is cheap, and an
 * operator who flips GUARD_MODE in an emergency should not wait for a new container).
 */
import { DEFAULT_MAX_EXEMPTION_DAYS, GUARD_ENVIRONMENT, GuardMode } from '../guard-facts';

export type { GuardMode } from '../guard-facts';

/** Events for one bucket and one observed state within this many seconds are one incident, by default. */
export const DEFAULT_INCIDENT_WINDOW_SECONDS = 15 * 60;

/** What the environment asks the guard to do. */
export interface GuardSettings {
  readonly mode: GuardMode;
  /** Set when GUARD_MODE held a value the guard does not know; the guard then runs in report mode. */
  readonly modeWarning?: string;
  /** Bucket for evidence objects, the remediation history and the guard's own records. */
  readonly evidenceBucket?: string;
  /** SNS topic for on-call notices. Without it notices are only logged. */
  readonly notifyTopicArn?: string;
  /** The function's region (AWS_REGION): the region swept, and the only region whose events it acts on. */
  readonly region?: string;
  /** The longest an exemption may run from the day it is seen. */
  readonly maxExemptionDays: number;
  /** Buckets a human released from registry status through the deployment. */
  readonly releasedRegistries: ReadonlySet<string>;
  /** Events for one bucket and one observed state within this many milliseconds are one incident. */
  readonly incidentWindowMs: number;
  /**
   * The sweep queue (SWEEP_QUEUE_URL): a sweep hands its pages and batches to it, and the function consumes
   * only records from it. Undefined: a sweep judges every bucket in the invocation Config started.
   */
  readonly sweepQueueUrl?: string;
  /** The organization a registry's zone of trust holds besides the account (GUARD_TRUSTED_ORGANIZATION_ID). */
  readonly trustedOrganizationId?: string;
  /** Accounts a registry's zone of trust holds besides the guard's own (GUARD_TRUSTED_ACCOUNT_IDS). */
  readonly trustedAccountIds: readonly string[];
  /** Remediations, failed ones and unverifiable buckets become Security Hub findings (SECURITY_HUB_FINDINGS). */
  readonly securityHubFindings: boolean;
  /** Problems with the settings themselves, each logged as a warning; the guard falls back to a safe default. */
  readonly warnings: readonly string[];
}

/** Environment variables the guard reads. */
export type GuardEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Reads GUARD_MODE (default `remediate`), EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN, AWS_REGION, MAX_EXEMPTION_DAYS,
 * RELEASED_REGISTRY_BUCKETS, INCIDENT_WINDOW_SECONDS, SWEEP_QUEUE_URL and SECURITY_HUB_FINDINGS. An unknown
 * GUARD_MODE means report mode: a typo must never let the guard change buckets its operator meant it only to
 * watch. An unreadable number falls back to its default, never to "unlimited".
 *
 * @example
 * readGuardSettings({ GUARD_MODE: 'Report', AWS_REGION: 'eu-west-1' }).mode; // 'report'
 * readGuardSettings({ GUARD_MODE: 'fix' }).modeWarning; // 'GUARD_MODE "fix" is not remediate or report: ...'
 */
export function readGuardSettings(env: GuardEnvironment): GuardSettings {
  const rawMode = (env[GUARD_ENVIRONMENT.mode] ?? '').trim();
  const normalised = rawMode.toLowerCase();
  const known = normalised === '' || normalised === 'remediate' || normalised === 'report';
  const warnings: string[] = [];
  const maxExemptionDays = positiveInteger(
    env[GUARD_ENVIRONMENT.maxExemptionDays],
    GUARD_ENVIRONMENT.maxExemptionDays,
    DEFAULT_MAX_EXEMPTION_DAYS,
    3650,
    warnings,
  );
  const incidentWindowSeconds = positiveInteger(
    env[GUARD_ENVIRONMENT.incidentWindowSeconds],
    GUARD_ENVIRONMENT.incidentWindowSeconds,
    DEFAULT_INCIDENT_WINDOW_SECONDS,
    24 * 60 * 60,
    warnings,
  );
  return {
    mode: normalised === '' || normalised === 'remediate' ? GuardMode.REMEDIATE : GuardMode.REPORT,
    modeWarning: known
      ? undefined
      : `GUARD_MODE "${rawMode}" is not remediate or report: running in report mode, nothing is changed`,
    evidenceBucket: nonEmpty(env[GUARD_ENVIRONMENT.evidenceBucket]),
    notifyTopicArn: nonEmpty(env[GUARD_ENVIRONMENT.notifyTopicArn]),
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION),
    maxExemptionDays,
    releasedRegistries: new Set(
      (env[GUARD_ENVIRONMENT.releasedRegistries] ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    ),
    incidentWindowMs: incidentWindowSeconds * 1000,
    sweepQueueUrl: sweepQueueUrl(env[GUARD_ENVIRONMENT.sweepQueueUrl], warnings),
    trustedOrganizationId: trustedOrganizationId(env[GUARD_ENVIRONMENT.trustedOrganizationId], warnings),
    trustedAccountIds: trustedAccountIds(env[GUARD_ENVIRONMENT.trustedAccountIds], warnings),
    securityHubFindings: flag(
      env[GUARD_ENVIRONMENT.securityHubFindings],
      GUARD_ENVIRONMENT.securityHubFindings,
      warnings,
    ),
    warnings,
  };
}

function positiveInteger(
  value: string | undefined,
  name: string,
  fallback: number,
  max: number,
  warnings: string[],
): number {
  const text = nonEmpty(value);
  if (text === undefined) return fallback;
  const number = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isInteger(number) && number >= 1 && number <= max) return number;
  warnings.push(`${name} "${text}" is not a whole number from 1 to ${max}: using ${fallback}`);
  return fallback;
}

/** A queue URL whose path names the account and queue; anything else is a warning and no queue. */
function sweepQueueUrl(value: string | undefined, warnings: string[]): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined) return undefined;
  if (/^https?:\/\/[^/]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?\/?$/.test(text)) return text;
  warnings.push(
    `${GUARD_ENVIRONMENT.sweepQueueUrl} "${text}" is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>): sweeping in one invocation`,
  );
  return undefined;
}

/** A malformed id is left out: the zone then is narrower, which pages more, never less. */
function trustedOrganizationId(value: string | undefined, warnings: string[]): string | undefined {
  const text = nonEmpty(value);
  if (text === undefined || /^o-[a-z0-9]{10,32}$/.test(text)) return text;
  warnings.push(
    `${GUARD_ENVIRONMENT.trustedOrganizationId} "${text}" is not an organization id (o-...): registries are judged against the account alone`,
  );
  return undefined;
}

function trustedAccountIds(value: string | undefined, warnings: string[]): string[] {
  const ids = (value ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const malformed = ids.filter((id) => !/^\d{12}$/.test(id));
  if (malformed.length > 0) {
    warnings.push(
      `${GUARD_ENVIRONMENT.trustedAccountIds} holds ${malformed.map((id) => `"${id}"`).join(', ')}, not 12-digit account ids: left out of the zone of trust`,
    );
  }
  return ids.filter((id) => /^\d{12}$/.test(id));
}

/** `true` or `false` (any case); anything else is a warning and off: the construct writes only these two. */
function flag(value: string | undefined, name: string, warnings: string[]): boolean {
  const text = nonEmpty(value)?.toLowerCase();
  if (text === undefined || text === 'false') return false;
  if (text === 'true') return true;
  warnings.push(`${name} "${nonEmpty(value)}" is not true or false: treated as false`);
  return false;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}
