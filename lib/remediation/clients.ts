/**
 * The AWS clients a container uses, each created once, when an event first needs it. Endpoints are never
 * hard-coded: SDK v3 honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, which is how tests point it at
 * moto.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { GuardDependencies } from './handler';
import { guardRetrySettings } from './retry-strategy';
import { configServiceSdk, securityHubSdk, snsSdk, sqsSdk, stsSdk } from './sdk/on-demand';

/**
 * Production dependencies: real clients, each with its own throttle-aware retry strategy
 * ({@link guardRetrySettings}: every request its own attempts and jittered backoff, so sustained SlowDown
 * slows a sweep down instead of exhausting a shared quota), a Powertools logger
 * (service `registry-guard`), the real clock and environment. Each client is a getter that builds it on
 * first use and returns the same one after, so a container never builds a client its events do not use
 * (STS, in Lambda; Config, for CloudTrail events; SNS, until something needs saying; SQS, until a sweep
 * hands out work; Security Hub, until a finding goes out) nor loads the SDK of Config, SNS, SQS, STS or
 * Security Hub for it (see sdk/on-demand.ts).
 *
 * @example
 * const handler = createHandler(defaultDeps());
 */
export function defaultDeps(): GuardDependencies {
  // A sweep may meet buckets whose region differs from the client's: follow S3's redirect.
  const s3 = once(() => new S3Client({ ...guardRetrySettings('s3'), followRegionRedirects: true }));
  const s3Control = once(() => new S3ControlClient(guardRetrySettings('s3-control')));
  const config = once(() => new (configServiceSdk().ConfigServiceClient)(guardRetrySettings('config')));
  const sns = once(() => new (snsSdk().SNSClient)(guardRetrySettings('sns')));
  const sts = once(() => new (stsSdk().STSClient)(guardRetrySettings('sts')));
  const sqs = once(() => new (sqsSdk().SQSClient)(guardRetrySettings('sqs')));
  const securityHub = once(() => new (securityHubSdk().SecurityHubClient)(guardRetrySettings('securityhub')));
  return {
    get s3() {
      return s3();
    },
    get s3Control() {
      return s3Control();
    },
    get config() {
      return config();
    },
    get sns() {
      return sns();
    },
    get sts() {
      return sts();
    },
    get sqs() {
      return sqs();
    },
    get securityHub() {
      return securityHub();
    },
    logger: new Logger({ serviceName: 'registry-guard' }),
  };
}

function once<T>(create: () => T): () => T {
  let created: T | undefined;
  return () => (created ??= create());
}
