import * as http from 'http';
import * as net from 'net';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import type { RetryErrorInfo, RetryErrorType, RetryToken } from '@smithy/types';
import {
  GUARD_RETRY_DEFAULTS,
  GuardRetryStrategy,
  guardRetrySettings,
  retryKindOf,
} from '../../lib/remediation/retry-strategy';

/** An error as the SDK's retry middleware hands it over; the SDK's type wants fields a test does not need. */
function sdkError(error: Error): RetryErrorInfo['error'] {
  return error as unknown as RetryErrorInfo['error'];
}

/** A failed attempt as the retry middleware reports it: the code as `name`, the HTTP status in `$metadata`. */
function failure(
  code: string,
  status: number,
  errorType: RetryErrorType,
  retryAfterHint?: Date,
): RetryErrorInfo {
  const error = Object.assign(new Error(code), { name: code, $metadata: { httpStatusCode: status } });
  return { error: sdkError(error), errorType, retryAfterHint };
}

const SLOW_DOWN = failure('SlowDown', 503, 'TRANSIENT');
const THROTTLING = failure('Throttling', 400, 'THROTTLING');
const INTERNAL_ERROR = failure('InternalError', 500, 'TRANSIENT');
const ACCESS_DENIED = failure('AccessDenied', 403, 'CLIENT_ERROR');

/** Retries one request through `errors` in turn; the waits it was given, or where it was refused. */
async function retryThrough(
  strategy: GuardRetryStrategy,
  errors: readonly RetryErrorInfo[],
): Promise<{ delays: number[]; refusedAt?: number; token: RetryToken }> {
  let token = await strategy.acquireInitialRetryToken('');
  const delays: number[] = [];
  for (const [index, error] of errors.entries()) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, error);
    } catch {
      return { delays, refusedAt: index + 1, token };
    }
    delays.push(token.getRetryDelay());
  }
  return { delays, token };
}

function repeat<T>(item: T, times: number): T[] {
  return Array.from({ length: times }, () => item);
}

describe('GuardRetryStrategy', () => {
  describe('each request has its own attempt budget', () => {
    test('a throttled request makes up to 10 attempts, then fails', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 0 });
      const { delays, refusedAt } = await retryThrough(strategy, repeat(SLOW_DOWN, 12));
      expect(delays).toHaveLength(GUARD_RETRY_DEFAULTS.throttlingAttempts - 1);
      expect(refusedAt).toBe(10);
      expect(strategy.stats()).toMatchObject({
        requests: 1,
        attempts: 10,
        throttlingRetries: 9,
        exhausted: 1,
      });
    });

    test('every throttling code and status counts as throttling: SlowDown, Throttling, ThrottlingException, TooManyRequestsException, RequestLimitExceeded, 429, 503', () => {
      for (const code of [
        'SlowDown',
        'Throttling',
        'ThrottlingException',
        'TooManyRequestsException',
        'RequestLimitExceeded',
      ]) {
        expect(retryKindOf(failure(code, 400, 'CLIENT_ERROR'))).toBe('throttling');
      }
      expect(retryKindOf(failure('ServiceUnavailable', 503, 'TRANSIENT'))).toBe('throttling');
      expect(retryKindOf(failure('Unknown', 429, 'CLIENT_ERROR'))).toBe('throttling');
    });

    test('a server error or broken connection is retried 3 times (4 attempts)', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 0 });
      const reset: RetryErrorInfo = {
        error: sdkError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
        errorType: 'TRANSIENT',
      };
      expect((await retryThrough(strategy, repeat(INTERNAL_ERROR, 6))).refusedAt).toBe(4);
      expect((await retryThrough(strategy, repeat(reset, 6))).refusedAt).toBe(4);
    });

    test('throttling before a server error does not use up the server error’s attempts, and the overall cap still holds', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 0 });
      const mixed = [...repeat(SLOW_DOWN, 5), INTERNAL_ERROR, INTERNAL_ERROR, INTERNAL_ERROR, INTERNAL_ERROR];
      expect((await retryThrough(strategy, mixed)).refusedAt).toBe(9);
      expect(
        (await retryThrough(strategy, [...repeat(SLOW_DOWN, 8), INTERNAL_ERROR, INTERNAL_ERROR])).refusedAt,
      ).toBe(10);
    });

    test('other client errors are never retried: AccessDenied, NoSuchBucket, an aborted request', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 0 });
      const aborted: RetryErrorInfo = {
        error: sdkError(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        errorType: 'CLIENT_ERROR',
      };
      for (const error of [ACCESS_DENIED, failure('NoSuchBucket', 404, 'CLIENT_ERROR'), aborted]) {
        expect((await retryThrough(strategy, [error])).refusedAt).toBe(1);
      }
      expect(strategy.stats()).toMatchObject({
        attempts: 3,
        throttlingRetries: 0,
        transientRetries: 0,
        exhausted: 0,
      });
    });

    test('a timeout error code is retried as transient', () => {
      expect(retryKindOf(failure('RequestTimeout', 400, 'CLIENT_ERROR'))).toBe('transient');
      expect(retryKindOf(ACCESS_DENIED)).toBe('none');
    });
  });

  describe('full-jitter exponential backoff with a cap', () => {
    test('with the largest jitter, throttling waits double from 500 ms and stop at the 5 s cap', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 1, maxTotalDelayMs: Number.MAX_SAFE_INTEGER });
      const { delays } = await retryThrough(strategy, repeat(THROTTLING, 9));
      expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000]);
    });

    test('with the largest jitter, server-error waits double from 100 ms', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 1 });
      expect((await retryThrough(strategy, repeat(INTERNAL_ERROR, 3))).delays).toEqual([100, 200, 400]);
    });

    test('with no jitter, no wait; in between, the share of the ceiling the jitter draws', async () => {
      expect(
        (await retryThrough(new GuardRetryStrategy({ random: () => 0 }), repeat(SLOW_DOWN, 3))).delays,
      ).toEqual([0, 0, 0]);
      const draws = [0.5, 0.25, 0.75, 0.1];
      const strategy = new GuardRetryStrategy({ random: () => draws.shift() ?? 0 });
      expect((await retryThrough(strategy, repeat(SLOW_DOWN, 4))).delays).toEqual([250, 250, 1500, 400]);
    });

    test('every wait lies in [0, min(5 s, 500 ms × 2^retry)] whatever the random source returns', async () => {
      const draws = [-3, 0.999_999, Number.NaN, 7, 0.3, Number.POSITIVE_INFINITY, 0.6, 0.9, 0.2];
      const strategy = new GuardRetryStrategy({
        random: () => draws.shift() ?? 0,
        maxTotalDelayMs: Number.MAX_SAFE_INTEGER,
      });
      const { delays } = await retryThrough(strategy, repeat(SLOW_DOWN, 9));
      delays.forEach((delay, retry) => {
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(5_000, 500 * 2 ** retry));
      });
    });

    test('a request stops retrying once its next wait would take it past 20 s in all', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 1 });
      const { delays, refusedAt } = await retryThrough(strategy, repeat(SLOW_DOWN, 10));
      // 500 + 1,000 + 2,000 + 4,000 + 5,000 + 5,000 = 17,500 ms; the next 5 s would make 22,500.
      expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
      expect(refusedAt).toBe(7);
    });

    test('a Retry-After hint is honoured up to the cap', async () => {
      const now = 1_000_000;
      const strategy = new GuardRetryStrategy({ random: () => 0, now: () => now });
      const hinted = (ms: number): RetryErrorInfo =>
        failure('SlowDown', 503, 'THROTTLING', new Date(now + ms));
      expect((await retryThrough(strategy, [hinted(2_500)])).delays).toEqual([2_500]);
      expect((await retryThrough(strategy, [hinted(60_000)])).delays).toEqual([5_000]);
    });
  });

  describe('throttles of other requests cannot starve a request', () => {
    test('1,000 requests throttled 9 times each at once: the next request still gets all its throttling and transient retries', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 0 });
      const results = await Promise.all(
        Array.from({ length: 1_000 }, () => retryThrough(strategy, repeat(SLOW_DOWN, 9))),
      );
      expect(results.every((result) => result.refusedAt === undefined && result.delays.length === 9)).toBe(
        true,
      );
      expect(strategy.transientBudgetLeft()).toBe(GUARD_RETRY_DEFAULTS.transientBudget);
      expect((await retryThrough(strategy, repeat(SLOW_DOWN, 9))).refusedAt).toBeUndefined();
      expect((await retryThrough(strategy, repeat(INTERNAL_ERROR, 3))).refusedAt).toBeUndefined();
    });

    test('the shared budget limits only transient retries: 200 of them empty it, throttling retries go on, successes refill it', async () => {
      const strategy = new GuardRetryStrategy({ random: () => 0 });
      const outage = await Promise.all(
        Array.from({ length: 100 }, () => retryThrough(strategy, [INTERNAL_ERROR, INTERNAL_ERROR])),
      );
      expect(outage.every((result) => result.refusedAt === undefined)).toBe(true);
      expect(strategy.transientBudgetLeft()).toBe(0);

      expect((await retryThrough(strategy, [INTERNAL_ERROR])).refusedAt).toBe(1);
      expect(strategy.stats().refusedByBudget).toBe(1);
      expect((await retryThrough(strategy, repeat(THROTTLING, 9))).refusedAt).toBeUndefined();

      // A request that succeeded after its transient retries gives back what it took.
      strategy.recordSuccess(outage[0].token);
      expect(strategy.transientBudgetLeft()).toBe(10);
      strategy.recordSuccess(await strategy.acquireInitialRetryToken(''));
      expect(strategy.transientBudgetLeft()).toBe(11);
    });

    test('clients do not share a strategy: each guardRetrySettings call makes a new one', () => {
      expect(guardRetrySettings('s3').retryStrategy).not.toBe(guardRetrySettings('s3').retryStrategy);
      expect(guardRetrySettings('sns').retryStrategy.service).toBe('sns');
    });
  });

  test('refuses settings that would make it retry nothing or wait a negative time', () => {
    expect(() => new GuardRetryStrategy({ throttlingAttempts: 0 })).toThrow(/at least 1/);
    expect(() => new GuardRetryStrategy({ baseDelayMs: -1 })).toThrow(/baseDelayMs/);
  });

  describe('in a real S3 client', () => {
    let server: http.Server;
    let endpoint: string;
    /** Answers queued per request; once empty, an empty policy. */
    const answers: { status: number; code: string }[] = [];
    const attemptHeaders: string[] = [];

    beforeAll(async () => {
      server = http.createServer((request, response) => {
        attemptHeaders.push(String(request.headers['amz-sdk-request'] ?? ''));
        request.resume();
        const answer = answers.shift();
        if (answer === undefined) {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"Version":"2012-10-17","Statement":[]}');
          return;
        }
        response.writeHead(answer.status, { 'content-type': 'application/xml' });
        response.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>${answer.code}</Message></Error>`,
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    });

    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    beforeEach(() => {
      answers.length = 0;
      attemptHeaders.length = 0;
    });

    function client(extra: { maxAttempts?: number } = {}): S3Client {
      return new S3Client({
        ...guardRetrySettings('s3', { random: () => 0 }),
        ...extra,
        endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      });
    }

    test('six SlowDowns then success: the read succeeds on its 7th attempt, though maxAttempts says 2', async () => {
      answers.push(...repeat({ status: 503, code: 'SlowDown' }, 6));
      const output = await client({ maxAttempts: 2 }).send(new GetBucketPolicyCommand({ Bucket: 'roll' }));
      expect(output.$metadata.attempts).toBe(7);
      expect(attemptHeaders).toHaveLength(7);
    });

    test('the attempt header names the strategy’s own maximum', async () => {
      answers.push({ status: 503, code: 'SlowDown' });
      await client().send(new GetBucketPolicyCommand({ Bucket: 'roll' }));
      expect(attemptHeaders).toEqual(['attempt=1; max=10', 'attempt=2; max=10']);
    });

    test('AccessDenied is answered after one attempt; persistent SlowDown after ten', async () => {
      answers.push({ status: 403, code: 'AccessDenied' });
      await expect(client().send(new GetBucketPolicyCommand({ Bucket: 'roll' }))).rejects.toMatchObject({
        name: 'AccessDenied',
        $metadata: { attempts: 1 },
      });
      answers.length = 0;
      answers.push(...repeat({ status: 503, code: 'SlowDown' }, 20));
      await expect(client().send(new GetBucketPolicyCommand({ Bucket: 'roll' }))).rejects.toMatchObject({
        name: 'SlowDown',
        $metadata: { attempts: 10 },
      });
    });
  });
});
