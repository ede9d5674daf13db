/**
 * PublicAccessGuard: deploys the drift guard (lib/remediation) into an account. An AWS Config custom rule
 * and an EventBridge rule on CloudTrail both invoke one Lambda that closes buckets that drifted public.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnElement, CustomResource, Duration, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as config from 'aws-cdk-lib/aws-config';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaNodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE,
  GUARD_MARKER_METADATA_KEY,
  GUARD_MARKER_METADATA_VALUE,
} from './classification';
import { SensitiveRegistryBucket } from './sensitive-registry-bucket';

/** What the guard does with a bucket it finds public. */
export type GuardMode = 'remediate' | 'report';

/** The CloudTrail events of the seconds-level fast path (CloudTrail's names, not the SDK's). */
export const GUARDED_API_CALLS = [
  'CreateBucket',
  'PutBucketPolicy',
  'PutBucketAcl',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
  'PutBucketOwnershipControls',
  'PutAccountPublicAccessBlock',
  'DeleteAccountPublicAccessBlock',
] as const;

/** The CloudWatch namespace and metric of remediations, counted from the handler's logs. */
export const REMEDIATION_METRIC = { namespace: 'RegistryGuard', metricName: 'BucketsRemediated' } as const;

/** Properties of a {@link PublicAccessGuard}. */
export interface PublicAccessGuardProps {
  /**
   * `remediate` closes public buckets; `report` judges, evaluates and notifies but changes nothing.
   * @default 'remediate'
   */
  readonly mode?: GuardMode;

  /**
   * How often the Config rule sweeps every bucket of the account, on top of change-triggered evaluations.
   * @default config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS
   */
  readonly sweepFrequency?: config.MaximumExecutionFrequency;

  /**
   * On-call topic. A supplied topic encrypted with KMS must let `cloudwatch.amazonaws.com` use its key,
   * or the alarms cannot publish to it.
   * @default a new topic encrypted with a new customer-managed key
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * Where the guard backs up every policy and ACL before it rewrites them, and keeps its remediation history.
   * @default a new SensitiveRegistryBucket: backups are as protected as the registries
   */
  readonly evidenceBucket?: SensitiveRegistryBucket;

  /**
   * Reserved concurrency of the function: enough for bursts of CloudTrail events, bounded so a storm of
   * events cannot starve the account's other functions.
   * @default 10
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Trace invocations with AWS X-Ray.
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * The alarm on remediations fires when at least this many buckets are remediated within one hour: one
   * remediation is already notified by the handler itself; many mean something keeps opening buckets.
   * @default 5
   */
  readonly remediationAlarmThreshold?: number;

  /**
   * Name of the Config rule.
   * @default 'registry-guard-public-access'
   */
  readonly configRuleName?: string;

  /**
   * Create an AWS Config configuration recorder (recording `AWS::S3::Bucket` only) and a delivery channel to a
   * new SensitiveRegistryBucket. An account and region hold at most one recorder: leave this off where one
   * exists already (Control Tower and most landing zones create one), and make sure it records S3 buckets.
   * @default false
   */
  readonly createConfigRecorder?: boolean;

  /**
   * Turn on all four account-level Block Public Access settings when the stack deploys, through a custom
   * resource served by the guard's own handler: the previous setting is read and kept as evidence first, a
   * setting already on (or managed by an AWS Organizations S3 policy) is left alone, and deleting the stack
   * never turns anything off. Needs `mode: 'remediate'`. Buckets that are meant to be public (websites) stop
   * being public: move them behind CloudFront first.
   * @default false
   */
  readonly enforceAccountBlockPublicAccess?: boolean;
}

/**
 * The drift guard, in three lines of CDK. AWS Config recording of `AWS::S3::Bucket` must be on in the
 * account and region (the guard does not create a configuration recorder), and a CloudTrail trail must
 * record management events for the EventBridge fast path.
 *
 * @example
 * new PublicAccessGuard(stack, 'Guard');                      // remediate, new topic and evidence bucket
 * new PublicAccessGuard(stack, 'Guard', { mode: 'report' });  // watch only
 */
export class PublicAccessGuard extends Construct {
  /** The guard's Lambda function. */
  readonly handler: lambda.IFunction;
  /** The AWS Config custom rule (built from L1: CDK's CustomRule would attach AWSConfigRulesExecutionRole). */
  readonly configRule: config.CfnConfigRule;
  /** The EventBridge rule on CloudTrail API calls: the fast path. */
  readonly apiCallRule: events.Rule;
  /** Where on-call notices and alarms go. */
  readonly notificationTopic: sns.ITopic;
  /** Where backups and the remediation history are kept. */
  readonly evidenceBucket: SensitiveRegistryBucket;
  /** Failed asynchronous invocations land here. */
  readonly deadLetterQueue: sqs.Queue;
  /** Alarms on handler errors, dead letters and remediation storms, all wired to the topic. */
  readonly alarms: cloudwatch.Alarm[];
  /** The configuration recorder, when `createConfigRecorder` is on. */
  readonly configRecorder?: config.CfnConfigurationRecorder;
  /** The custom resource that turns on account-level Block Public Access, when `enforceAccountBlockPublicAccess` is on. */
  readonly accountBlockPublicAccess?: CustomResource;
  /** The key of the topic the guard created; undefined for a supplied topic. */
  private topicKey?: kms.Key;

  constructor(scope: Construct, id: string, props: PublicAccessGuardProps = {}) {
    super(scope, id);
    const mode = props.mode ?? 'remediate';
    if (mode !== 'remediate' && mode !== 'report') {
      throw new Error(
        `PublicAccessGuard ${this.node.path}: mode must be 'remediate' or 'report', not '${String(mode)}'.`,
      );
    }
    if (props.enforceAccountBlockPublicAccess === true && mode !== 'remediate') {
      throw new Error(
        `PublicAccessGuard ${this.node.path}: enforceAccountBlockPublicAccess needs mode 'remediate': in report mode the guard changes nothing. Instead, leave enforceAccountBlockPublicAccess off while reporting.`,
      );
    }
    const concurrency = props.reservedConcurrentExecutions ?? 10;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(
        `PublicAccessGuard ${this.node.path}: reservedConcurrentExecutions must be a positive integer.`,
      );
    }

    this.notificationTopic = props.notificationTopic ?? this.renderTopic();
    this.evidenceBucket = props.evidenceBucket ?? new SensitiveRegistryBucket(this, 'Evidence');
    this.deadLetterQueue = this.renderDeadLetterQueue();

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = this.renderRole(logGroup);
    const guardFunction = new lambdaNodejs.NodejsFunction(this, 'Handler', {
      description: 'registry-guard: closes S3 buckets that drifted to public access',
      entry: handlerEntry(),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      // A scheduled sweep reads every bucket of the account.
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: concurrency,
      deadLetterQueue: this.deadLetterQueue,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      role,
      logGroup,
      environment: {
        GUARD_MODE: mode,
        EVIDENCE_BUCKET: this.evidenceBucket.bucket.bucketName,
        NOTIFY_TOPIC_ARN: this.notificationTopic.topicArn,
        POWERTOOLS_SERVICE_NAME: 'registry-guard',
      },
      bundling: {
        minify: true,
        sourceMap: false,
        target: 'node22',
        format: lambdaNodejs.OutputFormat.CJS,
        // Bundle the AWS SDK: the handler is tested against the versions in package-lock.json.
        bundleAwsSDK: true,
        externalModules: [],
      },
    });
    this.handler = guardFunction;
    this.grantHandlerPermissions(role);
    this.acknowledgeInherentFindings(role, guardFunction);

    this.configRule = this.renderConfigRule(
      guardFunction,
      props.configRuleName ?? 'registry-guard-public-access',
      props.sweepFrequency ?? config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS,
    );
    if (props.createConfigRecorder === true) {
      this.configRecorder = this.renderConfigRecorder();
      // A custom rule cannot be created before the account records configuration.
      this.configRule.addResourceDependency(this.configRecorder);
    }

    if (props.enforceAccountBlockPublicAccess === true) {
      this.accountBlockPublicAccess = new CustomResource(this, 'AccountBlockPublicAccess', {
        serviceToken: guardFunction.functionArn,
        resourceType: ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE,
      });
      // The handler writes evidence before it changes anything: its bucket and grants must exist first.
      this.accountBlockPublicAccess.node.addDependency(this.evidenceBucket);
    }

    this.apiCallRule = new events.Rule(this, 'ApiCallRule', {
      description: 'registry-guard fast path: S3 API calls that can open a bucket',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: { eventSource: ['s3.amazonaws.com'], eventName: [...GUARDED_API_CALLS] },
      },
      targets: [
        new targets.LambdaFunction(guardFunction, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });

    this.alarms = this.renderAlarms(guardFunction, logGroup, props.remediationAlarmThreshold ?? 5);
  }

  /**
   * The Config rule, triggered by configuration changes to buckets and periodically for the sweep. Only
   * config.amazonaws.com of this account may invoke the function; the function needs no Config read access.
   */
  private renderConfigRule(
    guardFunction: lambda.Function,
    ruleName: string,
    frequency: config.MaximumExecutionFrequency,
  ): config.CfnConfigRule {
    const permission = new lambda.CfnPermission(this, 'ConfigInvokePermission', {
      action: 'lambda:InvokeFunction',
      functionName: guardFunction.functionArn,
      principal: 'config.amazonaws.com',
      sourceAccount: Stack.of(this).account,
    });
    const rule = new config.CfnConfigRule(this, 'ConfigRule', {
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
   * Opt-in: a recorder for S3 buckets and a delivery channel to an encrypted registry bucket. The recorder's
   * role uses AWS_ConfigRole, the policy AWS documents for recorders.
   */
  private renderConfigRecorder(): config.CfnConfigurationRecorder {
    const delivery = new SensitiveRegistryBucket(this, 'ConfigDelivery');
    const role = new iam.Role(this, 'ConfigRecorderRole', {
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
        resources: [delivery.bucket.arnForObjects(`AWSLogs/${Stack.of(this).account}/Config/*`)],
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
    const deliveryObjects = Stack.of(this).getLogicalId(delivery.bucket.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${deliveryObjects}.Arn>/AWSLogs/<AWS::AccountId>/Config/*]`,
      reason:
        'Config writes one snapshot object per delivery under its documented prefix; nothing else is granted.',
    });
    const recorder = new config.CfnConfigurationRecorder(this, 'ConfigRecorder', {
      roleArn: role.roleArn,
      recordingGroup: {
        allSupported: false,
        includeGlobalResourceTypes: false,
        resourceTypes: ['AWS::S3::Bucket'],
      },
    });
    const channel = new config.CfnDeliveryChannel(this, 'ConfigDeliveryChannel', {
      s3BucketName: delivery.bucket.bucketName,
      s3KmsKeyArn: delivery.encryptionKey.keyArn,
    });
    channel.addResourceDependency(recorder);
    return recorder;
  }

  private renderTopic(): sns.Topic {
    const key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the registry-guard on-call topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch publishes the alarms to this topic, so it needs the topic's key.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topicKey = key;
    return new sns.Topic(this, 'Topic', {
      displayName: 'registry-guard on-call',
      masterKey: key,
      enforceSSL: true,
    });
  }

  private renderDeadLetterQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue of the guard; a dead-letter queue of its own would only move the problem.',
    });
    return queue;
  }

  private renderRole(logGroup: logs.LogGroup): iam.Role {
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'registry-guard drift guard: reads and closes public S3 buckets',
    });
    // An organization's on-call topic lets only roles carrying this tag publish to it.
    Tags.of(role).add(GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE);
    // Written inline instead of AWSLambdaBasicExecutionRole: only this function's log group.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    return role;
  }

  private grantHandlerPermissions(role: iam.Role): void {
    const partition = Stack.of(this).partition;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadAndCloseBuckets',
        actions: [
          's3:GetBucketPolicy',
          's3:PutBucketPolicy',
          's3:DeleteBucketPolicy',
          's3:GetBucketAcl',
          's3:PutBucketAcl',
          's3:GetBucketPublicAccessBlock',
          's3:PutBucketPublicAccessBlock',
          's3:GetBucketTagging',
          's3:GetBucketOwnershipControls',
        ],
        // Any bucket of the account can drift: bucket ARNs carry no account, so this is every bucket the
        // role's account owns or is granted, and no object.
        resources: [`arn:${partition}:s3:::*`],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AccountLevelCalls',
        // ListAllMyBuckets, the account's Block Public Access and PutEvaluations accept no resource ARN.
        actions: [
          's3:ListAllMyBuckets',
          's3:GetAccountPublicAccessBlock',
          's3:PutAccountPublicAccessBlock',
          'config:PutEvaluations',
        ],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteEvidence',
        actions: ['s3:PutObject'],
        resources: [this.evidenceBucket.bucket.arnForObjects('*')],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRemediationHistory',
        actions: ['s3:ListBucket'],
        resources: [this.evidenceBucket.bucket.bucketArn],
      }),
    );
    this.evidenceBucket.encryptionKey.grant(role, 'kms:GenerateDataKey');
    if (this.topicKey === undefined) {
      this.notificationTopic.grantPublish(role);
    } else {
      // Exactly what publishing to an encrypted topic needs, instead of grantPublish's kms:GenerateDataKey*.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'NotifyOnCall',
          actions: ['sns:Publish'],
          resources: [this.notificationTopic.topicArn],
        }),
      );
      this.topicKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
  }

  /** AwsSolutions findings that follow from what the guard must do, each with the reason. */
  private acknowledgeInherentFindings(role: iam.Role, guardFunction: lambda.Function): void {
    const acknowledge = (scope: Construct, id: string, reason: string): void =>
      Validations.of(scope).acknowledge({ id, reason });
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::*]',
      'Any bucket of the account can drift public, so bucket-level reads and closes apply to every bucket ARN; no object-level action is granted.',
    );
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'ListAllMyBuckets, Get/PutAccountPublicAccessBlock and config:PutEvaluations accept no resource ARN.',
    );
    const stack = Stack.of(this);
    if (Stack.of(this.evidenceBucket) === stack) {
      const evidenceId = stack.getLogicalId(this.evidenceBucket.bucket.node.defaultChild as CfnElement);
      acknowledge(
        role,
        `AwsSolutions-IAM5[Resource::<${evidenceId}.Arn>/*]`,
        'Evidence keys are <bucket>/<timestamp>-<id>.json, one per change: the guard writes new objects only (PutObject, no read or delete).',
      );
    }
    acknowledge(
      guardFunction,
      'AwsSolutions-L1',
      'The handler is built and tested for Node.js 22 (esbuild target node22); move both together.',
    );
  }

  private renderAlarms(
    guardFunction: lambda.Function,
    logGroup: logs.LogGroup,
    threshold: number,
  ): cloudwatch.Alarm[] {
    const remediations = new logs.MetricFilter(this, 'RemediationsMetric', {
      logGroup,
      filterPattern: logs.FilterPattern.booleanValue('$.remediated', true),
      metricNamespace: REMEDIATION_METRIC.namespace,
      metricName: REMEDIATION_METRIC.metricName,
      metricValue: '1',
      defaultValue: 0,
    });
    const alarms = [
      new cloudwatch.Alarm(this, 'HandlerErrors', {
        alarmDescription:
          'registry-guard: the drift guard failed. Buckets may stay public until it is fixed.',
        metric: guardFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'DeadLettersWaiting', {
        alarmDescription:
          'registry-guard: events the guard could not handle are waiting in its dead-letter queue.',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'RemediationStorm', {
        alarmDescription: `registry-guard: ${threshold} or more buckets remediated within an hour. Something keeps opening buckets.`,
        metric: remediations.metric({ period: Duration.hours(1), statistic: 'Sum' }),
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    const notify = new cloudwatchActions.SnsAction(this.notificationTopic);
    for (const alarm of alarms) alarm.addAlarmAction(notify);
    return alarms;
  }
}

/** The handler's source when run from this repository, its compiled form when installed from npm. */
function handlerEntry(): string {
  const typescript = path.join(__dirname, 'remediation', 'index.ts');
  return fs.existsSync(typescript) ? typescript : path.join(__dirname, 'remediation', 'index.js');
}
