import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as config from 'aws-cdk-lib/aws-config';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE } from '../../lib/classification';
import {
  DEFAULT_MAX_EXEMPTION_DAYS,
  GUARD_BUCKET_READ_ACTIONS,
  GUARD_BUCKET_TIGHTEN_ACTIONS,
  GUARD_OBJECT_ACL_READ_ACTIONS,
  GUARD_OBJECT_ACL_TIGHTEN_ACTIONS,
  GUARD_ENVIRONMENT,
  GUARDED_API_CALLS,
  GuardMode,
} from '../../lib/guard-facts';
import { PublicAccessGuard, PublicAccessGuardProps } from '../../lib/public-access-guard';
import { parseGuardEvent } from '../../lib/remediation/events';
import { SensitiveRegistryBucket } from '../../lib/sensitive-registry-bucket';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { cfnLint } from '../support/cfn-lint';
import { validationErrorOf } from '../support/validation-error';

interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** One synthesis shared by the tests that only read the default guard's template. */
function synthesizeGuard(props: PublicAccessGuardProps = {}): { app: App; stack: Stack; template: Template } {
  const app = new App();
  const stack = new Stack(app, 'Guard');
  new PublicAccessGuard(stack, 'Guard', props);
  return { app, stack, template: Template.fromStack(stack) };
}

const getAtt = (logicalId: string): unknown => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });

function handlerStatements(template: Template): PolicyStatement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^GuardHandlerRole') }] },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties
        .PolicyDocument.Statement,
  );
}

describe('PublicAccessGuard', () => {
  const { app, template } = synthesizeGuard();
  const functions = template.findResources('AWS::Lambda::Function');
  const [functionId] = Object.keys(functions);
  const guardFunction = functions[functionId] as { Properties: Record<string, unknown> };

  test('the Lambda: Node.js 22 on arm64, reserved concurrency, a dead-letter queue, no X-Ray by default', () => {
    expect(Object.keys(functions)).toHaveLength(1);
    expect(guardFunction.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      ReservedConcurrentExecutions: 10,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^GuardDeadLetters/), 'Arn'] } },
    });
    expect(guardFunction.Properties.TracingConfig).toBeUndefined();
  });

  test('the Lambda is told its mode, evidence bucket, topic, sweep queue, exemption limit, released registries and incident window', () => {
    expect(guardFunction.Properties.Environment).toEqual({
      Variables: {
        [GUARD_ENVIRONMENT.mode]: 'remediate',
        [GUARD_ENVIRONMENT.evidenceBucket]: { Ref: expect.stringMatching(/^GuardEvidenceBucket/) },
        [GUARD_ENVIRONMENT.notifyTopicArn]: { Ref: expect.stringMatching(/^GuardTopic[0-9A-F]{8}$/) },
        [GUARD_ENVIRONMENT.sweepQueueUrl]: { Ref: expect.stringMatching(/^GuardSweepQueue[0-9A-F]{8}$/) },
        [GUARD_ENVIRONMENT.maxExemptionDays]: String(DEFAULT_MAX_EXEMPTION_DAYS),
        [GUARD_ENVIRONMENT.releasedRegistries]: '',
        [GUARD_ENVIRONMENT.incidentWindowSeconds]: '900',
        POWERTOOLS_SERVICE_NAME: 'registry-guard',
      },
    });
    // The names the handler reads, spelt out once more so a rename in guard-facts is a visible change.
    expect(
      Object.keys((guardFunction.Properties.Environment as { Variables: object }).Variables).sort(),
    ).toEqual(
      [
        'EVIDENCE_BUCKET',
        'GUARD_MODE',
        'INCIDENT_WINDOW_SECONDS',
        'MAX_EXEMPTION_DAYS',
        'NOTIFY_TOPIC_ARN',
        'POWERTOOLS_SERVICE_NAME',
        'RELEASED_REGISTRY_BUCKETS',
        'SWEEP_QUEUE_URL',
      ].sort(),
    );
  });

  test('an AWS Config custom rule on S3 buckets: change-triggered and periodic, marked as the guard', () => {
    template.hasResource('AWS::Config::ConfigRule', {
      Metadata: { 'registry-guard:component': 'PublicAccessGuard' },
      Properties: {
        ConfigRuleName: 'registry-guard-public-access',
        Scope: { ComplianceResourceTypes: ['AWS::S3::Bucket'] },
        Source: {
          Owner: 'CUSTOM_LAMBDA',
          SourceIdentifier: { 'Fn::GetAtt': [functionId, 'Arn'] },
          SourceDetails: [
            { EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' },
            { EventSource: 'aws.config', MessageType: 'OversizedConfigurationItemChangeNotification' },
            {
              EventSource: 'aws.config',
              MessageType: 'ScheduledNotification',
              MaximumExecutionFrequency: 'TwentyFour_Hours',
            },
          ],
        },
      },
    });
  });

  test('only AWS Config of this account may invoke the function for the rule', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [functionId, 'Arn'] },
      Principal: 'config.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  test('an EventBridge rule on every successful guarded CloudTrail API call, targeting the function with a DLQ', () => {
    const [rule] = Object.values(template.findResources('AWS::Events::Rule')) as {
      Properties: { EventPattern: unknown };
    }[];
    // Exactly this pattern: the guarded calls (tagging included), and only calls without an errorCode.
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['s3.amazonaws.com'],
        eventName: [...GUARDED_API_CALLS],
        errorCode: [{ exists: false }],
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardDeadLetters'), 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    expect(GUARDED_API_CALLS).toEqual(
      expect.arrayContaining([
        'PutBucketPolicy',
        'DeleteBucketPublicAccessBlock',
        'PutAccountPublicAccessBlock',
        'PutBucketTagging',
        'DeleteBucketTagging',
        'CreateAccessPoint',
        'PutAccessPointPolicy',
        'DeleteAccessPointPolicy',
        'CreateMultiRegionAccessPoint',
        'PutMultiRegionAccessPointPolicy',
      ]),
    );
  });

  test('the evidence bucket is a SensitiveRegistryBucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      Tags: Match.arrayWith([{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }]),
      PublicAccessBlockConfiguration: Match.objectLike({ RestrictPublicBuckets: true }),
    });
  });

  test('the on-call topic is encrypted with a rotating customer-managed key CloudWatch may use', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  test('the dead-letter queue is encrypted with a key EventBridge may use, TLS-only, and no queue but the sweep queue may redrive to it', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    const [queueId] = Object.keys(queues).filter((id) => id.startsWith('GuardDeadLetters'));
    const queue = queues[queueId] as {
      Properties: { KmsMasterKeyId: { 'Fn::GetAtt': [string, string] }; RedriveAllowPolicy: unknown };
    };
    const sweepQueue = Object.entries(queues).find(([id]) => id.startsWith('GuardSweepQueue'))?.[1] as {
      Properties: { QueueName: { 'Fn::Join': ['', [string, unknown]] } };
    };
    // The sweep queue's ARN, built from the name it is created with: a reference would be a cycle.
    const [namePrefix, stackUuid] = sweepQueue.Properties.QueueName['Fn::Join'][1];
    expect(queue.Properties.RedriveAllowPolicy).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':sqs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              `:${namePrefix}`,
              stackUuid,
            ],
          ],
        },
      ],
    });
    const keyId = queue.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const key = template.toJSON().Resources[keyId] as { Properties: { KeyPolicy: { Statement: unknown[] } } };
    expect(key.Properties.KeyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Sid: 'EventBridgeDeliversDeadLetters',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      }),
    );
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  test('the log group is encrypted with a key CloudWatch Logs may use for this log group only', () => {
    const logGroup = Object.values(template.findResources('AWS::Logs::LogGroup'))[0] as {
      Properties: { KmsKeyId: { 'Fn::GetAtt': [string, string] }; LogGroupName: unknown };
    };
    expect(logGroup.Properties.LogGroupName).toEqual({
      'Fn::Join': [
        '',
        [
          '/registry-guard/',
          { Ref: 'AWS::StackName' },
          '-',
          { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
          '/Guard',
        ],
      ],
    });
    const key = template.toJSON().Resources[logGroup.Properties.KmsKeyId['Fn::GetAtt'][0]] as {
      Properties: { KeyPolicy: { Statement: { Sid?: string; Condition?: unknown }[] } };
    };
    const logsStatement = key.Properties.KeyPolicy.Statement.find(
      (statement) => statement.Sid === 'LogsEncryptsGuardLogGroup',
    );
    expect(JSON.stringify(logsStatement?.Condition)).toContain(':log-group:/registry-guard/');
  });

  test('four alarms (handler errors, dead letters, stuck sweep, remediation storm), each notifying the alarm topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { MetricName: string; Threshold: number; AlarmActions: unknown[] };
    }[];
    expect(alarms.map((alarm) => alarm.Properties.MetricName).sort()).toEqual(
      [
        'ApproximateAgeOfOldestMessage',
        'ApproximateNumberOfMessagesVisible',
        'BucketsRemediated',
        'Errors',
      ].sort(),
    );
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([
        { Ref: expect.stringMatching(/^GuardAlarmTopic[0-9A-F]{8}$/) },
      ]);
    }
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.remediated IS TRUE }',
      MetricTransformations: [
        Match.objectLike({ MetricNamespace: 'RegistryGuard', MetricName: 'BucketsRemediated' }),
      ],
    });
  });

  test('the function writes only to its own log group, kept a year', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    expect(handlerStatements(template)).toContainEqual(
      expect.objectContaining({
        Sid: 'WriteOwnLogs',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^GuardLogs/), 'Arn'] },
      }),
    );
    const role = Object.values(
      template.findResources('AWS::IAM::Role', {
        Properties: { Description: Match.stringLikeRegexp('drift guard') },
      }),
    )[0] as {
      Properties: { ManagedPolicyArns?: unknown };
    };
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('IAM: every statement of the handler role, no "*" action, resource "*" only for APIs that take none', () => {
    const statements = handlerStatements(template);
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions.filter((action) => action.endsWith('*'))).toEqual([]);
    expect(actions.sort()).toEqual(
      [
        'config:PutEvaluations',
        'kms:Decrypt', // the evidence key
        'kms:Decrypt', // the notice topic's key
        'kms:Decrypt', // the queues' key
        'kms:GenerateDataKey', // the evidence key
        'kms:GenerateDataKey', // the notice topic's key
        'kms:GenerateDataKey', // the queues' key
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteAccessPointPolicy', // access points of the account and Region only
        's3:DeleteBucketPolicy',
        's3:DeleteObject',
        's3:GetAccessPoint',
        's3:GetAccessPointPolicy',
        's3:GetAccountPublicAccessBlock',
        's3:GetBucketAcl',
        's3:GetBucketOwnershipControls',
        's3:GetBucketPolicy',
        's3:GetBucketPublicAccessBlock',
        's3:GetBucketTagging',
        's3:GetMultiRegionAccessPoint',
        's3:GetMultiRegionAccessPointPolicy',
        's3:GetObject',
        's3:GetObjectAcl', // object ACLs only, never object data
        's3:GetObjectVersionAcl',
        's3:ListAccessPoints', // the sweep lists them
        's3:ListAllMyBuckets',
        's3:ListMultiRegionAccessPoints', // the sweep lists them (us-west-2)
        's3:ListBucket',
        's3:PutAccessPointPolicy',
        's3:PutAccountPublicAccessBlock',
        's3:PutBucketAcl',
        's3:PutBucketPolicy',
        's3:PutBucketPublicAccessBlock',
        's3:PutObject',
        's3:PutObjectAcl',
        's3:PutObjectVersionAcl',
        'sns:Publish',
        'sqs:DeleteMessage', // the sweep queue, for Lambda's poller
        'sqs:GetQueueAttributes', // the sweep queue, for Lambda's poller
        'sqs:ReceiveMessage', // the sweep queue, for Lambda's poller
        'sqs:SendMessage', // the dead-letter queue, for Lambda's asynchronous invocations
        'sqs:SendMessage', // the sweep queue
      ].sort(),
    );
    const starResources = statements.filter((statement) => statement.Resource === '*');
    // The account's listings, its Block Public Access and PutEvaluations have no resource-level permissions.
    expect(starResources.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(
      [
        'config:PutEvaluations',
        's3:GetAccountPublicAccessBlock',
        's3:ListAccessPoints', // the sweep lists them
        's3:ListAllMyBuckets',
        's3:ListMultiRegionAccessPoints', // the sweep lists them (us-west-2)
        's3:PutAccountPublicAccessBlock',
      ].sort(),
    );
    // Bucket-level actions: every bucket ARN, never an object ARN; the lists are guard-facts' own.
    for (const [sid, bucketActions] of [
      ['ReadBuckets', GUARD_BUCKET_READ_ACTIONS],
      ['TightenBuckets', GUARD_BUCKET_TIGHTEN_ACTIONS],
    ] as const) {
      expect(statements.find((statement) => statement.Sid === sid)).toMatchObject({
        Action: [...bucketActions],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*']] },
      });
    }
    // Object-level: ACLs only, on object ARNs; the only object data action is the guard's own evidence.
    for (const [sid, objectAclActions] of [
      ['ReadObjectAcls', GUARD_OBJECT_ACL_READ_ACTIONS],
      ['TightenObjectAcls', GUARD_OBJECT_ACL_TIGHTEN_ACTIONS],
    ] as const) {
      expect(statements.find((statement) => statement.Sid === sid)).toMatchObject({
        Action: [...objectAclActions],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::*/*']] },
      });
    }
  });

  test('object ACL data events: PutObjectAcl always, uploads only with a public canned ACL or a grant to a group', () => {
    const patterns = Object.values(template.findResources('AWS::Events::Rule')).map(
      (rule) =>
        (rule as { Properties: { EventPattern: { detail: Record<string, unknown> } } }).Properties
          .EventPattern.detail,
    );
    expect(patterns).toContainEqual({
      eventSource: ['s3.amazonaws.com'],
      errorCode: [{ exists: false }],
      eventName: ['PutObjectAcl'],
    });
    expect(patterns).toContainEqual({
      eventSource: ['s3.amazonaws.com'],
      errorCode: [{ exists: false }],
      eventName: ['PutObject', 'CopyObject'],
      // A grant header names a group only with a URI, and every URI has a "/" (no canonical id has one).
      $or: [
        { requestParameters: { 'x-amz-acl': ['public-read', 'public-read-write', 'authenticated-read'] } },
        ...[
          'x-amz-grant-read',
          'x-amz-grant-read-acp',
          'x-amz-grant-write-acp',
          'x-amz-grant-full-control',
          'x-amz-grant-write',
        ].map((header) => ({ requestParameters: { [header]: [{ wildcard: '*/*' }] } })),
      ],
    });
  });

  test('passes RegistryGuardChecks and AwsSolutionsChecks with zero unacknowledged findings', () => {
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });
});

describe('PublicAccessGuard sweep queue: the periodic sweep fans out to the same function', () => {
  const { app, template } = synthesizeGuard();
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const idOf = (prefix: string): string => {
    const ids = Object.keys(resources).filter((id) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id));
    expect(ids).toHaveLength(1);
    return ids[0];
  };
  const sweepQueueId = idOf('GuardSweepQueue');
  const deadLettersId = idOf('GuardDeadLetters');
  const handlerId = idOf('GuardHandler');
  const sweepQueue = resources[sweepQueueId].Properties;

  test('the queue is encrypted with the customer-managed key of the dead-letter queue', () => {
    const keyId = (sweepQueue.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(resources[keyId].Type).toBe('AWS::KMS::Key');
    expect(sweepQueue.KmsMasterKeyId).toEqual(resources[deadLettersId].Properties.KmsMasterKeyId);
    expect(resources[keyId].Properties).toMatchObject({ EnableKeyRotation: true });
  });

  test('the queue refuses requests without TLS', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: sweepQueueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('a batch received three times goes to the dead-letter queue; the queue keeps a batch a day', () => {
    expect(sweepQueue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [deadLettersId, 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(sweepQueue.MessageRetentionPeriod).toBe(24 * 60 * 60);
  });

  test("the visibility timeout is at least six times the function's timeout (AWS's guidance for SQS event sources)", () => {
    const functionTimeout = resources[handlerId].Properties.Timeout as number;
    expect(functionTimeout).toBeGreaterThan(0);
    expect(sweepQueue.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * functionTimeout);
  });

  test('the function consumes the queue one batch an invocation, reports failures per batch, at most 5 at once', () => {
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(1);
    expect((mappings[0] as { Properties: unknown }).Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': [sweepQueueId, 'Arn'] },
      FunctionName: { Ref: handlerId },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    // Below the reserved concurrency: the fast path always finds an invocation free.
    expect(resources[handlerId].Properties.ReservedConcurrentExecutions).toBeGreaterThan(5);
  });

  test("the function is told the queue's URL", () => {
    expect(resources[handlerId].Properties.Environment).toMatchObject({
      Variables: { [GUARD_ENVIRONMENT.sweepQueueUrl]: { Ref: sweepQueueId } },
    });
  });

  test('the role sends to the sweep queue only (and to the dead-letter queue only as Lambda delivers failed invocations)', () => {
    const statements = handlerStatements(template);
    const sqsStatements = statements.filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('sqs:')),
    );
    expect(sqsStatements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'QueueSweepBatches',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: getAtt(sweepQueueId),
        },
        {
          Sid: 'ConsumeSweepBatches',
          Effect: 'Allow',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
          Resource: getAtt(sweepQueueId),
        },
        // CDK's grant for the function's asynchronous dead-letter queue, as before the sweep queue.
        { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt(deadLettersId) },
      ]),
    );
    expect(sqsStatements).toHaveLength(3);
  });

  test('the sweep-stuck alarm fires when a batch waited longer than its retries take, and notifies the alarm topic', () => {
    const visibility = sweepQueue.VisibilityTimeout as number;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [sweepQueueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      // Three receives a visibility timeout apart, then the dead-letter queue: older than that is stuck.
      Threshold: Match.exact(4 * visibility),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^GuardAlarmTopic') }],
    });
    expect(4 * visibility).toBeGreaterThanOrEqual(60 * 60);
  });

  test('two guards of one stack get two queues with different names', () => {
    const twoGuards = new Stack(new App(), 'TwoGuards');
    new PublicAccessGuard(twoGuards, 'First');
    new PublicAccessGuard(twoGuards, 'Second', { configRuleName: 'registry-guard-second' });
    const names = Object.values(Template.fromStack(twoGuards).findResources('AWS::SQS::Queue'))
      .map((queue) => (queue as { Properties: { QueueName?: unknown } }).Properties.QueueName)
      .filter((name) => name !== undefined)
      .map((name) => JSON.stringify(name));
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  test('sweepConcurrency sets the maximum concurrency; the default stays below a low reserved concurrency', () => {
    const concurrencyOf = (props: PublicAccessGuardProps): unknown =>
      (
        Object.values(
          synthesizeGuard(props).template.findResources('AWS::Lambda::EventSourceMapping'),
        )[0] as {
          Properties: { ScalingConfig: { MaximumConcurrency: number } };
        }
      ).Properties.ScalingConfig.MaximumConcurrency;
    expect(concurrencyOf({ sweepConcurrency: 8 })).toBe(8);
    expect(concurrencyOf({ sweepConcurrency: 2 })).toBe(2);
    expect(concurrencyOf({ reservedConcurrentExecutions: 50, sweepConcurrency: 49 })).toBe(49);
    expect(concurrencyOf({ reservedConcurrentExecutions: 4 })).toBe(3);
    expect(concurrencyOf({ reservedConcurrentExecutions: 100 })).toBe(5);
  });

  test.each<[string, PublicAccessGuardProps, RegExp]>([
    [
      'a sweep concurrency equal to the reserved concurrency',
      { sweepConcurrency: 10 },
      /sweepConcurrency \(10\) must be lower than reservedConcurrentExecutions \(10\)/,
    ],
    [
      'a sweep concurrency above the reserved concurrency',
      { reservedConcurrentExecutions: 4, sweepConcurrency: 6 },
      /sweepConcurrency \(6\) must be lower than reservedConcurrentExecutions \(4\)/,
    ],
    [
      'a sweep concurrency of 1',
      { sweepConcurrency: 1 },
      /sweepConcurrency must be a whole number from 2 to 1000/,
    ],
    ['a sweep concurrency of 2.5', { sweepConcurrency: 2.5 }, /sweepConcurrency must be a whole number/],
    [
      'a sweep concurrency above 1000',
      { reservedConcurrentExecutions: 2000, sweepConcurrency: 1001 },
      /sweepConcurrency must be a whole number from 2 to 1000/,
    ],
    [
      'a reserved concurrency that leaves no room for the sweep',
      { reservedConcurrentExecutions: 2 },
      /reservedConcurrentExecutions 2 leaves no room for the sweep \(sweepConcurrency\)/,
    ],
  ])('refuses %s with the kit validation error', (_name, props, message) => {
    expect(() => synthesizeGuard(props)).toThrow(message);
    const error = validationErrorOf(() => synthesizeGuard(props));
    expect(error.constructPath).toBe('Guard/Guard');
    expect(error.message).toMatch(/^PublicAccessGuard Guard\/Guard: /);
  });

  test('report mode sweeps too: the same queue, URL and consumer, with a role that still changes no bucket', () => {
    const report = synthesizeGuard({ mode: GuardMode.REPORT });
    report.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    report.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [GUARD_ENVIRONMENT.mode]: 'report',
          [GUARD_ENVIRONMENT.sweepQueueUrl]: { Ref: Match.stringLikeRegexp('^GuardSweepQueue') },
        }),
      },
    });
    const actions = handlerStatements(report.template).flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']),
    );
    expect(actions.filter((action) => /^s3:(Put|Delete)/.test(action))).toEqual([]);
  });

  test('passes RegistryGuardChecks and AwsSolutionsChecks with zero unacknowledged findings', () => {
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });
});

describe('PublicAccessGuard options', () => {
  test('report mode, a sweep every 6 hours, X-Ray, lower concurrency, another alarm threshold', () => {
    const { template } = synthesizeGuard({
      mode: GuardMode.REPORT,
      sweepFrequency: config.MaximumExecutionFrequency.SIX_HOURS,
      tracing: true,
      reservedConcurrentExecutions: 3,
      remediationAlarmThreshold: 20,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GUARD_MODE: 'report' }) },
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 3,
    });
    // The sweep's default concurrency leaves the fast path one invocation of the three.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    template.hasResourceProperties('AWS::Config::ConfigRule', {
      Source: Match.objectLike({
        SourceDetails: Match.arrayWith([Match.objectLike({ MaximumExecutionFrequency: 'Six_Hours' })]),
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BucketsRemediated',
      Threshold: 20,
    });
  });

  test('a supplied evidence bucket is used and none is created', () => {
    const app = new App();
    const stack = new Stack(app, 'Guard');
    const evidence = new SensitiveRegistryBucket(stack, 'SharedEvidence');
    new PublicAccessGuard(stack, 'Guard', { evidenceBucket: evidence });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 2); // the evidence bucket and its access-log bucket
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EVIDENCE_BUCKET: { Ref: Match.stringLikeRegexp('^SharedEvidenceBucket') },
        }),
      },
    });
  });

  test('opt-in: a configuration recorder for S3 buckets and a delivery channel to an encrypted registry bucket', () => {
    const { app, template } = synthesizeGuard({ createConfigRecorder: true });
    template.hasResourceProperties('AWS::Config::ConfigurationRecorder', {
      RecordingGroup: {
        AllSupported: false,
        IncludeGlobalResourceTypes: false,
        ResourceTypes: ['AWS::S3::Bucket'],
      },
    });
    template.hasResourceProperties('AWS::Config::DeliveryChannel', {
      S3BucketName: { Ref: Match.stringLikeRegexp('^GuardConfigDeliveryBucket') },
      S3KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardConfigDeliveryKey'), 'Arn'] },
    });
    const [ruleId] = Object.keys(template.findResources('AWS::Config::ConfigRule'));
    const recorderId = Object.keys(template.findResources('AWS::Config::ConfigurationRecorder'))[0];
    expect(template.toJSON().Resources[ruleId].DependsOn).toContain(recorderId);
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  test('no configuration recorder unless asked', () => {
    const { template } = synthesizeGuard();
    template.resourceCountIs('AWS::Config::ConfigurationRecorder', 0);
    template.resourceCountIs('AWS::Config::DeliveryChannel', 0);
  });

  test.each<[string, PublicAccessGuardProps, RegExp]>([
    ['an unknown mode', { mode: 'fix' as never }, /mode must be 'remediate' or 'report'/],
    ['a concurrency of zero', { reservedConcurrentExecutions: 0 }, /positive integer/],
  ])('refuses %s', (_name, props, message) => {
    expect(() => synthesizeGuard(props)).toThrow(message);
    expect(validationErrorOf(() => synthesizeGuard(props)).constructPath).toBe('Guard/Guard');
  });

  test('a registry app with the guard in another stack satisfies RegistryGuard-S3DriftGuard', () => {
    const app = new App();
    new SensitiveRegistryBucket(new Stack(app, 'Registries'), 'Roll');
    const guardStack = new Stack(app, 'Guard');
    new PublicAccessGuard(guardStack, 'Guard');
    app.synth();
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
  });

  test('without a guard, the same app gets the RegistryGuard-S3DriftGuard warning', () => {
    const app = new App();
    new SensitiveRegistryBucket(new Stack(app, 'Registries'), 'Roll');
    app.synth();
    const violations = new RegistryGuardChecks().validateScope(app).violations;
    expect(violations.map((violation) => [violation.ruleName, violation.severity])).toEqual([
      ['RegistryGuard-S3DriftGuard', 'warning'],
    ]);
  });

  test('an acknowledgement of the drift-guard warning, with a reason, is honoured', () => {
    const app = new App();
    const stack = new Stack(app, 'Registries');
    new SensitiveRegistryBucket(stack, 'Roll');
    Validations.of(app).acknowledge({
      id: 'RegistryGuard-S3DriftGuard',
      reason: 'The account guard is deployed by the platform team app.',
    });
    app.synth();
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
  });
});

describe('PublicAccessGuard enforceAccountBlockPublicAccess', () => {
  test('off by default: no custom resource, the account setting is left to the fast path', () => {
    const { template } = synthesizeGuard();
    expect(template.findResources(ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE)).toEqual({});
  });

  test('on: a custom resource served by the guard handler itself, created after its evidence bucket', () => {
    const { template } = synthesizeGuard({ enforceAccountBlockPublicAccess: true });
    const resources = template.findResources(ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE);
    const [resource] = Object.values(resources) as {
      Properties: Record<string, unknown>;
      DependsOn: string[];
    }[];
    expect(Object.keys(resources)).toHaveLength(1);
    // Nothing but the service token: the handler reads the account from the stack id, the setting is fixed.
    expect(resource.Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^GuardHandler[0-9A-F]{8}$/), 'Arn'] },
    });
    expect(resource.DependsOn).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GuardEvidenceBucket[0-9A-F]{8}$/),
        expect.stringMatching(/^GuardEvidenceBucketPolicy/),
      ]),
    );
    // No second function and no second role: the handler's own permissions already include the account call.
    template.resourceCountIs('AWS::Lambda::Function', 1);
    const actions = handlerStatements(template).flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['s3:GetAccountPublicAccessBlock', 's3:PutAccountPublicAccessBlock']),
    );
  });

  test('the handler accepts the request CloudFormation builds from the synthesized resource', () => {
    const { template } = synthesizeGuard({ enforceAccountBlockPublicAccess: true });
    const [[logicalId, resource]] = Object.entries(
      template.findResources(ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE),
    ) as [string, { Type: string; Properties: Record<string, unknown> }][];
    const serviceToken = 'arn:aws:lambda:eu-west-1:123456789012:function:Guard';
    const request = {
      RequestType: 'Create',
      ServiceToken: serviceToken,
      ResponseURL:
        'https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=1',
      StackId:
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/Guard/8c4f2a10-ca71-11f0-9d3e-0a1b2c3d4e5f',
      RequestId: '3f6d8a2e-91b4-4c7d-b0e5-7a2c9f1d4e68',
      LogicalResourceId: logicalId,
      ResourceType: resource.Type,
      ResourceProperties: { ...resource.Properties, ServiceToken: serviceToken },
    };
    expect(parseGuardEvent(request)).toEqual(
      expect.objectContaining({ requestType: 'Create', accountId: '123456789012' }),
    );
  });

  test('the handler role carries the tag an organization topic admits publishers by', () => {
    const { template } = synthesizeGuard();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      Tags: [{ Key: 'registry-guard:component', Value: 'PublicAccessGuard' }],
    });
  });

  test('refused in report mode, which changes nothing', () => {
    expect(() => synthesizeGuard({ mode: GuardMode.REPORT, enforceAccountBlockPublicAccess: true })).toThrow(
      /Guard\/Guard: enforceAccountBlockPublicAccess needs mode 'remediate'/,
    );
  });

  test('on: both packs still pass', () => {
    const { app } = synthesizeGuard({ enforceAccountBlockPublicAccess: true });
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });
});

describe('PublicAccessGuard templates pass the real cfn-lint', () => {
  test('default and every option: no cfn-lint error', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-guard-lint-'));
    const app = new App({ outdir });
    new PublicAccessGuard(new Stack(app, 'Default'), 'Guard');
    new PublicAccessGuard(new Stack(app, 'Enforcing'), 'Guard', { enforceAccountBlockPublicAccess: true });
    new PublicAccessGuard(new Stack(app, 'Options'), 'Guard', {
      mode: GuardMode.REPORT,
      createConfigRecorder: true,
      tracing: true,
      sweepFrequency: config.MaximumExecutionFrequency.ONE_HOUR,
      sweepConcurrency: 3,
      configRuleName: 'registry-guard-test',
    });
    const assembly = app.synth();
    const templates = assembly.stacks.map((stack) => path.join(assembly.directory, stack.templateFile));
    expect(cfnLint(templates).errors).toEqual([]);
  });
});
