/**
 * The guard's AWS Config custom rule, which evaluates every bucket on change and on a schedule, and the
 * optional configuration recorder for accounts that do not record S3 buckets yet.
 */
import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE } from '../classification';
import { SensitiveRegistryBucket } from '../sensitive-registry-bucket';

/**
 * Creates the Config rule (construct id `ConfigRule`), triggered by configuration changes to buckets and
 * periodically for the sweep. Built from L1: CDK's CustomRule would attach AWSConfigRulesExecutionRole,
 * while the function needs no Config read access. Only config.amazonaws.com of this account may invoke the
 * function (construct id `ConfigInvokePermission`).
 *
 * @example
 * const configRule = renderConfigRule(this, guardFunction, 'registry-guard-public-access', frequency);
 */
export function renderConfigRule(
  guard: Construct,
  guardFunction: lambda.IFunction,
  ruleName: string,
  frequency: config.MaximumExecutionFrequency,
): config.CfnConfigRule {
  const permission = new lambda.CfnPermission(guard, 'ConfigInvokePermission', {
    action: 'lambda:InvokeFunction',
    functionName: guardFunction.functionArn,
    principal: 'config.amazonaws.com',
    sourceAccount: Stack.of(guard).account,
  });
  const rule = new config.CfnConfigRule(guard, 'ConfigRule', {
    configRuleName: ruleName,
    description:
      'S3 buckets must not be public; registry buckets must keep all Block Public Access settings on.',
    scope: { complianceResourceTypes: ['AWS::S3::Bucket'] },
    source: {
      owner: 'CUSTOM_LAMBDA',
      sourceIdentifier: guardFunction.functionArn,
      sourceDetails: [
        { eventSource: 'aws.config', messageType: 'ConfigurationItemChangeNotification' },
        { eventSource: 'aws.config', messageType: 'OversizedConfigurationItemChangeNotification' },
        {
          eventSource: 'aws.config',
          messageType: 'ScheduledNotification',
          maximumExecutionFrequency: frequency,
        },
      ],
    },
  });
  rule.addResourceDependency(permission);
  rule.addMetadata(GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE);
  return rule;
}

/**
 * Creates the opt-in recorder (construct id `ConfigRecorder`) for S3 buckets only, and a delivery channel to
 * an encrypted registry bucket. The recorder's role uses AWS_ConfigRole, the policy AWS documents for
 * recorders, and may write snapshots only under Config's own prefix of the delivery bucket.
 *
 * @example
 * const recorder = renderConfigRecorder(this);
 * configRule.addResourceDependency(recorder); // a custom rule needs a recording account
 */
export function renderConfigRecorder(guard: Construct): config.CfnConfigurationRecorder {
  const stack = Stack.of(guard);
  const delivery = new SensitiveRegistryBucket(guard, 'ConfigDelivery');
  const role = new iam.Role(guard, 'ConfigRecorderRole', {
    assumedBy: new iam.ServicePrincipal('config.amazonaws.com'),
    description: 'registry-guard: AWS Config recorder for S3 buckets',
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWS_ConfigRole')],
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]',
    reason:
      'AWS_ConfigRole is the policy AWS documents for configuration recorders: it follows new resource types.',
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeliverSnapshots',
      actions: ['s3:PutObject'],
      resources: [delivery.bucket.arnForObjects(`AWSLogs/${stack.account}/Config/*`)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'CheckDeliveryBucket',
      actions: ['s3:GetBucketAcl'],
      resources: [delivery.bucket.bucketArn],
    }),
  );
  delivery.encryptionKey.grant(role, 'kms:GenerateDataKey');
  const deliveryObjects = stack.getLogicalId(delivery.bucket.node.defaultChild as CfnElement);
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${deliveryObjects}.Arn>/AWSLogs/<AWS::AccountId>/Config/*]`,
    reason:
      'Config writes one snapshot object per delivery under its documented prefix; nothing else is granted.',
  });
  const recorder = new config.CfnConfigurationRecorder(guard, 'ConfigRecorder', {
    roleArn: role.roleArn,
    recordingGroup: {
      allSupported: false,
      includeGlobalResourceTypes: false,
      resourceTypes: ['AWS::S3::Bucket'],
    },
  });
  const channel = new config.CfnDeliveryChannel(guard, 'ConfigDeliveryChannel', {
    s3BucketName: delivery.bucket.bucketName,
    s3KmsKeyArn: delivery.encryptionKey.keyArn,
  });
  channel.addResourceDependency(recorder);
  return recorder;
}
