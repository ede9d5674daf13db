import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, rules as nagRules } from 'cdk-nag';
import { judgePolicy } from '../../lib/exposure/policy';
import { EVIDENCE_PREFIXES, GUARD_ENVIRONMENT, GUARD_ROLE_PATH, GuardMode } from '../../lib/guard-facts';
import * as guardModule from '../../lib/public-access-guard';
import { PublicAccessGuard, PublicAccessGuardProps } from '../../lib/public-access-guard';
import { SensitiveRegistryBucket } from '../../lib/sensitive-registry-bucket';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { cfnLint } from '../support/cfn-lint';
import { validationErrorOf } from '../support/validation-error';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

interface Synthesized {
  readonly app: App;
  readonly stack: Stack;
  readonly guard: PublicAccessGuard;
  readonly template: Template;
}

const BREAK_GLASS_ARN = 'arn:aws:iam::123456789012:role/evidence-break-glass';

/** A stack holding one guard `Guard`, built with `props` (and whatever `extra` adds first). */
function synthesizeGuard(
  props: PublicAccessGuardProps = {},
  extra: (stack: Stack) => PublicAccessGuardProps = () => ({}),
): Synthesized {
  const app = new App();
  const stack = new Stack(app, 'Guard');
  const guard = new PublicAccessGuard(stack, 'Guard', { ...extra(stack), ...props });
  return { app, stack, guard, template: Template.fromStack(stack) };
}

function logicalId(construct: { node: { defaultChild?: unknown } }): string {
  const cfn = construct.node.defaultChild as CfnElement;
  return Stack.of(cfn).getLogicalId(cfn);
}

const getAtt = (id: string): unknown => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objectsUnder = (id: string, prefix: string): unknown => ({
  'Fn::Join': ['', [getAtt(id), `/${prefix}*`]],
});

function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

function statementsOf(resource: CfnResource): Statement[] {
  return (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

/** Every statement of the policies attached to the guard's function role. */
function roleStatements(template: Template, guard: PublicAccessGuard): Statement[] {
  const roleId = logicalId(guard.handler.role as iam.Role);
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap(statementsOf);
}

const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((statement) => [statement.Action].flat()).sort();

/** The topic policy attached to the topic with this logical id. */
function topicPolicyOf(template: Template, topicId: string): Statement[] {
  const policies = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy')).filter(
    (policy) => JSON.stringify(policy.Properties.Topics) === JSON.stringify([{ Ref: topicId }]),
  );
  expect(policies).toHaveLength(1);
  return statementsOf(policies[0]);
}

function evidencePolicy(template: Template, guard: PublicAccessGuard): CfnResource {
  const bucketId = logicalId(guard.evidenceBucket.bucket);
  const [policy] = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy')).filter(
    (candidate) => JSON.stringify(candidate.Properties.Bucket) === JSON.stringify({ Ref: bucketId }),
  );
  return policy;
}

/** The IAM5 ids acknowledged on the guard's role, without any prefix CDK adds. */
function acknowledgedIam5(guard: PublicAccessGuard): string[] {
  const role = guard.handler.role as iam.Role;
  return role.node.metadata
    .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
    .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
    .map((id) => id.slice(id.indexOf('AwsSolutions-')))
    .filter((id) => id.startsWith('AwsSolutions-IAM5['))
    .sort();
}

/** What AwsSolutions-IAM5 finds on the guard's role policy, as acknowledgement ids. */
function iam5Findings(guard: PublicAccessGuard): string[] {
  const policy = (guard.handler.role as iam.Role).node.findChild('DefaultPolicy').node
    .defaultChild as iam.CfnPolicy;
  const findings = nagRules.iam.IAMNoWildcardPermissions(policy);
  return (Array.isArray(findings) ? findings : []).map((finding) => `AwsSolutions-IAM5[${finding}]`).sort();
}

describe('shared facts come from lib/guard-facts', () => {
  test('public-access-guard defines none of its own', () => {
    expect(Object.keys(guardModule)).not.toContain('GUARDED_API_CALLS');
  });

  test('GuardMode keeps the values the handler reads from GUARD_MODE', () => {
    expect({ ...GuardMode }).toEqual({ REMEDIATE: 'remediate', REPORT: 'report' });
  });
});

describe('the parts of PublicAccessGuard in lib/guard stay internal', () => {
  test('lib/public-access-guard exports the construct and REMEDIATION_METRIC, as before the split', () => {
    expect(Object.keys(guardModule).sort()).toEqual(['PublicAccessGuard', 'REMEDIATION_METRIC']);
    expect(guardModule.REMEDIATION_METRIC).toEqual({
      namespace: 'RegistryGuard',
      metricName: 'BucketsRemediated',
    });
  });
});

describe('PublicAccessGuard alarms reach a human independently of notices', () => {
  const { guard, template } = synthesizeGuard();
  const noticeTopicId = logicalId(guard.notificationTopic as sns.Topic);
  const alarmTopicId = logicalId(guard.alarmTopic as sns.Topic);
  const topics = resourcesOf(template, 'AWS::SNS::Topic');

  test('two topics, each under a rotating customer-managed key of its own', () => {
    expect(Object.keys(topics).sort()).toEqual([alarmTopicId, noticeTopicId].sort());
    const noticeKey = topics[noticeTopicId].Properties.KmsMasterKeyId as { 'Fn::GetAtt': string[] };
    const alarmKey = topics[alarmTopicId].Properties.KmsMasterKeyId as { 'Fn::GetAtt': string[] };
    expect(noticeKey['Fn::GetAtt'][0]).toMatch(/^GuardTopicKey/);
    expect(alarmKey['Fn::GetAtt'][0]).toMatch(/^GuardAlarmTopicKey/);
    expect(alarmKey).not.toEqual(noticeKey);
    const keys = resourcesOf(template, 'AWS::KMS::Key');
    expect(keys[alarmKey['Fn::GetAtt'][0]].Properties).toMatchObject({
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ]),
      },
    });
  });

  test('no alarm action references the notice topic: every alarm notifies the alarm topic', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: alarmTopicId }]);
      expect(JSON.stringify(alarm.Properties)).not.toContain(noticeTopicId);
    }
  });

  test('a supplied alarm topic is used as it is: no alarm topic, key or policy is created for it', () => {
    const supplied = synthesizeGuard({}, (stack) => ({
      alarmTopic: sns.Topic.fromTopicArn(stack, 'Pager', 'arn:aws:sns:eu-west-1:123456789012:pager'),
    }));
    for (const alarm of Object.values(resourcesOf(supplied.template, 'AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:pager']);
    }
    expect(Object.keys(resourcesOf(supplied.template, 'AWS::SNS::Topic'))).toEqual([
      expect.stringMatching(/^GuardTopic[0-9A-F]{8}$/),
    ]);
    expect(Object.keys(resourcesOf(supplied.template, 'AWS::KMS::Key')).join()).not.toContain('AlarmTopic');
    expect(supplied.guard.alarmTopic.topicArn).toBe('arn:aws:sns:eu-west-1:123456789012:pager');
  });
});

describe('PublicAccessGuard topics: only the guard and CloudWatch may publish', () => {
  const { guard, template } = synthesizeGuard();
  const roleArn = getAtt(logicalId(guard.handler.role as iam.Role));
  const noticeTopicId = logicalId(guard.notificationTopic as sns.Topic);
  const alarmTopicId = logicalId(guard.alarmTopic as sns.Topic);
  const cloudWatchPublishes = {
    Sid: 'AlarmsPublish',
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: 'sns:Publish',
    Resource: expect.anything(),
    Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
  };

  test('notice topic: allows the function role and CloudWatch of this account, denies every other publisher', () => {
    const statements = topicPolicyOf(template, noticeTopicId);
    expect(statements).toContainEqual({
      Sid: 'GuardPublishes',
      Effect: 'Allow',
      Principal: { AWS: roleArn },
      Action: 'sns:Publish',
      Resource: { Ref: noticeTopicId },
    });
    expect(statements).toContainEqual({ ...cloudWatchPublishes, Resource: { Ref: noticeTopicId } });
    // Negated operators are true when their key is missing: a service principal has no PrincipalArn and an
    // IAM principal no PrincipalServiceName, so only the role and CloudWatch escape the Deny.
    expect(statements).toContainEqual({
      Sid: 'DenyOtherPublishers',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sns:Publish',
      Resource: { Ref: noticeTopicId },
      Condition: {
        ArnNotEquals: { 'aws:PrincipalArn': roleArn },
        StringNotEqualsIfExists: { 'aws:PrincipalServiceName': 'cloudwatch.amazonaws.com' },
      },
    });
  });

  test('alarm topic: only CloudWatch of this account may publish, the guard role included nobody else', () => {
    const statements = topicPolicyOf(template, alarmTopicId);
    expect(statements).toContainEqual({ ...cloudWatchPublishes, Resource: { Ref: alarmTopicId } });
    expect(statements).toContainEqual({
      Sid: 'DenyOtherPublishers',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sns:Publish',
      Resource: { Ref: alarmTopicId },
      Condition: {
        StringNotEqualsIfExists: { 'aws:PrincipalServiceName': 'cloudwatch.amazonaws.com' },
      },
    });
    expect(statements.map((statement) => statement.Sid)).not.toContain('GuardPublishes');
  });

  test('both topic policies still deny requests without TLS', () => {
    for (const topicId of [noticeTopicId, alarmTopicId]) {
      expect(topicPolicyOf(template, topicId)).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  test('supplied topics are left alone: no topic policy is created', () => {
    const supplied = synthesizeGuard({}, (stack) => ({
      notificationTopic: sns.Topic.fromTopicArn(
        stack,
        'OnCall',
        'arn:aws:sns:eu-west-1:123456789012:on-call',
      ),
      alarmTopic: sns.Topic.fromTopicArn(stack, 'Pager', 'arn:aws:sns:eu-west-1:123456789012:pager'),
    }));
    supplied.template.resourceCountIs('AWS::SNS::Topic', 0);
    supplied.template.resourceCountIs('AWS::SNS::TopicPolicy', 0);
    // The role still publishes to the supplied notice topic, through grantPublish.
    expect(roleStatements(supplied.template, supplied.guard)).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: 'arn:aws:sns:eu-west-1:123456789012:on-call',
      }),
    );
  });
});

describe('PublicAccessGuard function role: least privilege by mode', () => {
  const remediate = synthesizeGuard();
  const report = synthesizeGuard({ mode: GuardMode.REPORT });
  const evidenceId = logicalId(remediate.guard.evidenceBucket.bucket);
  const evidenceKeyArn = getAtt(logicalId(remediate.guard.evidenceBucket.encryptionKey));

  test('the role is on the guard path, the one registries let through their network perimeter', () => {
    for (const { template } of [remediate, report]) {
      template.hasResourceProperties('AWS::IAM::Role', {
        Path: GUARD_ROLE_PATH,
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
        }),
      });
    }
  });

  test('both modes read the guard records: ListBucket on the bucket, GetObject under its four record prefixes only', () => {
    for (const { template, guard } of [remediate, report]) {
      const statements = roleStatements(template, guard);
      expect(statements).toContainEqual({
        Sid: 'ReadRemediationHistory',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: getAtt(evidenceId),
      });
      expect(statements).toContainEqual({
        Sid: 'ReadGuardRecords',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: [
          objectsUnder(evidenceId, EVIDENCE_PREFIXES.pendingNotices),
          objectsUnder(evidenceId, EVIDENCE_PREFIXES.incidents),
          objectsUnder(evidenceId, EVIDENCE_PREFIXES.registries),
          objectsUnder(evidenceId, EVIDENCE_PREFIXES.sweep),
        ],
      });
      expect(actionsOf(statements)).toEqual(
        expect.arrayContaining(['config:PutEvaluations', 'logs:PutLogEvents', 'sns:Publish']),
      );
    }
  });

  test('access points: read and, in remediate mode, policy-tightened only among the account and Region’s own; Multi-Region Access Points only read', () => {
    const ownAccessPoints = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':s3:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':accesspoint/*',
        ],
      ],
    };
    const ownMultiRegionAccessPoints = {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':s3::', { Ref: 'AWS::AccountId' }, ':accesspoint/*'],
      ],
    };
    const read = {
      Sid: 'ReadAccessPoints',
      Effect: 'Allow',
      Action: ['s3:GetAccessPoint', 's3:GetAccessPointPolicy'],
      Resource: ownAccessPoints,
    };
    const readMultiRegion = {
      Sid: 'ReadMultiRegionAccessPoints',
      Effect: 'Allow',
      Action: ['s3:GetMultiRegionAccessPoint', 's3:GetMultiRegionAccessPointPolicy'],
      Resource: ownMultiRegionAccessPoints,
    };
    const tighten = {
      Sid: 'TightenAccessPoints',
      Effect: 'Allow',
      Action: ['s3:PutAccessPointPolicy', 's3:DeleteAccessPointPolicy'],
      Resource: ownAccessPoints,
    };
    const remediating = roleStatements(remediate.template, remediate.guard);
    expect(remediating).toEqual(expect.arrayContaining([read, readMultiRegion, tighten]));
    const reporting = roleStatements(report.template, report.guard);
    expect(reporting).toEqual(expect.arrayContaining([read, readMultiRegion]));
    expect(reporting).not.toContainEqual(tighten);
    expect(actionsOf([...remediating, ...reporting])).not.toContain('s3:PutMultiRegionAccessPointPolicy');
  });

  test('remediate mode writes evidence anywhere, deletes only pending notices, and may encrypt with the evidence key', () => {
    const statements = roleStatements(remediate.template, remediate.guard);
    expect(statements).toContainEqual({
      Sid: 'WriteEvidence',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: objectsUnder(evidenceId, ''),
    });
    expect(statements).toContainEqual({
      Sid: 'ClearDeliveredNotices',
      Effect: 'Allow',
      Action: 's3:DeleteObject',
      Resource: objectsUnder(evidenceId, EVIDENCE_PREFIXES.pendingNotices),
    });
    expect(
      statements.filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify(evidenceKeyArn)),
    ).toEqual([expect.objectContaining({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'] })]);
    const deletes = statements.filter((statement) =>
      actionsOf([statement]).some((action) => action.includes('Delete')),
    );
    // ConsumeSweepBatches deletes handled messages from the sweep queue, nothing in S3.
    expect(deletes.map((statement) => statement.Sid).sort()).toEqual([
      'ClearDeliveredNotices',
      'ConsumeSweepBatches',
      'TightenAccessPoints', // DeleteAccessPointPolicy, when every statement was public
      'TightenBuckets',
    ]);
  });

  test('report mode: no statement grants any s3:Put* or s3:Delete* action, and the evidence key only decrypts', () => {
    const statements = roleStatements(report.template, report.guard);
    const changes = actionsOf(statements).filter((action) => /^s3:(Put|Delete)/.test(action));
    expect(changes).toEqual([]);
    expect(actionsOf(statements)).toEqual(
      [
        'config:PutEvaluations',
        'kms:Decrypt', // the evidence key
        'kms:Decrypt', // the notice topic's key
        'kms:Decrypt', // the queues' key: Lambda's poller receives sweep batches with the role
        'kms:GenerateDataKey', // the notice topic's key: SNS encrypts notices with the publisher's rights
        'kms:GenerateDataKey', // the queues' key: failed invocations and sweep batches are sent with the role
        'logs:CreateLogStream',
        'logs:PutLogEvents',
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
        's3:GetObjectAcl',
        's3:GetObjectVersionAcl',
        's3:ListAccessPoints', // the sweep lists them
        's3:ListAllMyBuckets',
        's3:ListMultiRegionAccessPoints', // the sweep lists them (us-west-2)
        's3:ListBucket',
        'sns:Publish',
        // Report mode sweeps too: it queues and consumes sweep batches, which changes no bucket.
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
        'sqs:SendMessage', // the dead-letter queue, for Lambda's asynchronous invocations
        'sqs:SendMessage', // the sweep queue
      ].sort(),
    );
    expect(
      statements.filter((statement) => JSON.stringify(statement.Resource) === JSON.stringify(evidenceKeyArn)),
    ).toEqual([expect.objectContaining({ Action: 'kms:Decrypt' })]);
  });

  test.each<[GuardMode, Synthesized]>([
    [GuardMode.REMEDIATE, remediate],
    [GuardMode.REPORT, report],
  ])(
    '%s mode: every IAM5 acknowledgement matches a finding, and every finding is acknowledged',
    (_mode, synthesized) => {
      expect(acknowledgedIam5(synthesized.guard)).toEqual(iam5Findings(synthesized.guard));
    },
  );

  test('report mode passes RegistryGuardChecks and AwsSolutionsChecks', () => {
    expect(new RegistryGuardChecks().validateScope(report.app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(report.app).violations).toEqual([]);
  });
});

describe('PublicAccessGuard environment: exemptions, released registries, incident window', () => {
  function variables(props: PublicAccessGuardProps): Record<string, unknown> {
    const { template } = synthesizeGuard(props);
    const [fn] = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
    return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  }

  test('the props reach the handler under the names guard-facts gives them', () => {
    expect(
      variables({
        maxExemptionDays: 30,
        releasedRegistryBuckets: ['electoral-roll-2019', 'census.archive.2011'],
        incidentWindow: Duration.hours(1),
      }),
    ).toMatchObject({
      [GUARD_ENVIRONMENT.maxExemptionDays]: '30',
      [GUARD_ENVIRONMENT.releasedRegistries]: 'electoral-roll-2019,census.archive.2011',
      [GUARD_ENVIRONMENT.incidentWindowSeconds]: '3600',
    });
  });

  test('a registry zone of trust reaches the handler only when set: never from a tag', () => {
    expect(
      variables({
        trustedOrganizationId: 'o-a1b2c3d4e5',
        trustedAccountIds: ['999988887777', '111122223333'],
      }),
    ).toMatchObject({
      [GUARD_ENVIRONMENT.trustedOrganizationId]: 'o-a1b2c3d4e5',
      [GUARD_ENVIRONMENT.trustedAccountIds]: '999988887777,111122223333',
    });
    const untrusting = variables({});
    expect(untrusting).not.toHaveProperty(GUARD_ENVIRONMENT.trustedOrganizationId);
    expect(untrusting).not.toHaveProperty(GUARD_ENVIRONMENT.trustedAccountIds);
  });

  test('the limits themselves are accepted', () => {
    expect(variables({ maxExemptionDays: 3650, incidentWindow: Duration.minutes(1) })).toMatchObject({
      MAX_EXEMPTION_DAYS: '3650',
      INCIDENT_WINDOW_SECONDS: '60',
    });
    expect(variables({ maxExemptionDays: 1, incidentWindow: Duration.hours(24) })).toMatchObject({
      MAX_EXEMPTION_DAYS: '1',
      INCIDENT_WINDOW_SECONDS: '86400',
    });
  });

  test.each<[string, PublicAccessGuardProps, RegExp]>([
    ['maxExemptionDays 0', { maxExemptionDays: 0 }, /maxExemptionDays must be a whole number from 1 to 3650/],
    [
      'remediationAlarmThreshold 0',
      { remediationAlarmThreshold: 0 },
      /remediationAlarmThreshold must be a whole number from 1 to 10000, not 0/,
    ],
    [
      'remediationAlarmThreshold 2.5',
      { remediationAlarmThreshold: 2.5 },
      /remediationAlarmThreshold must be a whole number/,
    ],
    [
      'remediationAlarmThreshold NaN',
      { remediationAlarmThreshold: Number.NaN },
      /remediationAlarmThreshold must be a whole number/,
    ],
    ['maxExemptionDays 3651', { maxExemptionDays: 3651 }, /maxExemptionDays must be a whole number/],
    ['maxExemptionDays 1.5', { maxExemptionDays: 1.5 }, /maxExemptionDays must be a whole number/],
    [
      'a released bucket name with a comma',
      { releasedRegistryBuckets: ['roll,census'] },
      /'roll,census' is not an S3 bucket name/,
    ],
    [
      'a released bucket ARN',
      { releasedRegistryBuckets: ['arn:aws:s3:::roll'] },
      /releasedRegistryBuckets: 'arn:aws:s3:::roll'/,
    ],
    [
      'a released bucket name in capitals',
      { releasedRegistryBuckets: ['Roll'] },
      /releasedRegistryBuckets: 'Roll'/,
    ],
    [
      'a released bucket name too short',
      { releasedRegistryBuckets: ['ab'] },
      /releasedRegistryBuckets: 'ab'/,
    ],
    [
      'a trusted organization that is not an organization id',
      { trustedOrganizationId: 'r-a1b2' },
      /trustedOrganizationId: 'r-a1b2' is not an organization id/,
    ],
    [
      'a trusted account that is not 12 digits',
      { trustedAccountIds: ['arn:aws:iam::999988887777:root'] },
      /trustedAccountIds: 'arn:aws:iam::999988887777:root' is not a 12-digit account id/,
    ],
    ['an incident window under a minute', { incidentWindow: Duration.seconds(30) }, /incidentWindow must be/],
    ['an incident window over a day', { incidentWindow: Duration.hours(25) }, /incidentWindow must be/],
    [
      'an incident window of fractional seconds',
      { incidentWindow: Duration.millis(90500) },
      /incidentWindow must be/,
    ],
  ])('refuses %s, naming the construct path', (_name, props, message) => {
    expect(() => synthesizeGuard(props)).toThrow(message);
    expect(() => synthesizeGuard(props)).toThrow(/^PublicAccessGuard Guard\/Guard: /);
    expect(validationErrorOf(() => synthesizeGuard(props)).constructPath).toBe('Guard/Guard');
  });
});

describe('PublicAccessGuard evidence is tamper-evident', () => {
  const { guard, template, stack } = synthesizeGuard();
  const bucketId = logicalId(guard.evidenceBucket.bucket);
  const roleArn = getAtt(logicalId(guard.handler.role as iam.Role));
  const resources = [getAtt(bucketId), objectsUnder(bucketId, '')];
  const tamperingActions = [
    's3:DeleteObjectVersion',
    's3:PutBucketVersioning',
    's3:PutLifecycleConfiguration',
    's3:PutBucketObjectLockConfiguration',
    's3:BypassGovernanceRetention',
    's3:PutObjectRetention',
    's3:PutObjectLegalHold',
  ];

  test('the default evidence bucket has Object Lock: GOVERNANCE, 365 days', () => {
    expect(resourcesOf(template, 'AWS::S3::Bucket')[bucketId].Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('Object Lock'));
  });

  test('evidenceObjectLock chooses another lock for the evidence bucket the guard creates', () => {
    const locked = synthesizeGuard({
      evidenceObjectLock: { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(3650) },
    });
    locked.template.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 3650 } },
      },
    });
  });

  test('without a break-glass role, versioning, lifecycle, Object Lock and version deletion are denied to everyone', () => {
    const statements = statementsOf(evidencePolicy(template, guard));
    expect(statements).toContainEqual({
      Sid: 'DenyEvidenceTampering',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: tamperingActions,
      Resource: resources,
    });
  });

  test('only the guard role may put or delete evidence objects', () => {
    expect(statementsOf(evidencePolicy(template, guard))).toContainEqual({
      Sid: 'DenyEvidenceWritesExceptGuard',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:PutObject', 's3:DeleteObject'],
      Resource: objectsUnder(bucketId, ''),
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': roleArn } },
    });
  });

  test("the registry bucket's own statements stay: TLS only, SSE-KMS with its key", () => {
    const sids = statementsOf(evidencePolicy(template, guard)).map((statement) => statement.Sid);
    expect(sids).toEqual(
      expect.arrayContaining([
        'DenyUploadsWithOtherEncryption',
        'DenyUploadsWithOtherKmsKeys',
        'DenyEvidenceTampering',
        'DenyEvidenceWritesExceptGuard',
      ]),
    );
  });

  test('a break-glass role is the one principal exempt from the tampering Deny', () => {
    const withBreakGlass = synthesizeGuard({}, (scope) => ({
      breakGlassRole: iam.Role.fromRoleArn(scope, 'BreakGlass', BREAK_GLASS_ARN),
    }));
    expect(statementsOf(evidencePolicy(withBreakGlass.template, withBreakGlass.guard))).toContainEqual({
      Sid: 'DenyEvidenceTampering',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: tamperingActions,
      Resource: resources,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': BREAK_GLASS_ARN } },
    });
    expect(new RegistryGuardChecks().validateScope(withBreakGlass.app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(withBreakGlass.app).violations).toEqual([]);
  });

  test('our own judgement does not call the evidence bucket policy public: its new statements are Denies', () => {
    const verdict = judgePolicy(evidencePolicy(template, guard).Properties.PolicyDocument);
    expect(verdict).toEqual({ isPublic: false, publicStatements: [] });
  });

  test('a supplied evidence bucket gets the same statements; without Object Lock, a warning', () => {
    const supplied = synthesizeGuard({}, (scope) => ({
      evidenceBucket: new SensitiveRegistryBucket(scope, 'SharedEvidence'),
    }));
    const sids = statementsOf(evidencePolicy(supplied.template, supplied.guard)).map(
      (statement) => statement.Sid,
    );
    expect(sids).toEqual(expect.arrayContaining(['DenyEvidenceTampering', 'DenyEvidenceWritesExceptGuard']));
    Annotations.fromStack(supplied.stack).hasWarning(
      '/Guard/Guard',
      Match.stringLikeRegexp('the evidence bucket has no Object Lock'),
    );
    const locked = synthesizeGuard({}, (scope) => ({
      evidenceBucket: new SensitiveRegistryBucket(scope, 'LockedEvidence', {
        objectLock: { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(30) },
      }),
    }));
    Annotations.fromStack(locked.stack).hasNoWarning('*', Match.stringLikeRegexp('Object Lock'));
  });

  test('refuses evidenceObjectLock with a supplied bucket, and an evidence bucket in another stack', () => {
    expect(() =>
      synthesizeGuard(
        { evidenceObjectLock: { mode: s3.ObjectLockMode.GOVERNANCE, retention: Duration.days(30) } },
        (scope) => ({
          evidenceBucket: new SensitiveRegistryBucket(scope, 'SharedEvidence'),
        }),
      ),
    ).toThrow(/Guard\/Guard: evidenceObjectLock applies only to the evidence bucket the guard creates/);
    const app = new App();
    const evidence = new SensitiveRegistryBucket(new Stack(app, 'Evidence'), 'Evidence');
    expect(
      () => new PublicAccessGuard(new Stack(app, 'Guard'), 'Guard', { evidenceBucket: evidence }),
    ).toThrow(/Guard\/Guard: evidenceBucket must be in the guard's stack/);
  });
});

describe('PublicAccessGuard hardened templates pass the real cfn-lint', () => {
  test('report mode, supplied topics, a break-glass role, custom environment: no cfn-lint error', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-hardened-lint-'));
    try {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Hardened');
      new PublicAccessGuard(stack, 'Guard', {
        mode: GuardMode.REPORT,
        notificationTopic: sns.Topic.fromTopicArn(
          stack,
          'OnCall',
          'arn:aws:sns:eu-west-1:123456789012:on-call',
        ),
        breakGlassRole: iam.Role.fromRoleArn(stack, 'BreakGlass', BREAK_GLASS_ARN),
        maxExemptionDays: 30,
        releasedRegistryBuckets: ['electoral-roll-2019'],
        incidentWindow: Duration.minutes(5),
        evidenceObjectLock: { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(3650) },
      });
      const assembly = app.synth();
      const templates = assembly.stacks.map((candidate) =>
        path.join(assembly.directory, candidate.templateFile),
      );
      expect(cfnLint(templates).errors).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
