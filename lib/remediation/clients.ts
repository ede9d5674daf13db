/**
 * The AWS clients a container uses, created once. Endpoints are never hard-coded: SDK v3 honours
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which is how tests point it at moto.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { GuardDependencies } from './handler';

/**
 * Adaptive retries slow the client down when AWS throttles it, rather than failing a sweep; five attempts
 * ride out a burst without holding a bucket's verdict for long.
 */
export const CLIENT_RETRY_SETTINGS = { retryMode: 'adaptive', maxAttempts: 5 } as const;

/**
 * Production dependencies: real clients with {@link CLIENT_RETRY_SETTINGS}, a Powertools logger
 * (service `registry-guard`), the real clock and environment.
 *
 * @example
 * const handler = createHandler(defaultDeps());
 */
export function defaultDeps(): GuardDependencies {
  return {
    // A sweep may meet buckets whose region differs from the client's: follow S3's redirect.
    s3: new S3Client({ ...CLIENT_RETRY_SETTINGS, followRegionRedirects: true }),
    s3Control: new S3ControlClient(CLIENT_RETRY_SETTINGS),
    config: new ConfigServiceClient(CLIENT_RETRY_SETTINGS),
    sns: new SNSClient(CLIENT_RETRY_SETTINGS),
    sts: new STSClient(CLIENT_RETRY_SETTINGS),
    logger: new Logger({ serviceName: 'registry-guard' }),
  };
}
