import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE } from '../../lib/classification';
import { ElectoralRollStack } from '../../lib/example/electoral-roll-stack';
import { GuardMode } from '../../lib/guard-facts';
import {
  OrganizationGuardrails,
  OrganizationGuardrailsProps,
  S3_BLOCK_ALL_PUBLIC_ACCESS_POLICY,
} from '../../lib/organization/organization-guardrails';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { cfnLint } from '../support/cfn-lint';
import { validationErrorOf } from '../support/validation-error';
import { checkCdkOut } from '../support/check-cdk-out';

const MANAGEMENT = { account: '111111111111', region: 'eu-west-1' };
const ORGANIZATION_ID = 'o-exampleorg1';
const BASE_PROPS: OrganizationGuardrailsProps = {
  organizationId: ORGANIZATION_ID,
  organizationalUnits: ['ou-exam-11111111', 'ou-exam-22222222'],
  regions: ['eu-west-1', 'eu-central-1'],
};

interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string[];
  Metadata?: Record<string, unknown>;
}
type Resources = Record<string, CfnResource>;

interface Synthesized {
  app: App;
  outdir: string;
  stack: Stack;
  guardrails: OrganizationGuardrails;
  template: Template;
  member: Template;
  memberResources: Resources;
  registryGuard: RegistryGuardChecks;
}

/** The organization app as bin/organization.ts builds it, synthesized into a temporary cloud assembly. */
function synthesizeOrganization(props: Partial<OrganizationGuardrailsProps> = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-org-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'RegistryGuardOrganization', { env: MANAGEMENT });
  const guardrails = new OrganizationGuardrails(stack, 'Guardrails', { ...BASE_PROPS, ...props });
  const registryGuard = new RegistryGuardChecks(app, { writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(registryGuard, new AwsSolutionsChecks(app));
  app.synth();
  const memberJson = JSON.parse(
    fs.readFileSync(path.join(outdir, guardrails.memberStack.templateFile), 'utf8'),
  );
  return {
    app,
    outdir,
    stack,
    guardrails,
    template: Template.fromStack(stack),
    member: Template.fromJSON(memberJson),
    memberResources: memberJson.Resources as Resources,
    registryGuard,
  };
}

function onlyResource(template: Template, type: string): CfnResource {
  const resources = Object.values(template.findResources(type)) as CfnResource[];
  expect(resources).toHaveLength(1);
  return resources[0];
}

type Statement = Record<string, unknown>;

/** The statements of a resource's policy document (`PolicyDocument`, or `KeyPolicy` for a key). */
function statementsOf(resource: CfnResource, field = 'PolicyDocument'): Statement[] {
  return (resource.Properties?.[field] as { Statement: Statement[] }).Statement;
}

/** The topic named `topicName`, its topic policy and its key, found through the references between them. */
function topicParts(
  template: Template,
  topicName: string,
): { topic: CfnResource; policy: CfnResource; key: CfnResource } {
  const topics = Object.entries(
    template.findResources('AWS::SNS::Topic', { Properties: { TopicName: topicName } }),
  );
  expect(topics).toHaveLength(1);
  const [topicId, topic] = topics[0] as [string, CfnResource];
  const policies = Object.values(
    template.findResources('AWS::SNS::TopicPolicy', { Properties: { Topics: [{ Ref: topicId }] } }),
  ) as CfnResource[];
  expect(policies).toHaveLength(1);
  const keyId = (topic.Properties?.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const key = template.toJSON().Resources[keyId] as CfnResource;
  expect(key.Type).toBe('AWS::KMS::Key');
  return { topic, policy: policies[0], key };
}

/** An SNS topic of the hub account in the stack instance's own Region, as member templates address it. */
function hubTopicArn(topicName: string): unknown {
  return {
    'Fn::Join': [
      '',
      ['arn:', { Ref: 'AWS::Partition' }, ':sns:', { Ref: 'AWS::Region' }, `:111111111111:${topicName}`],
    ],
  };
}

/** Every statement of every IAM policy in a template. */
function iamStatements(template: Template): Statement[] {
  return (Object.values(template.findResources('AWS::IAM::Policy')) as CfnResource[]).flatMap((policy) =>
    statementsOf(policy),
  );
}

describe('OrganizationGuardrails', () => {
  const synthesized = synthesizeOrganization();
  const { app, outdir, template, member, memberResources, guardrails } = synthesized;

  test('a service-managed StackSet over the OUs and Regions, deployed automatically to new accounts', () => {
    const stackSet = onlyResource(template, 'AWS::CloudFormation::StackSet');
    expect(stackSet.Properties).toMatchObject({
      StackSetName: 'registry-guard',
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: 'SELF',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_IAM'],
      ManagedExecution: { Active: true },
      StackInstancesGroup: [
        {
          DeploymentTargets: {
            AccountFilterType: 'NONE',
            OrganizationalUnitIds: ['ou-exam-11111111', 'ou-exam-22222222'],
          },
          Regions: ['eu-west-1', 'eu-central-1'],
        },
      ],
    });
  });

  test('a delegated administrator deploys with CallAs DELEGATED_ADMIN; leaving accounts may keep the guard', () => {
    const { template: delegated } = synthesizeOrganization({
      delegatedAdmin: true,
      retainStacksOnAccountRemoval: true,
    });
    expect(onlyResource(delegated, 'AWS::CloudFormation::StackSet').Properties).toMatchObject({
      CallAs: 'DELEGATED_ADMIN',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: true },
    });
  });

  test('assets: the guard code is copied into every Region’s hub bucket before the StackSet is created', () => {
    const handler = onlyResource(member, 'AWS::Lambda::Function');
    const code = handler.Properties?.Code as { S3Bucket: unknown; S3Key: string };
    // Each stack instance reads the code from the hub bucket of its own Region.
    expect(code.S3Bucket).toEqual({
      'Fn::Join': ['-', ['registry-guard-assets-111111111111', { Ref: 'AWS::Region' }]],
    });
    const copies = Object.entries(template.findResources('Custom::CDKBucketDeployment')) as [
      string,
      CfnResource,
    ][];
    expect(copies.map(([, copy]) => copy.Properties?.DestinationBucketName)).toEqual([
      { Ref: expect.stringMatching(/^GuardrailsHubAssets/) },
      'registry-guard-assets-111111111111-eu-central-1',
    ]);
    for (const [, copy] of copies) {
      expect(copy.Properties).toMatchObject({ SourceObjectKeys: [code.S3Key], Extract: false, Prune: false });
    }
    const stackSet = Object.values(template.findResources('AWS::CloudFormation::StackSet'))[0] as CfnResource;
    expect(stackSet.DependsOn).toEqual(expect.arrayContaining(copies.map(([id]) => id)));
  });

  test('every other Region gets a hub stack in the management account, deployed first', () => {
    const hubStacks = app.node.children.filter(
      (child): child is Stack => Stack.isStack(child) && child.stackName.includes('-Hub-'),
    );
    expect(hubStacks.map((hub) => [hub.stackName, hub.account, hub.region])).toEqual([
      ['RegistryGuardOrganization-Hub-eu-central-1', '111111111111', 'eu-central-1'],
    ]);
    expect(synthesized.stack.dependencies).toEqual(hubStacks);
    const hubTemplate = Template.fromStack(hubStacks[0]);
    hubTemplate.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'registry-guard-assets-111111111111-eu-central-1',
    });
    hubTemplate.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'registry-guard-on-call' });
    hubTemplate.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'registry-guard-alarms' });
    expect([...guardrails.hubs.keys()]).toEqual(['eu-west-1', 'eu-central-1']);
  });

  test('regions and hubIn give other jsii languages what hubs gives TypeScript', () => {
    expect(guardrails.regions).toEqual([...guardrails.hubs.keys()]);
    for (const region of guardrails.regions)
      expect(guardrails.hubIn(region)).toBe(guardrails.hubs.get(region));
    expect(() => guardrails.hubIn('us-east-1')).toThrow(
      /'us-east-1' is not a guarded Region: hubIn takes one of eu-west-1, eu-central-1\./,
    );
  });

  test('asset buckets: only principals of the organization may read, nobody may write from outside, every read is logged', () => {
    const assets = synthesized.stack.getLogicalId(
      guardrails.hubs.get(MANAGEMENT.region)?.assetBucket.node.defaultChild as CfnElement,
    );
    const policy = Object.values(template.findResources('AWS::S3::BucketPolicy')).find(
      (bucketPolicy) => JSON.stringify(bucketPolicy.Properties.Bucket) === JSON.stringify({ Ref: assets }),
    ) as CfnResource;
    const allows = statementsOf(policy).filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Principal: { AWS: '*' },
        Action: 's3:GetObject',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION_ID } },
      }),
    ]);
    // CloudTrail records object reads only where data events are on: server access logs record each one.
    expect(template.toJSON().Resources[assets].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: expect.stringMatching(/AssetAccessLogs/) },
      LogFilePrefix: 'asset-access-logs/',
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
  });

  test('the on-call topic admits only guard roles and CloudWatch alarms of the organization', () => {
    const statements = statementsOf(topicParts(template, 'registry-guard-on-call').policy);
    const allows = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Sid: 'OrganizationGuardsPublish',
        Principal: { AWS: '*' },
        Action: 'sns:Publish',
        Condition: {
          StringEquals: {
            'aws:PrincipalOrgID': ORGANIZATION_ID,
            'aws:PrincipalTag/registry-guard:component': 'PublicAccessGuard',
          },
        },
      }),
      expect.objectContaining({
        Sid: 'OrganizationAlarmsPublish',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceOrgID': ORGANIZATION_ID } },
      }),
    ]);
    // TLS only, as AwsSolutions-SNS3 asks.
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'registry-guard-on-call',
      KmsMasterKeyId: Match.anyValue(),
    });
  });

  test('the topic key: the organization may use it only through SNS of the Region; alarms by SourceOrgID', () => {
    const { key } = topicParts(template, 'registry-guard-on-call');
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    const statements = statementsOf(key, 'KeyPolicy');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { AWS: '*' },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Condition: {
          StringEquals: {
            'aws:PrincipalOrgID': ORGANIZATION_ID,
            'kms:ViaService': { 'Fn::Join': ['', ['sns.eu-west-1.', { Ref: 'AWS::URLSuffix' }]] },
          },
        },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceOrgID': ORGANIZATION_ID } },
      }),
    );
  });

  test('the alarm topic admits only CloudWatch alarms of the organization: not even guard roles', () => {
    const statements = statementsOf(topicParts(template, 'registry-guard-alarms').policy);
    expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
      expect.objectContaining({
        Sid: 'OrganizationAlarmsPublish',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: { StringEquals: { 'aws:SourceOrgID': ORGANIZATION_ID } },
      }),
    ]);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  test('the alarm topic key: rotating, usable by CloudWatch alarms of the organization only', () => {
    const { key } = topicParts(template, 'registry-guard-alarms');
    expect(key.Properties?.EnableKeyRotation).toBe(true);
    const statements = statementsOf(key, 'KeyPolicy');
    // The account's own root statement, which every KMS key keeps so it stays manageable, the alarms, and
    // the two denials every key of the kit carries (grants only for AWS resources, use only through SNS).
    expect(statements).toHaveLength(4);
    expect(
      statements.filter((statement) => statement.Effect === 'Deny').map((statement) => statement.Sid),
    ).toEqual(['DenyGrantsExceptForAwsResources', 'DenyUseExceptThroughServices']);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'OrganizationAlarmsPublish',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: expect.arrayContaining(['kms:GenerateDataKey*', 'kms:Decrypt']),
        Condition: { StringEquals: { 'aws:SourceOrgID': ORGANIZATION_ID } },
      }),
    );
    expect(JSON.stringify(statements)).not.toContain('aws:PrincipalOrgID');
  });

  test('in every Region the alarm topic and the on-call topic use different keys', () => {
    const hubTemplates = [...guardrails.hubs.values()].map((hub) => Template.fromStack(Stack.of(hub)));
    expect(hubTemplates).toHaveLength(2);
    for (const hubTemplate of hubTemplates) {
      const onCall = topicParts(hubTemplate, 'registry-guard-on-call');
      const alarm = topicParts(hubTemplate, 'registry-guard-alarms');
      expect(alarm.topic.Properties?.KmsMasterKeyId).not.toEqual(onCall.topic.Properties?.KmsMasterKeyId);
      expect(alarm.key).not.toBe(onCall.key);
    }
    const hub = guardrails.hubs.get('eu-west-1');
    expect(hub?.alarmTopicKey).not.toBe(hub?.onCallTopicKey);
  });

  test('the StackSet waits for the alarm topic of its own Region: no alarm points at a topic not yet there', () => {
    const stackSet = onlyResource(template, 'AWS::CloudFormation::StackSet');
    const alarmTopicId = Object.keys(
      template.findResources('AWS::SNS::Topic', { Properties: { TopicName: 'registry-guard-alarms' } }),
    )[0];
    expect(stackSet.DependsOn).toContain(alarmTopicId);
  });

  test('members send notices to the on-call topic of their Region and alarms to its alarm topic', () => {
    const onCallTopicArn = hubTopicArn('registry-guard-on-call');
    const alarmTopicArn = hubTopicArn('registry-guard-alarms');
    const handler = onlyResource(member, 'AWS::Lambda::Function');
    expect(handler.Properties?.Environment).toMatchObject({
      Variables: { NOTIFY_TOPIC_ARN: onCallTopicArn },
    });
    const alarms = Object.values(member.findResources('AWS::CloudWatch::Alarm')) as CfnResource[];
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) expect(alarm.Properties?.AlarmActions).toEqual([alarmTopicArn]);
    // No topic of its own in the member account: one place to hear about every drift.
    member.resourceCountIs('AWS::SNS::Topic', 0);
    const statements = iamStatements(member);
    // The guard publishes notices only: alarms publish with CloudWatch's rights, not the role's.
    expect(statements.filter((statement) => statement.Action === 'sns:Publish')).toEqual([
      expect.objectContaining({ Effect: 'Allow', Resource: onCallTopicArn }),
    ]);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Sid: 'EncryptOrganizationNotices',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':111111111111:key/*'],
          ],
        },
        Condition: {
          StringEquals: {
            'kms:ViaService': {
              'Fn::Join': ['', ['sns.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]],
            },
          },
        },
      }),
    );
  });

  test("members sweep through their own queue, named apart per stack instance by the stack's id", () => {
    const handler = onlyResource(member, 'AWS::Lambda::Function');
    const queues = member.findResources('AWS::SQS::Queue', { Properties: { QueueName: Match.anyValue() } });
    const [sweepQueueId] = Object.keys(queues);
    expect(Object.keys(queues)).toHaveLength(1);
    expect(handler.Properties?.Environment).toMatchObject({
      Variables: { SWEEP_QUEUE_URL: { Ref: sweepQueueId } },
    });
    expect(JSON.stringify(queues[sweepQueueId].Properties.QueueName)).toContain('AWS::StackId');
    member.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [sweepQueueId, 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  test("members trust the organization: a registry's grant under aws:PrincipalOrgID of it is inside the zone", () => {
    const handler = onlyResource(member, 'AWS::Lambda::Function');
    expect(handler.Properties?.Environment).toMatchObject({
      Variables: { GUARD_TRUSTED_ORGANIZATION_ID: BASE_PROPS.organizationId },
    });
  });

  test('account-level Block Public Access: the custom resource is served by the guard, with no new permission', () => {
    const resources = member.findResources(ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE);
    expect(Object.values(resources)).toEqual([
      expect.objectContaining({
        Properties: {
          ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^PublicAccessGuardHandler/), 'Arn'] },
        },
      }),
    ]);
    // The guard's handler is the only function and its role the only Lambda role of the member template.
    member.resourceCountIs('AWS::Lambda::Function', 1);
    const statements = iamStatements(member);
    const accountLevel = statements.filter((statement) =>
      ([] as unknown[])
        .concat(statement.Action)
        .some((action) => String(action).includes('AccountPublicAccessBlock')),
    );
    // Turning it on, and reading it first; never DeleteAccountPublicAccessBlock.
    expect(accountLevel).toEqual([
      expect.objectContaining({
        Sid: 'AccountLevelCalls',
        Action: expect.arrayContaining(['s3:GetAccountPublicAccessBlock']),
      }),
      expect.objectContaining({ Sid: 'TightenAccount', Action: 's3:PutAccountPublicAccessBlock' }),
    ]);
    expect(JSON.stringify(accountLevel)).not.toContain('DeleteAccountPublicAccessBlock');
  });

  test('the template inside the StackSet is the same guard the single-account app deploys', () => {
    const single = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-single-')) });
    const singleStack = new ElectoralRollStack(single, 'ElectoralRoll');
    const singleResources = Template.fromStack(singleStack).toJSON().Resources as Resources;
    // The EventBridge permission's logical id, the dead-letter queue policy's Sid and the evidence key's
    // description carry the construct path, which names the stack: compare them without it.
    const canonical = (text: string): string =>
      text
        .replace(/AllowEventRule[A-Za-z0-9]*/g, 'AllowEventRule')
        .replace(
          /(ElectoralRoll|RegistryGuardOrganization\/Guardrails\/MemberGuard)\/PublicAccessGuard/g,
          'PublicAccessGuard',
        );
    const guardResources = (resources: Resources): Map<string, CfnResource> =>
      new Map(
        Object.entries(resources)
          .filter(([id]) => id.startsWith('PublicAccessGuard'))
          .map(([id, resource]) => [canonical(id), JSON.parse(canonical(JSON.stringify(resource)))]),
      );
    const singleGuard = guardResources(singleResources);
    const memberGuard = guardResources(memberResources);
    // The differences are exactly the topics (the organization's, for notices and alarms alike, not two per
    // account), the deploy-time account setting (on for the organization) and the organization trusted.
    const withoutHash = (id: string): string => id.replace(/[0-9A-F]{8}$/, '');
    expect(
      [...singleGuard.keys()]
        .filter((id) => !memberGuard.has(id))
        .map(withoutHash)
        .sort(),
    ).toEqual(
      [
        'PublicAccessGuardAlarmTopic',
        'PublicAccessGuardAlarmTopicKey',
        'PublicAccessGuardAlarmTopicPolicy',
        'PublicAccessGuardTopic',
        'PublicAccessGuardTopicKey',
        'PublicAccessGuardTopicPolicy',
      ].sort(),
    );
    expect([...memberGuard.keys()].filter((id) => !singleGuard.has(id)).map(withoutHash)).toEqual([
      'PublicAccessGuardAccountBlockPublicAccess',
    ]);

    const withoutTopic = (resource: CfnResource): unknown => {
      const properties = JSON.parse(JSON.stringify(resource.Properties ?? {})) as Record<string, unknown>;
      if (resource.Type === 'AWS::Lambda::Function') {
        const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
        variables.NOTIFY_TOPIC_ARN = 'TOPIC';
        // Members trust their organization (the single-account example has none to trust).
        if (variables.GUARD_TRUSTED_ORGANIZATION_ID === BASE_PROPS.organizationId) {
          delete variables.GUARD_TRUSTED_ORGANIZATION_ID;
        }
        (properties.Code as Record<string, unknown>).S3Bucket = 'ASSETS';
      }
      if (resource.Type === 'AWS::CloudWatch::Alarm') properties.AlarmActions = ['TOPIC'];
      if (resource.Type === 'AWS::IAM::Policy') {
        const document = properties.PolicyDocument as { Statement: Record<string, unknown>[] };
        // Publishing rights differ only by where the topic and its key live.
        document.Statement = document.Statement.filter(
          (statement) =>
            !['NotifyOnCall', 'EncryptOrganizationNotices'].includes(String(statement.Sid)) &&
            statement.Action !== 'sns:Publish' &&
            !JSON.stringify(statement.Resource).includes('TopicKey'),
        );
      }
      return { type: resource.Type, properties, dependsOn: resource.DependsOn ?? [] };
    };
    const shared = [...memberGuard.keys()].filter((id) => singleGuard.has(id));
    expect(shared.length).toBeGreaterThanOrEqual(19);
    for (const id of shared) {
      const memberResource = memberGuard.get(id) as CfnResource;
      const singleResource = singleGuard.get(id) as CfnResource;
      expect({ id, ...(withoutTopic(memberResource) as object) }).toEqual({
        id,
        ...(withoutTopic(singleResource) as object),
      });
    }
  });

  test('a Config aggregator over the organization and its guarded Regions', () => {
    const aggregator = onlyResource(template, 'AWS::Config::ConfigurationAggregator');
    expect(aggregator.Properties).toEqual({
      ConfigurationAggregatorName: 'registry-guard-organization',
      OrganizationAggregationSource: {
        RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^GuardrailsAggregatorRole/), 'Arn'] },
        AwsRegions: ['eu-west-1', 'eu-central-1'],
        AllAwsRegions: false,
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'config.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':iam::aws:policy/service-role/AWSConfigRoleForOrganizations',
            ],
          ],
        },
      ],
    });
  });

  test('no Organizations S3 policy unless asked', () => {
    template.resourceCountIs('AWS::Organizations::Policy', 0);
  });

  test('opt-in: an S3 policy enforcing all four Block Public Access settings, attached to the OUs', () => {
    const { template: withPolicy } = synthesizeOrganization({ createS3Policy: true });
    expect(onlyResource(withPolicy, 'AWS::Organizations::Policy').Properties).toEqual({
      Name: 'registry-guard-s3-block-public-access',
      Description: expect.any(String),
      Type: 'S3_POLICY',
      Content: { s3_attributes: { public_access_block_configuration: { '@@assign': 'all' } } },
      TargetIds: ['ou-exam-11111111', 'ou-exam-22222222'],
    });
    expect(S3_BLOCK_ALL_PUBLIC_ACCESS_POLICY).toEqual({
      s3_attributes: { public_access_block_configuration: { '@@assign': 'all' } },
    });
  });

  test('a chosen alarm topic name names the hub topics and the member alarms alike', () => {
    const { template: renamed, member: renamedMember } = synthesizeOrganization({
      alarmTopicName: 'registry-guard-pager',
    });
    expect(topicParts(renamed, 'registry-guard-pager').topic.Properties?.DisplayName).toBe(
      'registry-guard alarms (organization)',
    );
    const alarms = Object.values(renamedMember.findResources('AWS::CloudWatch::Alarm')) as CfnResource[];
    for (const alarm of alarms) {
      expect(alarm.Properties?.AlarmActions).toEqual([hubTopicArn('registry-guard-pager')]);
    }
  });

  test('opt-out of account-level Block Public Access: no custom resource in the member template', () => {
    const { member: withoutEnforcement } = synthesizeOrganization({ enforceAccountBlockPublicAccess: false });
    expect(withoutEnforcement.findResources(ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE)).toEqual({});
  });

  test('passes RegistryGuardChecks and AwsSolutionsChecks with zero unacknowledged findings', () => {
    expect(synthesized.registryGuard.validateScope(app).violations).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  test('registry-guard check reads the StackSet template from cdk.out and finds nothing', () => {
    const { code, report } = checkCdkOut(outdir);
    expect(report.findings).toEqual([]);
    // The management stack, the other Region's hub stack and the member template.
    expect(report.summary.templates).toBe(3);
    expect(code).toBe(0);
  });

  test('every template, the member template included, passes the real cfn-lint', () => {
    const templates = fs.readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
    expect(templates).toContain(guardrails.memberStack.templateFile);
    expect(cfnLint(templates.map((file) => path.join(outdir, file))).errors).toEqual([]);
  });
});

describe('OrganizationGuardrails refuses what cannot work', () => {
  const build = (
    props: Partial<OrganizationGuardrailsProps>,
    env: { account?: string; region?: string } = MANAGEMENT,
  ) => {
    const app = new App();
    const stack = new Stack(app, 'Org', { env });
    return () => new OrganizationGuardrails(stack, 'Guardrails', { ...BASE_PROPS, ...props });
  };

  test('an environment-agnostic stack', () => {
    expect(build({}, {})).toThrow(/Org\/Guardrails: the stack needs env: \{ account, region \}/);
  });

  test('an organization id that is not one', () => {
    expect(build({ organizationId: 'my-org' })).toThrow(/organizationId must be an AWS Organizations id/);
  });

  test('no organizational unit, or an account id where an OU belongs', () => {
    expect(build({ organizationalUnits: [] })).toThrow(/organizationalUnits is empty/);
    expect(build({ organizationalUnits: ['222222222222'] })).toThrow(
      /'222222222222' is not an organizational unit id .*move the account into an OU/,
    );
  });

  test('no Region, or a Region name that is not one', () => {
    expect(build({ regions: [] })).toThrow(/regions is empty/);
    expect(build({ regions: ['Ireland'] })).toThrow(/'Ireland' is not a Region name/);
  });

  test('an alarm topic named like the on-call topic: alarms would depend on the topic they report on', () => {
    expect(build({ alarmTopicName: 'registry-guard-on-call' })).toThrow(
      /Hub: alarmTopicName and onCallTopicName are both 'registry-guard-on-call'/,
    );
    expect(build({ onCallTopicName: 'pager', alarmTopicName: 'pager' })).toThrow(
      /alarmTopicName and onCallTopicName are both 'pager'/,
    );
  });

  test('report mode with account-level enforcement', () => {
    expect(build({ guard: { mode: GuardMode.REPORT } })).toThrow(
      /enforceAccountBlockPublicAccess needs mode 'remediate'/,
    );
  });

  test('each refusal is the kit validation error, carrying the path of the construct that refused', () => {
    const refusals: [() => unknown, string][] = [
      [build({}, {}), 'Org/Guardrails'],
      [build({ organizationId: 'my-org' }), 'Org/Guardrails'],
      [build({ organizationalUnits: [] }), 'Org/Guardrails'],
      [build({ regions: ['Ireland'] }), 'Org/Guardrails'],
      [build({ alarmTopicName: 'registry-guard-on-call' }), 'Org/Guardrails/Hub'],
      [build({ guard: { mode: GuardMode.REPORT } }), 'PublicAccessGuard'],
    ];
    for (const [refused, pathEnd] of refusals) {
      expect(validationErrorOf(refused).constructPath.endsWith(pathEnd)).toBe(true);
    }
  });

  test('report mode without enforcement is fine', () => {
    expect(
      build({ guard: { mode: GuardMode.REPORT }, enforceAccountBlockPublicAccess: false }),
    ).not.toThrow();
  });
});
