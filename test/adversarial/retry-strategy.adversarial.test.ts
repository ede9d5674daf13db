import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import type { RetryErrorInfo, RetryToken } from '@smithy/types';
import { GuardRetryStrategy, guardRetrySettings, retryKindOf } from '../../lib/remediation/retry-strategy';
import { scriptedHandler, TEST_CLIENT } from '../support/scripted-http';

const SLOW_DOWN_XML =
  '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
const INTERNAL_XML =
  '<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>';
const POLICY_OK = {
  statusCode: 200,
  body: '{"Statement":[]}',
  headers: { 'content-type': 'application/json' },
};

function info(error: unknown, errorType: RetryErrorInfo['errorType'], retryAfterHint?: Date): RetryErrorInfo {
  return { error: error as RetryErrorInfo['error'], errorType, retryAfterHint };
}

const slowDown = (hint?: Date) =>
  info(
    Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }),
    'THROTTLING',
    hint,
  );

/** Retries one request through `errors`; every wait it was given. */
async function waitsThrough(strategy: GuardRetryStrategy, errors: RetryErrorInfo[]): Promise<number[]> {
  let token: RetryToken = await strategy.acquireInitialRetryToken('');
  const waits: number[] = [];
  for (const error of errors) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, error);
    } catch {
      break;
    }
    waits.push(token.getRetryDelay());
  }
  return waits;
}

describe('GuardRetryStrategy under odd Retry-After hints', () => {
  test('an unparseable (Invalid Date) Retry-After hint never yields a NaN wait nor lifts the 20 s total cap', async () => {
    const strategy = new GuardRetryStrategy({ random: () => 1 });
    const waits = await waitsThrough(strategy, [
      slowDown(new Date(Number.NaN)),
      ...Array(12).fill(slowDown()),
    ]);
    for (const wait of waits) expect(Number.isFinite(wait)).toBe(true);
    expect(waits.reduce((sum, wait) => sum + wait, 0)).toBeLessThanOrEqual(20_000);
  });

  test('a Retry-After too large for a Date (S3Client, real middleware): the wait is finite and the total stays counted', async () => {
    const http = scriptedHandler([
      { statusCode: 503, body: SLOW_DOWN_XML, headers: { 'retry-after': '99999999999999999999' } },
      POLICY_OK,
    ]);
    const s3 = new S3Client({
      ...TEST_CLIENT,
      ...guardRetrySettings('s3', { random: () => 0 }),
      requestHandler: http,
    });
    // The SDK turns that header into an Invalid Date; the hint must be ignored, not make the wait NaN.
    const output = await s3.send(new GetBucketPolicyCommand({ Bucket: 'electoral-roll' }));
    expect(output.$metadata.attempts).toBe(2);
    expect(Number.isFinite(output.$metadata.totalRetryDelay)).toBe(true);
  });

  test('x-amz-retry-after: Infinity is ignored too', async () => {
    const http = scriptedHandler([
      { statusCode: 503, body: SLOW_DOWN_XML, headers: { 'x-amz-retry-after': 'Infinity' } },
      POLICY_OK,
    ]);
    const s3 = new S3Client({
      ...TEST_CLIENT,
      ...guardRetrySettings('s3', { random: () => 0 }),
      requestHandler: http,
    });
    const output = await s3.send(new GetBucketPolicyCommand({ Bucket: 'electoral-roll' }));
    expect(Number.isFinite(output.$metadata.totalRetryDelay)).toBe(true);
  });

  test('a huge, negative or past Retry-After never makes a wait above the 5 s cap or below 0', async () => {
    let clock = 1_000_000;
    const strategy = new GuardRetryStrategy({ random: () => 0.5, now: () => clock, maxTotalDelayMs: 1e12 });
    const hints = [new Date(8.64e15), new Date(0), new Date(clock - 10_000), new Date(clock + 3_000)];
    const waits = await waitsThrough(
      strategy,
      hints.map((hint) => slowDown(hint)),
    );
    expect(waits).toHaveLength(4);
    for (const wait of waits) {
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(5_000);
    }
    // The clock going backwards makes a hint look further away: still capped.
    clock = -1e15;
    const backwards = await waitsThrough(strategy, [slowDown(new Date(1_000_000))]);
    expect(backwards[0]).toBeLessThanOrEqual(5_000);
  });

  test('errors of odd shapes: no $metadata, non-string name, null, a string: classified, never thrown on', () => {
    const shapes: unknown[] = [
      undefined,
      null,
      'SlowDown',
      42,
      { name: 123, $metadata: null },
      { name: { toString: () => 'SlowDown' } },
      { $metadata: { httpStatusCode: '503' } },
      Object.create(null),
    ];
    for (const shape of shapes) {
      expect(['throttling', 'transient', 'none']).toContain(retryKindOf(info(shape, 'CLIENT_ERROR')));
    }
    expect(retryKindOf(info({ name: 123 }, 'CLIENT_ERROR'))).toBe('none');
    expect(retryKindOf(info(undefined, 'TRANSIENT'))).toBe('transient');
  });

  test('a random source returning 1 or NaN keeps every wait within its ceiling, and the request ends', async () => {
    for (const draw of [1, Number.NaN, 1.5, -0]) {
      const strategy = new GuardRetryStrategy({ random: () => draw });
      const waits = await waitsThrough(strategy, Array(50).fill(slowDown()));
      expect(waits.length).toBeLessThanOrEqual(9);
      for (const wait of waits) expect(wait).toBeLessThanOrEqual(5_000);
      expect(waits.reduce((sum, wait) => sum + wait, 0)).toBeLessThanOrEqual(20_000);
    }
  });
});

describe('the shared budget against the SDK (real S3Client, scripted wire)', () => {
  test('a request that keeps getting 500 drains the budget; a throttled request still makes all its attempts after', async () => {
    const strategy = new GuardRetryStrategy({ random: () => 0, transientBudget: 15 });
    const failing = new S3Client({
      ...TEST_CLIENT,
      retryStrategy: strategy,
      maxAttempts: 10,
      requestHandler: scriptedHandler([{ statusCode: 500, body: INTERNAL_XML }]),
    });
    await expect(failing.send(new GetBucketPolicyCommand({ Bucket: 'a' }))).rejects.toMatchObject({
      name: 'InternalError',
      $metadata: { attempts: 4 },
    });
    expect(strategy.transientBudgetLeft()).toBe(0);
    const throttledHttp = scriptedHandler([
      ...Array(9).fill({ statusCode: 503, body: SLOW_DOWN_XML }),
      POLICY_OK,
    ]);
    const throttled = new S3Client({
      ...TEST_CLIENT,
      retryStrategy: strategy,
      maxAttempts: 10,
      requestHandler: throttledHttp,
    });
    const output = await throttled.send(new GetBucketPolicyCommand({ Bucket: 'b' }));
    expect(output.$metadata.attempts).toBe(10);
    // And another 500 now fails at its first attempt: the budget is the client's.
    const afterHttp = scriptedHandler([{ statusCode: 500, body: INTERNAL_XML }, POLICY_OK]);
    const after = new S3Client({
      ...TEST_CLIENT,
      retryStrategy: strategy,
      maxAttempts: 10,
      requestHandler: afterHttp,
    });
    await expect(after.send(new GetBucketPolicyCommand({ Bucket: 'c' }))).rejects.toMatchObject({
      $metadata: { attempts: 1 },
    });
  });

  test('the SDK calls recordSuccess: a request that retried a 500 and then succeeded gives its tokens back', async () => {
    const strategy = new GuardRetryStrategy({ random: () => 0 });
    const s3 = new S3Client({
      ...TEST_CLIENT,
      retryStrategy: strategy,
      requestHandler: scriptedHandler([
        { statusCode: 500, body: INTERNAL_XML },
        { statusCode: 500, body: INTERNAL_XML },
        POLICY_OK,
      ]),
    });
    const output = await s3.send(new GetBucketPolicyCommand({ Bucket: 'a' }));
    expect(output.$metadata.attempts).toBe(3);
    expect(strategy.transientBudgetLeft()).toBe(1_000);
    expect(strategy.stats()).toMatchObject({ requests: 1, attempts: 3, transientRetries: 2 });
  });

  test('AccessDenied with a 503 status is retried as throttling but still ends within the attempts', async () => {
    const strategy = new GuardRetryStrategy({ random: () => 0 });
    const http = scriptedHandler([
      { statusCode: 503, body: '<Error><Code>AccessDenied</Code><Message>no</Message></Error>' },
    ]);
    const s3 = new S3Client({ ...TEST_CLIENT, retryStrategy: strategy, requestHandler: http });
    await expect(s3.send(new GetBucketPolicyCommand({ Bucket: 'a' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    expect(http.requests).toBe(10);
  });

  test('a 403 AccessDenied is never retried', async () => {
    const http = scriptedHandler([
      { statusCode: 403, body: '<Error><Code>AccessDenied</Code><Message>no</Message></Error>' },
    ]);
    const s3 = new S3Client({ ...TEST_CLIENT, ...guardRetrySettings('s3'), requestHandler: http });
    await expect(s3.send(new GetBucketPolicyCommand({ Bucket: 'a' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
    expect(http.requests).toBe(1);
  });

  test('two refreshes of one token at once (not something the SDK does) each give a bounded wait', async () => {
    const strategy = new GuardRetryStrategy({ random: () => 1 });
    const token = await strategy.acquireInitialRetryToken('');
    const [a, b] = await Promise.all([
      strategy.refreshRetryTokenForRetry(token, slowDown()),
      strategy.refreshRetryTokenForRetry(token, slowDown()),
    ]);
    expect([a.getRetryCount(), b.getRetryCount()]).toEqual([1, 1]);
    expect([a.getRetryDelay(), b.getRetryDelay()]).toEqual([500, 500]);
  });
});
