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
import {
  GROUP_GRANTEE_MARK,
  GUARDED_API_CALLS,
  OBJECT_ACL_EVENT_NAMES,
  OBJECT_GRANT_HEADERS,
  PUBLIC_CANNED_ACLS,
} from '../guard-facts';

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

/**
 * Creates the rules on CloudTrail data events that can make one object public (construct ids
 * `ObjectAclRule` and `PublicObjectUploadRule`): every successful PutObjectAcl (a grant list can be public
 * too), and uploads only with a public canned ACL or an `x-amz-grant-*` header naming a group, so ordinary
 * uploads never invoke the guard. CloudTrail delivers these only for buckets a trail's data event selector
 * names (docs/runbook.md, section 18).
 *
 * @example
 * renderObjectAclRules(this, guardFunction, deadLetterQueue);
 */
export function renderObjectAclRules(
  guard: Construct,
  guardFunction: lambda.IFunction,
  deadLetterQueue: sqs.IQueue,
): events.Rule[] {
  const uploads = OBJECT_ACL_EVENT_NAMES.filter((name) => name !== 'PutObjectAcl');
  const rule = (id: string, description: string, detail: Record<string, unknown>): events.Rule =>
    new events.Rule(guard, id, {
      description,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['s3.amazonaws.com'], errorCode: events.Match.doesNotExist(), ...detail },
      },
      targets: [
        new targets.LambdaFunction(guardFunction, {
          deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
  return [
    rule('ObjectAclRule', 'registry-guard: successful object ACL changes (CloudTrail data events)', {
      eventName: ['PutObjectAcl'],
    }),
    rule(
      'PublicObjectUploadRule',
      'registry-guard: uploads with a public canned ACL or a grant to a group (CloudTrail data events)',
      {
        eventName: [...uploads],
        // One branch per header: EventBridge invokes once for an upload that matches several.
        $or: [
          { requestParameters: { 'x-amz-acl': [...PUBLIC_CANNED_ACLS] } },
          ...OBJECT_GRANT_HEADERS.map((header) => ({
            requestParameters: { [header]: events.Match.wildcard(`*${GROUP_GRANTEE_MARK}*`) },
          })),
        ],
      },
    ),
  ];
}
