/**
 * The guard's fast path: an EventBridge rule on CloudTrail's record of S3 API calls that can open or unmark
 * a bucket, invoking the guard within seconds instead of at the next Config evaluation.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GUARDED_API_CALLS } from '../guard-facts';

/**
 * Creates the rule (construct id `ApiCallRule`). It matches only calls that succeeded (CloudTrail events
 * without `errorCode`): a refused call changed nothing, and a burst of refused calls must not become a burst
 * of invocations. Events that cannot be delivered go to the guard's dead-letter queue.
 *
 * @example
 * const apiCallRule = renderApiCallRule(this, guardFunction, deadLetterQueue);
 */
export function renderApiCallRule(
  guard: Construct,
  guardFunction: lambda.IFunction,
  deadLetterQueue: sqs.IQueue,
): events.Rule {
  return new events.Rule(guard, 'ApiCallRule', {
    description: 'registry-guard fast path: successful S3 API calls that can open or unmark a bucket',
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['s3.amazonaws.com'],
        eventName: [...GUARDED_API_CALLS],
        errorCode: events.Match.doesNotExist(),
      },
    },
    targets: [
      new targets.LambdaFunction(guardFunction, {
        deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    ],
  });
}
