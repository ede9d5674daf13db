import * as fs from 'fs';
import * as path from 'path';
import { InvalidEventError } from '../../lib/remediation/errors';
import { parseGuardEvent } from '../../lib/remediation/events';
import {
  cloudTrailAccountEvent,
  cloudTrailBucketEvent,
  configChangeEvent,
  FakeAccount,
  oversizedEvent,
  scheduledEvent,
} from './support';

function withInvoking(
  event: Record<string, unknown>,
  change: (invoking: Record<string, unknown>) => void,
): Record<string, unknown> {
  const invoking = JSON.parse(event.invokingEvent as string) as Record<string, unknown>;
  change(invoking);
  return { ...event, invokingEvent: JSON.stringify(invoking) };
}

function without(event: Record<string, unknown>, field: string): Record<string, unknown> {
  const copy = { ...event };
  delete copy[field];
  return copy;
}

describe('parseGuardEvent', () => {
  test('ConfigurationItemChangeNotification → the bucket, its region, the capture time and the token', () => {
    expect(parseGuardEvent(configChangeEvent('electoral-roll'))).toEqual({
      kind: 'config-change',
      messageType: 'ConfigurationItemChangeNotification',
      bucket: 'electoral-roll',
      region: 'us-east-1',
      accountId: '123456789012',
      configRuleName: 'registry-guard-public-access',
      resultToken: 'eyJlbmNyeXB0ZWREYXRhIjpbLTEyLDU0LDExMl19',
      orderingTimestamp: new Date('2026-11-25T02:40:11.123Z'),
      notApplicableReason: undefined,
    });
  });

  test('OversizedConfigurationItemChangeNotification → read from configurationItemSummary', () => {
    expect(parseGuardEvent(oversizedEvent('electoral-roll'))).toMatchObject({
      kind: 'config-change',
      messageType: 'OversizedConfigurationItemChangeNotification',
      bucket: 'electoral-roll',
      orderingTimestamp: new Date('2026-11-25T02:41:05.870Z'),
    });
  });

  test('ScheduledNotification with ruleParameters "" → ordered by notificationCreationTime', () => {
    expect(parseGuardEvent(scheduledEvent())).toMatchObject({
      kind: 'config-scheduled',
      orderingTimestamp: new Date('2026-11-25T03:00:00.000Z'),
    });
  });

  test('ruleParameters may be absent', () => {
    expect(parseGuardEvent(without(scheduledEvent(), 'ruleParameters')).kind).toBe('config-scheduled');
  });

  test('the account falls back to the configuration item’s awsAccountId', () => {
    expect(parseGuardEvent(configChangeEvent('roll-copy', { accountId: null })).accountId).toBe(
      '123456789012',
    );
  });

  test('CloudTrail bucket event → bucket, caller, account, region', () => {
    expect(parseGuardEvent(cloudTrailBucketEvent('PutBucketAcl', 'electoral-roll'))).toEqual({
      kind: 'bucket-api-call',
      eventName: 'PutBucketAcl',
      bucket: 'electoral-roll',
      accountId: '123456789012',
      region: 'us-east-1',
      callerArn: 'arn:aws:sts::123456789012:assumed-role/DataEngineer/alice',
      eventTime: '2026-11-25T02:49:00Z',
    });
  });

  test('CloudTrail account event → account and caller', () => {
    expect(parseGuardEvent(cloudTrailAccountEvent('PutAccountPublicAccessBlock'))).toMatchObject({
      kind: 'account-api-call',
      eventName: 'PutAccountPublicAccessBlock',
      accountId: '123456789012',
      callerArn: 'arn:aws:iam::123456789012:user/bob',
    });
  });
});

const MALFORMED: [string, unknown, RegExp][] = [
  ['null', null, /the event is null/],
  ['undefined', undefined, /the event is missing or not an object/],
  ['a number', 42, /the event is missing or not an object/],
  ['an array', [], /the event is an array/],
  [
    'an empty object',
    {},
    /neither invokingEvent \(AWS Config\), detail-type \(EventBridge\) nor RequestType \(CloudFormation\)/,
  ],
  [
    'invokingEvent not JSON',
    { ...scheduledEvent(), invokingEvent: '{"messageType":' },
    /invokingEvent is not JSON/,
  ],
  [
    'invokingEvent an object, not the JSON text Config sends',
    { ...scheduledEvent(), invokingEvent: { messageType: 'ScheduledNotification' } },
    /invokingEvent is not a string/,
  ],
  ['no resultToken', without(scheduledEvent(), 'resultToken'), /resultToken is missing or empty/],
  [
    'ruleParameters not JSON',
    { ...scheduledEvent(), ruleParameters: 'mode=strict' },
    /ruleParameters is not JSON/,
  ],
  [
    'an unknown messageType',
    withInvoking(scheduledEvent(), (invoking) => {
      invoking.messageType = 'ComplianceChangeNotification';
    }),
    /messageType "ComplianceChangeNotification" is not/,
  ],
  [
    'no notificationCreationTime',
    withInvoking(scheduledEvent(), (invoking) => {
      delete invoking.notificationCreationTime;
    }),
    /notificationCreationTime is missing/,
  ],
  [
    'a configuration item that is not a bucket',
    withInvoking(configChangeEvent('roll'), (invoking) => {
      (invoking.configurationItem as Record<string, unknown>).resourceType = 'AWS::S3::AccessPoint';
    }),
    /resourceType is "AWS::S3::AccessPoint", not AWS::S3::Bucket/,
  ],
  [
    'no configurationItem',
    withInvoking(configChangeEvent('roll'), (invoking) => {
      delete invoking.configurationItem;
    }),
    /invokingEvent.configurationItem is missing/,
  ],
  [
    'a capture time that is not a time',
    withInvoking(configChangeEvent('roll'), (invoking) => {
      (invoking.configurationItem as Record<string, unknown>).configurationItemCaptureTime = 'yesterday';
    }),
    /configurationItemCaptureTime "yesterday" is not a time/,
  ],
  [
    'eventLeftScope not a boolean',
    { ...configChangeEvent('roll'), eventLeftScope: 'false' },
    /eventLeftScope/,
  ],
  [
    'an account id that is not one',
    { ...scheduledEvent(), accountId: 'me' },
    /accountId "me" is not a 12-digit/,
  ],
  [
    'another detail-type',
    { ...cloudTrailBucketEvent('PutBucketPolicy', 'roll'), 'detail-type': 'Object Created' },
    /detail-type "Object Created" is not "AWS API Call via CloudTrail"/,
  ],
  [
    'another source',
    { ...cloudTrailBucketEvent('PutBucketPolicy', 'roll'), source: 'aws.ec2' },
    /source "aws.ec2" is not aws.s3/,
  ],
  [
    'an unknown eventName',
    cloudTrailBucketEvent('GetObject', 'roll'),
    /detail.eventName "GetObject" is not one of/,
  ],
  [
    'no bucketName',
    cloudTrailBucketEvent('PutBucketPolicy', undefined as unknown as string),
    /detail.requestParameters.bucketName is missing/,
  ],
  [
    'a bucket name with a slash',
    cloudTrailBucketEvent('PutBucketPolicy', 'roll/../other'),
    /"roll\/..\/other" is not a bucket name/,
  ],
  ['no account', without(cloudTrailBucketEvent('PutBucketPolicy', 'roll'), 'account'), /account is missing/],
  ['no detail', without(cloudTrailBucketEvent('PutBucketPolicy', 'roll'), 'detail'), /detail is missing/],
];

describe('malformed events are rejected before any AWS call', () => {
  test.each(MALFORMED)('%s', async (_case, event, problem) => {
    const account = new FakeAccount();
    account.addBucket('roll', {
      policy: '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}',
    });
    const run = account.handler()(event);
    await expect(run).rejects.toBeInstanceOf(InvalidEventError);
    await expect(run).rejects.toThrow(problem);
    expect(account.totalCalls()).toBe(0);
    expect(account.logger.errors()).toHaveLength(1);
    expect(account.logger.errors()[0]).toMatch(/^InvalidEventError: Event rejected: .*dead-letter queue/);
  });

  test('the log keeps a preview of the rejected event', async () => {
    const account = new FakeAccount();
    await expect(account.handler()({ surprise: true })).rejects.toBeInstanceOf(InvalidEventError);
    expect(account.logger.entries[0].attributes).toEqual({ event: '{"surprise":true}' });
  });
});

describe('S3 Control access point events: the name from the path parameter or the resources', () => {
  const FIXTURE = path.join(
    __dirname,
    '..',
    'fixtures',
    'remediation',
    'cloudtrail-put-access-point-policy.json',
  );
  const accessPointEvent = (
    change: (detail: { requestParameters: Record<string, unknown>; resources: unknown }) => void,
  ): Record<string, unknown> => {
    const event = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
    change(event.detail as { requestParameters: Record<string, unknown>; resources: unknown });
    return event;
  };

  test('requestParameters.name, as recorded for the path parameter', () => {
    expect(parseGuardEvent(accessPointEvent(() => undefined))).toMatchObject({
      kind: 'access-point-api-call',
      eventName: 'PutAccessPointPolicy',
      accessPoint: 'roll-analytics',
    });
  });

  test('without it, the one AWS::S3::AccessPoint among the resources', () => {
    const event = accessPointEvent((detail) => {
      delete detail.requestParameters.name;
    });
    expect(parseGuardEvent(event)).toMatchObject({ accessPoint: 'roll-analytics' });
  });

  test.each([
    ['no name and no resources', (detail: { resources: unknown }) => (detail.resources = undefined)],
    [
      'no name and two access points among the resources',
      (detail: { resources: unknown }) =>
        (detail.resources = [
          { type: 'AWS::S3::AccessPoint', ARN: 'arn:aws:s3:us-east-1:123456789012:accesspoint/a' },
          { type: 'AWS::S3::AccessPoint', ARN: 'arn:aws:s3:us-east-1:123456789012:accesspoint/b' },
        ]),
    ],
    [
      'no name and an access point of another account among the resources',
      (detail: { resources: unknown }) =>
        (detail.resources = [
          {
            type: 'AWS::S3::AccessPoint',
            ARN: 'arn:aws:s3:us-east-1:999988887777:accesspoint/roll-analytics',
          },
        ]),
    ],
  ])('%s: refused, loudly', (_case, change) => {
    const event = accessPointEvent((detail) => {
      delete detail.requestParameters.name;
      change(detail);
    });
    expect(() => parseGuardEvent(event)).toThrow(InvalidEventError);
  });
});
