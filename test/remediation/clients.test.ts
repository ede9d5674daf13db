import { Readable } from 'stream';
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { GetBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import { CLIENT_RETRY_SETTINGS, defaultDeps } from '../../lib/remediation';

/** An HTTP handler that answers from a script, one response per request, and counts the requests. */
function scriptedHandler(
  responses: { statusCode: number; body: string; headers?: Record<string, string> }[],
) {
  let requests = 0;
  return {
    get requests(): number {
      return requests;
    },
    handle: async () => {
      const next = responses[Math.min(requests, responses.length - 1)];
      requests += 1;
      return {
        response: {
          statusCode: next.statusCode,
          headers: { 'content-type': 'application/xml', ...next.headers },
          body: Readable.from([Buffer.from(next.body)]),
        },
      };
    },
  };
}

const TEST_CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
};

describe('defaultDeps', () => {
  test('every client retries adaptively, up to 5 attempts', async () => {
    const deps = defaultDeps();
    for (const client of [deps.s3, deps.s3Control, deps.config, deps.sns, deps.sts]) {
      expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
      expect(await client.config.maxAttempts()).toBe(5);
    }
  });

  test('S3 follows region redirects, for buckets outside the function’s region', () => {
    expect(defaultDeps().s3.config.followRegionRedirects).toBe(true);
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
    const s3 = new S3Client({ ...TEST_CLIENT, ...CLIENT_RETRY_SETTINGS, requestHandler: http });
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
      ...CLIENT_RETRY_SETTINGS,
      requestHandler: http,
    });
    const output = await config.send(new PutEvaluationsCommand({ ResultToken: 'token', Evaluations: [] }));
    expect(output.$metadata.attempts).toBe(2);
  });
});
