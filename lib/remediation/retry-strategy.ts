/**
 * How the guard's AWS clients retry. A sweep is many small independent reads; when S3 answers some of them
 * `SlowDown`, each read must wait and try again on its own, and a bucket is "could not verify" only when its
 * own read ran out of attempts.
 *
 * The SDK's modes do not give that. `standard` and `adaptive` share one retry quota per client (500 tokens,
 * 5 per throttled retry, 14 per other retry): a burst of throttling across a sweep's reads empties it, and
 * from then on every failed call fails at its first attempt, whatever its own history. `adaptive` adds a
 * client-wide rate limiter that cuts the sending rate on every throttle and, under sustained random
 * throttling, settles at 1-2 requests a second for the whole client. Measured on a 300-bucket sweep with 30%
 * of reads throttled (issue 15): 945 s, 168 buckets unverifiable, 15 of 16 failed calls made a single attempt.
 *
 * Here, instead: every request has its own attempt budget and its own waiting-time budget; throttling waits
 * with full-jitter exponential backoff (which is what lowers the rate: the sweep's concurrency is bounded,
 * so every waiting read is one fewer in flight); and the only shared budget limits retries of server errors
 * and network failures, the case where retrying everything would pile onto a service that is down. A
 * throttle never spends it, so throttles of other requests cannot starve a request of its retries.
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/** What an error calls for: wait and retry (throttling, or transient), or fail now. */
export type RetryKind = 'throttling' | 'transient' | 'none';

/**
 * Error codes that mean "too fast, slow down": S3's SlowDown, the JSON and Query protocols' throttling
 * codes, EC2's. Besides these, any 429 or 503 answer counts as throttling.
 */
export const THROTTLING_ERROR_CODES: ReadonlySet<string> = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'BandwidthLimitExceeded',
  'PriorRequestNotComplete',
]);

/** Client errors that are timeouts in disguise; everything else in 4xx is final. */
const TIMEOUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** The defaults of {@link GuardRetryOptions}, with why. */
export const GUARD_RETRY_DEFAULTS = {
  /**
   * Ten attempts: with 30% of reads throttled at random, a read runs out of them about once in 100,000
   * (0.3^10, plus the few that reach maxTotalDelayMs first); at 5%, never in practice.
   */
  throttlingAttempts: 10,
  /** A server error or a broken connection that three retries do not mend is an outage, not a blip. */
  transientAttempts: 4,
  /** After a server error or a broken connection, the first retry within 100 ms: a blip is over soon. */
  baseDelayMs: 100,
  /**
   * After throttling, the first retry within 500 ms (the SDK's `THROTTLING_RETRY_DELAY_BASE`), doubling:
   * the "exponential backoff with full jitter" AWS documents for SlowDown. Full jitter spreads the retries
   * of reads throttled together, so they do not come back together.
   */
  throttlingBaseDelayMs: 500,
  /**
   * No single wait longer than 5 s. With a 10 s cap the last three waits alone would average 15 s and the
   * 20 s a request may wait would cut its attempts to seven or eight; with 5 s, all ten fit in 16 s on
   * average. Simulated at 30% SlowDown: 10 reads in a million run out of retries (105 with a 10 s cap).
   */
  maxDelayMs: 5_000,
  /**
   * A request waits at most 20 s in all, so one bucket cannot eat the 30 s a sweep keeps back for its last
   * evaluations and notices.
   */
  maxTotalDelayMs: 20_000,
  /**
   * Shared by all requests of a client, for server errors and network failures only: 1,000 tokens at 5 a
   * retry (10 after a timeout) is 200 retries before an outage stops being retried, and every success
   * earns a token back. Large, so a sweep's scattered 500s never exhaust it.
   */
  transientBudget: 1_000,
} as const;

/** Tokens a transient retry takes from the shared budget; a timeout costs double, as in the SDK. */
const TRANSIENT_RETRY_COST = 5;
const TIMEOUT_RETRY_COST = 10;
/** What a request that succeeded at its first attempt gives back to the shared budget. */
const SUCCESS_REFUND = 1;

/** How a guard client retries. Every field has a default in {@link GUARD_RETRY_DEFAULTS}. */
export interface GuardRetryOptions {
  /** Attempts a request may make in all (the first included) while it is being throttled. */
  readonly throttlingAttempts?: number;
  /** Attempts a request may make for server errors and network failures (the first included). */
  readonly transientAttempts?: number;
  /** Ceiling of the first retry's wait after a server error or network failure; it doubles with every retry. */
  readonly baseDelayMs?: number;
  /** Ceiling of the first retry's wait after throttling; it doubles with every retry. */
  readonly throttlingBaseDelayMs?: number;
  /** Ceiling of any one wait. */
  readonly maxDelayMs?: number;
  /** The most a request waits in all: a retry that would take it past this is not made. */
  readonly maxTotalDelayMs?: number;
  /** Tokens shared by the client's transient retries (never by throttling retries). */
  readonly transientBudget?: number;
  /** A number in [0, 1): the jitter. Tests pass a fixed sequence. @default Math.random */
  readonly random?: () => number;
  /** The clock, for Retry-After hints. @default Date.now */
  readonly now?: () => number;
  /** The client's service, named in what the strategy reports. @default 'aws' */
  readonly service?: string;
}

/** What a client's strategy did, since it was created: for logs and benchmarks. */
export interface RetryStats {
  /** Requests started (first attempts). */
  readonly requests: number;
  /** Attempts of every request, first attempts included. */
  readonly attempts: number;
  readonly throttlingRetries: number;
  readonly transientRetries: number;
  /** Requests that failed with a retryable error after their own attempts or waiting time ran out. */
  readonly exhausted: number;
  /** Transient retries refused because the shared budget was empty. */
  readonly refusedByBudget: number;
  /** Milliseconds of backoff handed out, summed over requests (they overlap in time). */
  readonly delayMs: number;
}

/**
 * One request's retry state: how many retries it made, of which transient, how long it has waited. A new
 * token per retry, so nothing is shared between requests.
 */
class GuardRetryToken implements RetryToken {
  constructor(
    readonly retries: number,
    readonly transientRetries: number,
    readonly delayMs: number,
    readonly waitedMs: number,
    /** Shared-budget tokens this request holds; given back when it succeeds. */
    readonly budgetHeld: number,
  ) {}

  getRetryCount(): number {
    return this.retries;
  }

  /** The SDK's retry middleware sleeps this long before the next attempt. */
  getRetryDelay(): number {
    return this.delayMs;
  }
}

/**
 * Classifies a failed attempt. Throttling is recognised before anything else: S3's SlowDown is a 503, which
 * the SDK files as a transient server error, and it must not spend the transient budget.
 *
 * @example
 * retryKindOf({ errorType: 'TRANSIENT', error: Object.assign(new Error(), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }) });
 * // 'throttling'
 */
export function retryKindOf(errorInfo: RetryErrorInfo): RetryKind {
  const error = errorInfo.error as
    { name?: unknown; Code?: unknown; $metadata?: { httpStatusCode?: unknown } } | undefined;
  const code =
    typeof error?.Code === 'string' ? error.Code : typeof error?.name === 'string' ? error.name : '';
  const status = typeof error?.$metadata?.httpStatusCode === 'number' ? error.$metadata.httpStatusCode : 0;
  if (
    errorInfo.errorType === 'THROTTLING' ||
    THROTTLING_ERROR_CODES.has(code) ||
    status === 429 ||
    status === 503
  ) {
    return 'throttling';
  }
  if (code === 'AbortError') return 'none';
  if (errorInfo.errorType === 'TRANSIENT' || errorInfo.errorType === 'SERVER_ERROR' || status >= 500) {
    return 'transient';
  }
  return TIMEOUT_ERROR_CODES.has(code) ? 'transient' : 'none';
}

/**
 * The guard's retry strategy for one client (create one per client: the transient budget is the client's).
 * Implements the SDK v3 `RetryStrategyV2`; give it as `retryStrategy` in the client's configuration, where
 * it takes precedence over `retryMode` and `maxAttempts`.
 *
 * @example
 * const s3 = new S3Client({ retryStrategy: new GuardRetryStrategy({ random: () => 0.5 }) });
 */
export class GuardRetryStrategy implements RetryStrategyV2 {
  /** The settings in force, defaults filled in. */
  readonly settings: Required<Omit<GuardRetryOptions, 'random' | 'now' | 'service'>>;
  readonly service: string;
  private readonly random: () => number;
  private readonly now: () => number;
  private transientTokens: number;
  private counters = {
    requests: 0,
    attempts: 0,
    throttlingRetries: 0,
    transientRetries: 0,
    exhausted: 0,
    refusedByBudget: 0,
    delayMs: 0,
  };

  constructor(options: GuardRetryOptions = {}) {
    const settings = {
      throttlingAttempts: options.throttlingAttempts ?? GUARD_RETRY_DEFAULTS.throttlingAttempts,
      transientAttempts: options.transientAttempts ?? GUARD_RETRY_DEFAULTS.transientAttempts,
      baseDelayMs: options.baseDelayMs ?? GUARD_RETRY_DEFAULTS.baseDelayMs,
      throttlingBaseDelayMs: options.throttlingBaseDelayMs ?? GUARD_RETRY_DEFAULTS.throttlingBaseDelayMs,
      maxDelayMs: options.maxDelayMs ?? GUARD_RETRY_DEFAULTS.maxDelayMs,
      maxTotalDelayMs: options.maxTotalDelayMs ?? GUARD_RETRY_DEFAULTS.maxTotalDelayMs,
      transientBudget: options.transientBudget ?? GUARD_RETRY_DEFAULTS.transientBudget,
    };
    for (const [name, value] of Object.entries(settings)) {
      if (!Number.isFinite(value) || value < 0) {
        throw new RangeError(
          `GuardRetryStrategy: ${name} must be a finite number of at least 0, got ${value}`,
        );
      }
    }
    if (settings.throttlingAttempts < 1 || settings.transientAttempts < 1) {
      throw new RangeError('GuardRetryStrategy: throttlingAttempts and transientAttempts must be at least 1');
    }
    this.settings = settings;
    this.service = options.service ?? 'aws';
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.transientTokens = settings.transientBudget;
  }

  async acquireInitialRetryToken(_retryTokenScope: string): Promise<RetryToken> {
    this.counters.requests += 1;
    this.counters.attempts += 1;
    return new GuardRetryToken(0, 0, 0, 0, 0);
  }

  /**
   * Allows one more attempt, with the wait before it in the token, or throws: the SDK then rethrows the
   * request's own error.
   */
  async refreshRetryTokenForRetry(tokenToRenew: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    if (!(tokenToRenew instanceof GuardRetryToken)) {
      throw new Error(`GuardRetryStrategy(${this.service}): the retry token was not issued by this strategy`);
    }
    const token = tokenToRenew;
    const kind = retryKindOf(errorInfo);
    if (kind === 'none') throw new Error(`GuardRetryStrategy(${this.service}): the error is not retryable`);
    const attemptsSoFar = token.retries + 1;
    const transientRetries = token.transientRetries + (kind === 'transient' ? 1 : 0);
    const withinAttempts =
      attemptsSoFar < this.settings.throttlingAttempts &&
      (kind === 'throttling' || transientRetries < this.settings.transientAttempts);
    const base = kind === 'throttling' ? this.settings.throttlingBaseDelayMs : this.settings.baseDelayMs;
    const delayMs = this.backoff(base, token.retries, errorInfo.retryAfterHint);
    if (!withinAttempts || token.waitedMs + delayMs > this.settings.maxTotalDelayMs) {
      this.counters.exhausted += 1;
      throw new Error(`GuardRetryStrategy(${this.service}): gave up after ${attemptsSoFar} attempts`);
    }
    let budgetHeld = token.budgetHeld;
    if (kind === 'transient') {
      const cost = isTimeout(errorInfo) ? TIMEOUT_RETRY_COST : TRANSIENT_RETRY_COST;
      if (this.transientTokens < cost) {
        this.counters.refusedByBudget += 1;
        throw new Error(`GuardRetryStrategy(${this.service}): the transient retry budget is spent`);
      }
      this.transientTokens -= cost;
      budgetHeld += cost;
      this.counters.transientRetries += 1;
    } else {
      this.counters.throttlingRetries += 1;
    }
    this.counters.attempts += 1;
    this.counters.delayMs += delayMs;
    return new GuardRetryToken(
      token.retries + 1,
      transientRetries,
      delayMs,
      token.waitedMs + delayMs,
      budgetHeld,
    );
  }

  recordSuccess(token: RetryToken): void {
    const held = token instanceof GuardRetryToken ? token.budgetHeld : 0;
    this.transientTokens = Math.min(
      this.settings.transientBudget,
      this.transientTokens + (held > 0 ? held : SUCCESS_REFUND),
    );
  }

  /** What the strategy did so far. */
  stats(): RetryStats {
    return { ...this.counters };
  }

  /** Tokens left in the shared transient budget. */
  transientBudgetLeft(): number {
    return this.transientTokens;
  }

  /**
   * Full jitter: a uniform wait in [0, min(cap, base × 2^retries)]. A Retry-After hint is honoured up to the
   * cap: a service that says when to come back knows better than a guess.
   */
  private backoff(baseDelayMs: number, retries: number, retryAfterHint: Date | undefined): number {
    const ceiling = Math.min(this.settings.maxDelayMs, baseDelayMs * 2 ** retries);
    const jittered = Math.floor(clampUnit(this.random()) * ceiling);
    // The SDK turns a Retry-After beyond what a Date holds (`99999999999999999999`, `x-amz-retry-after:
    // Infinity`) into an Invalid Date: a NaN wait would be no wait at all and would lift the total cap.
    const untilHint = retryAfterHint instanceof Date ? retryAfterHint.getTime() - this.now() : Number.NaN;
    if (!Number.isFinite(untilHint)) return jittered;
    return Math.max(jittered, Math.min(this.settings.maxDelayMs, untilHint));
  }
}

/** The AWS clients the guard creates; each gets its own strategy, so one service's trouble stays its own. */
export type GuardService = 's3' | 's3-control' | 'config' | 'sns' | 'sts' | 'sqs' | 'securityhub';

/**
 * A new strategy for one client.
 *
 * @example
 * const strategy = createGuardRetryStrategy({ baseDelayMs: 100 });
 */
export function createGuardRetryStrategy(options: GuardRetryOptions = {}): GuardRetryStrategy {
  return new GuardRetryStrategy(options);
}

/**
 * What to spread into one client's configuration. `maxAttempts` only fills the `amz-sdk-request` header
 * (`attempt=2; max=10`); the strategy alone decides, so a `maxAttempts` set elsewhere changes nothing.
 * Call it once per client: clients must not share a strategy.
 *
 * @example
 * const s3 = new S3Client({ ...guardRetrySettings('s3'), followRegionRedirects: true });
 */
export function guardRetrySettings(
  service: GuardService,
  options: Omit<GuardRetryOptions, 'service'> = {},
): { readonly retryStrategy: GuardRetryStrategy; readonly maxAttempts: number } {
  const retryStrategy = createGuardRetryStrategy({ ...options, service });
  return { retryStrategy, maxAttempts: retryStrategy.settings.throttlingAttempts };
}

function isTimeout(errorInfo: RetryErrorInfo): boolean {
  const error = errorInfo.error as { name?: unknown } | undefined;
  return typeof error?.name === 'string' && TIMEOUT_ERROR_CODES.has(error.name);
}

/** A random source outside [0, 1) must not make a wait negative or beyond its ceiling. */
function clampUnit(value: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
}
