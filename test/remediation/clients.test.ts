import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { defaultDeps } from '../../lib/remediation/clients';
import { GuardRetryStrategy, guardRetrySettings } from '../../lib/remediation/retry-strategy';
import { createHandler, GuardDependencies } from '../../lib/remediation/handler';
import {
  cloudTrailBucketEvent,
  configChangeEvent,
  EVIDENCE_BUCKET,
  FakeAccount,
  lambdaContext,
  REGION,
  TOPIC_ARN,
} from './support';
import { scriptedHandler, TEST_CLIENT } from '../support/scripted-http';

describe('defaultDeps', () => {
  test('every client has a throttle-aware strategy of its own, never a shared one', async () => {
    const deps = defaultDeps();
    const strategies = [];
    if (deps.sqs === undefined) throw new Error('defaultDeps gives no SQS client');
    for (const client of [deps.s3, deps.s3Control, deps.config, deps.sns, deps.sts, deps.sqs]) {
      const strategy = await client.config.retryStrategy();
      expect(strategy).toBeInstanceOf(GuardRetryStrategy);
      expect(await client.config.maxAttempts()).toBe(10);
      strategies.push(strategy);
    }
    expect(new Set(strategies).size).toBe(strategies.length);
  });

  test('S3 follows region redirects, for buckets outside the function’s region', () => {
    expect(defaultDeps().s3.config.followRegionRedirects).toBe(true);
  });
});

describe('clients are built when an event first needs them, once per container', () => {
  test('defaultDeps builds each client on first use and returns the same one after', () => {
    const deps = defaultDeps();
    expect(deps.config).toBe(deps.config);
    expect(deps.sts).toBe(deps.sts);
    expect(deps.s3).not.toBe(defaultDeps().s3);
  });

  /** The fake account's clients, behind getters that record which the handler asked for. */
  function recordingDeps(account: FakeAccount, used: Set<string>): GuardDependencies {
    const recorded = <T>(name: string, client: T): T => {
      used.add(name);
      return client;
    };
    return {
      get s3() {
        return recorded('s3', account.s3);
      },
      get s3Control() {
        return recorded('s3Control', account.s3Control);
      },
      get config() {
        return recorded('config', account.config);
      },
      get sns() {
        return recorded('sns', account.sns);
      },
      get sts() {
        return recorded('sts', account.sts);
      },
      env: { AWS_REGION: REGION, EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: TOPIC_ARN },
    };
  }

  test('a CloudTrail event for a compliant bucket asks for neither Config, SNS nor STS', async () => {
    const account = new FakeAccount().addBucket('electoral-roll', {});
    const used = new Set<string>();
    const handler = createHandler(recordingDeps(account, used));
    await handler(
      cloudTrailBucketEvent('PutBucketPolicy', 'electoral-roll'),
      lambdaContext(() => 60_000),
    );
    expect([...used].sort()).toEqual(['s3', 's3Control']);
  });

  test('a Config event asks for Config, and for STS only when Lambda gives no function ARN', async () => {
    const account = new FakeAccount().addBucket('electoral-roll', {});
    const inLambda = new Set<string>();
    await createHandler(recordingDeps(account, inLambda))(
      configChangeEvent('electoral-roll'),
      lambdaContext(() => 60_000),
    );
    expect([...inLambda].sort()).toEqual(['config', 's3', 's3Control']);
    const outside = new Set<string>();
    await createHandler(recordingDeps(account, outside))(configChangeEvent('electoral-roll'));
    expect(outside.has('sts')).toBe(true);
  });
});

describe('the SDK retries throttling with these settings (which aws-sdk-client-mock bypasses)', () => {
  test('S3 SlowDown, then success: one call for the guard, two requests on the wire', async () => {
    const http = scriptedHandler([
      {
        statusCode: 503,
        body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      },
      { statusCode: 200, body: '{"Statement":[]}', headers: { 'content-type': 'application/json' } },
    ]);
    const s3 = new S3Client({
      ...TEST_CLIENT,
      ...guardRetrySettings('s3', { random: () => 0 }),
      requestHandler: http,
    });
    const output = await s3.send(new GetBucketPolicyCommand({ Bucket: 'electoral-roll' }));
    expect(output.Policy).toBe('{"Statement":[]}');
    expect(output.$metadata.attempts).toBe(2);
    expect(http.requests).toBe(2);
  });

  test('Config ThrottlingException, then success', async () => {
    const http = scriptedHandler([
      {
        statusCode: 400,
        body: '{"__type":"ThrottlingException","message":"Rate exceeded"}',
        headers: { 'content-type': 'application/x-amz-json-1.1' },
      },
      {
        statusCode: 200,
        body: '{"FailedEvaluations":[]}',
        headers: { 'content-type': 'application/x-amz-json-1.1' },
      },
    ]);
    const config = new ConfigServiceClient({
      ...TEST_CLIENT,
      ...guardRetrySettings('config', { random: () => 0 }),
      requestHandler: http,
    });
    const output = await config.send(new PutEvaluationsCommand({ ResultToken: 'token', Evaluations: [] }));
    expect(output.$metadata.attempts).toBe(2);
  });
});
