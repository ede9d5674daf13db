/**
 * An SDK v3 HTTP handler that answers from a script instead of the network, for tests of what the SDK's
 * own middleware (retries, error parsing) does with a given answer.
 */
import { Readable } from 'stream';

/** One scripted answer. */
export interface ScriptedResponse {
  readonly statusCode: number;
  readonly body: string;
  /** @default content-type application/xml */
  readonly headers?: Record<string, string>;
}

/** Test credentials and Region for a client built with a scripted handler. */
export const TEST_CLIENT = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
};

/**
 * Answers one response per request, in order (the last one repeats), and counts the requests.
 *
 * @example
 * const http = scriptedHandler([{ statusCode: 503, body: SLOW_DOWN }, { statusCode: 200, body: '' }]);
 * const s3 = new S3Client({ ...TEST_CLIENT, requestHandler: http });
 */
export function scriptedHandler(responses: readonly ScriptedResponse[]) {
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
