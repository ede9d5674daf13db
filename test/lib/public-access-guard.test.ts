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
  GUARD_ENVIRONMENT,
  GUARDED_API_CALLS,
} from '../../lib/guard-facts';
import { PublicAccessGuard, PublicAccessGuardProps } from '../../lib/public-access-guard';
import { parseGuardEvent } from '../../lib/remediation/events';
import { SensitiveRegistryBucket } from '../../lib/sensitive-registry-bucket';
import { RegistryGuardChecks } from '../../rules';
import { cfnLint } from '../support/cfn-lint';

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

  test('the Lambda is told its mode, evidence bucket, topic, exemption limit, released registries and incident window', () => {
    expect(guardFunction.Properties.Environment).toEqual({
      Variables: {
        [GUARD_ENVIRONMENT.mode]: 'remediate',
        [GUARD_ENVIRONMENT.evidenceBucket]: { Ref: expect.stringMatching(/^GuardEvidenceBucket/) },
        [GUARD_ENVIRONMENT.notifyTopicArn]: { Ref: expect.stringMatching(/^GuardTopic[0-9A-F]{8}$/) },
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

  test('the dead-letter queue is encrypted and TLS-only', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: 'alias/aws/sqs' });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('three alarms (handler errors, dead letters, remediation storm), each notifying the alarm topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { MetricName: string; Threshold: number; AlarmActions: unknown[] };
    }[];
    expect(alarms.map((alarm) => alarm.Properties.MetricName).sort()).toEqual(
      ['ApproximateNumberOfMessagesVisible', 'BucketsRemediated', 'Errors'].sort(),
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
        'kms:GenerateDataKey', // the evidence key
        'kms:GenerateDataKey', // the notice topic's key
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteBucketPolicy',
        's3:DeleteObject',
        's3:GetAccountPublicAccessBlock',
        's3:GetBucketAcl',
        's3:GetBucketOwnershipControls',
        's3:GetBucketPolicy',
        's3:GetBucketPublicAccessBlock',
        's3:GetBucketTagging',
        's3:GetObject',
        's3:ListAllMyBuckets',
        's3:ListBucket',
        's3:PutAccountPublicAccessBlock',
        's3:PutBucketAcl',
        's3:PutBucketPolicy',
        's3:PutBucketPublicAccessBlock',
        's3:PutObject',
        'sns:Publish',
        'sqs:SendMessage',
      ].sort(),
    );
    const starResources = statements.filter((statement) => statement.Resource === '*');
    // ListAllMyBuckets, the account's Block Public Access and PutEvaluations have no resource-level permissions.
    expect(starResources.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(
      [
        'config:PutEvaluations',
        's3:GetAccountPublicAccessBlock',
        's3:ListAllMyBuckets',
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
  });

  test('passes RegistryGuardChecks and AwsSolutionsChecks with zero unacknowledged findings', () => {
    expect(new RegistryGuardChecks().validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });
});

describe('PublicAccessGuard options', () => {
  test('report mode, a sweep every 6 hours, X-Ray, lower concurrency, another alarm threshold', () => {
    const { template } = synthesizeGuard({
      mode: 'report',
      sweepFrequency: config.MaximumExecutionFrequency.SIX_HOURS,
      tracing: true,
      reservedConcurrentExecutions: 2,
      remediationAlarmThreshold: 20,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GUARD_MODE: 'report' }) },
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 2,
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
    expect(() => synthesizeGuard({ mode: 'report', enforceAccountBlockPublicAccess: true })).toThrow(
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
      mode: 'report',
      createConfigRecorder: true,
      tracing: true,
      sweepFrequency: config.MaximumExecutionFrequency.ONE_HOUR,
      configRuleName: 'registry-guard-test',
    });
    const assembly = app.synth();
    const templates = assembly.stacks.map((stack) => path.join(assembly.directory, stack.templateFile));
    expect(cfnLint(templates).errors).toEqual([]);
  });
});
