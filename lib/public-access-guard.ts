/**
 * PublicAccessGuard: deploys the drift guard (lib/remediation) into an account. An AWS Config custom rule
 * and an EventBridge rule on CloudTrail both invoke one Lambda that closes buckets that drifted public; the
 * Config rule's periodic sweep fans out to the same Lambda through an SQS queue.
 *
 * This file wires the parts; each part is built in lib/guard/ (topics, the function and its role, evidence
 * protection, triggers, the sweep queue, alarms, props validation). Every part is created in this construct's
 * scope with the construct ids earlier versions used, so logical ids, and with them deployed resources, stay
 * the same.
 */
import { CustomResource, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as config from 'aws-cdk-lib/aws-config';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE } from './classification';
import { renderAlarms } from './guard/alarms';
import { renderApiCallRule, renderObjectAclRules } from './guard/api-call-rule';
import { renderConfigRecorder, renderConfigRule } from './guard/config-rule';
import { protectEvidence, renderEvidenceBucket } from './guard/evidence-protection';
import {
  renderDeadLetterQueue,
  renderEnvironment,
  renderHandlerFunction,
  renderLogGroup,
} from './guard/handler-function';
import { acknowledgeRoleFindings, grantHandlerPermissions, renderHandlerRole } from './guard/handler-role';
import { DEFAULT_REMEDIATION_ALARM_THRESHOLD, sweepConcurrencyOf, validateGuardProps } from './guard/props';
import { renderSweepConsumer, renderSweepQueue, sweepQueueArn } from './guard/sweep-queue';
import { renderAlarmTopic, renderNoticeTopic, restrictPublishers } from './guard/topics';
import { GuardMode } from './guard-facts';
import { RegistryObjectLock, SensitiveRegistryBucket } from './sensitive-registry-bucket';

export { REMEDIATION_METRIC } from './guard/alarms';

/**
 * What a guard may be tuned with, in one account or, through `OrganizationGuardrailsProps.guard`, in every
 * member account of an organization.
 */
export interface PublicAccessGuardOptions {
  /**
   * `remediate` closes public buckets; `report` judges, evaluates and notifies but changes nothing. In
   * `report` mode the function's role can read buckets but cannot change any bucket, the account's Block
   * Public Access or the evidence bucket.
   * @default GuardMode.REMEDIATE
   */
  readonly mode?: GuardMode;

  /**
   * How often the Config rule sweeps every bucket of the account, on top of change-triggered evaluations.
   * @default config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS
   */
  readonly sweepFrequency?: config.MaximumExecutionFrequency;

  /**
   * Object Lock of the evidence bucket the guard creates: each evidence version is locked this long.
   * Not allowed with a supplied `evidenceBucket`, whose Object Lock is set where it is created.
   * @default { mode: s3.ObjectLockMode.GOVERNANCE, retention: Duration.days(365) }
   */
  readonly evidenceObjectLock?: RegistryObjectLock;

  /**
   * The only principal that may change the evidence bucket's versioning, lifecycle or Object Lock
   * configuration, delete object versions, or change or bypass an object's retention or legal hold. These are
   * denied to everyone else by the evidence bucket's policy, CloudFormation's deployment role included:
   * changing the evidence bucket's lifecycle or versioning through the stack then needs a deployment under
   * this role (or a reviewed change of the bucket policy, which CloudTrail records and the guard watches).
   * @default none: those actions are denied to every principal
   */
  readonly breakGlassRole?: iam.IRole;

  /**
   * Reserved concurrency of the function: enough for bursts of CloudTrail events and a sweep's batches
   * (`sweepConcurrency` of them), bounded so a storm of events cannot starve the account's other functions.
   * @default 10
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * How many sweep batches the function works on at once: the most invocations the sweep queue's event
   * source starts. A whole number from 2 to 1,000, lower than `reservedConcurrentExecutions`, so that events
   * of the fast path always find an invocation free during a sweep.
   * @default 5, or one less than `reservedConcurrentExecutions` when that is 5 or lower
   */
  readonly sweepConcurrency?: number;

  /**
   * Trace invocations with AWS X-Ray.
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * The alarm on remediations fires when at least this many buckets are remediated within one hour: one
   * remediation is already notified by the handler itself; many mean something keeps opening buckets. Each
   * incident counts once, however many events saw it. A whole number from 1 to 10,000.
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
   * The longest an exemption tag may hold, in days from the day the guard first sees it: a whole number from
   * 1 to 3650.
   * @default 90
   */
  readonly maxExemptionDays?: number;

  /**
   * Buckets a human releases from registry status through the deployment. Once seen as a registry, a bucket
   * stays one for the guard even when its classification tag is removed; only a name listed here (a change
   * that is reviewed and recorded like any deployment) makes it ordinary again. Bucket names, not ARNs.
   * @default none
   */
  readonly releasedRegistryBuckets?: string[];

  /**
   * Events for one bucket and one observed state within this window are one incident: one page, not twenty.
   * From one minute to 24 hours, in whole seconds.
   * @default Duration.minutes(15)
   */
  readonly incidentWindow?: Duration;

  /**
   * The organization (`o-...`) a registry's policy may grant when a condition confines the grant to it
   * (`aws:PrincipalOrgID`): with it, such grants are inside the registry's zone of trust. Any other grant
   * outside the zone is NON_COMPLIANT and paged as EXTERNAL ACCESS, and never removed by the guard.
   * @default none: the zone is the account (and `trustedAccountIds`)
   */
  readonly trustedOrganizationId?: string;

  /**
   * Accounts a registry's policy may grant besides the guard's own (12-digit ids).
   * @default none
   */
  readonly trustedAccountIds?: string[];

  /**
   * Send each remediation, failed remediation and unverifiable bucket to AWS Security Hub as a finding
   * (`BatchImportFindings`, the account's default product ARN, one finding per bucket and kind), and move a
   * finding's workflow to RESOLVED when the guard later finds its bucket closed (remediate mode: the open
   * findings are remembered in the evidence bucket). Security Hub must be enabled in the account and Region.
   * The role is granted `securityhub:BatchImportFindings` on that product ARN for this account only and, in
   * remediate mode, `securityhub:BatchUpdateFindings` that may only set the workflow to RESOLVED.
   * @default false
   */
  readonly securityHubFindings?: boolean;
}

/**
 * Properties of a {@link PublicAccessGuard}: its tuning, and where its notices, alarms and evidence go (in an
 * organization, `OrganizationGuardrails` chooses those).
 */
export interface PublicAccessGuardProps extends PublicAccessGuardOptions {
  /**
   * Where the guard sends on-call notices. A supplied topic is used as it is: its topic policy and key
   * policy are yours to restrict; the guard's role is granted `sns:Publish` on it (and use of its key, when
   * the topic carries one).
   * @default a new topic encrypted with a new customer-managed key, whose topic policy lets only the guard's
   * role and CloudWatch of this account publish
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * Where the alarms (handler errors, dead letters, a stuck sweep, remediation storms) go: a path to a human
   * that does not depend on the notice topic or its key, so a broken or revoked notice path still raises an
   * alarm. A supplied topic is used as it is: its policies are yours to restrict, and if it is encrypted with
   * KMS its key must let `cloudwatch.amazonaws.com` use it, or the alarms cannot publish.
   * @default a new topic encrypted with its own new customer-managed key (not the notice topic's), whose
   * topic policy lets only CloudWatch of this account publish
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Where the guard backs up every policy and ACL before it rewrites them, and keeps its remediation history
   * and its own records. A supplied bucket is used as it is, apart from the bucket-policy statements that
   * protect evidence (see `breakGlassRole`): give it Object Lock, or its evidence can be destroyed by
   * whoever may change its bucket policy. It must be in the guard's stack (its policy names the guard's
   * role), and nothing but the guard may write to it.
   * @default a new SensitiveRegistryBucket with Object Lock (`evidenceObjectLock`)
   */
  readonly evidenceBucket?: SensitiveRegistryBucket;

  /**
   * Turn on all four account-level Block Public Access settings when the stack deploys, through a custom
   * resource served by the guard's own handler: the previous setting is read and kept as evidence first, a
   * setting already on (or managed by an AWS Organizations S3 policy) is left alone, and deleting the stack
   * never turns anything off. Needs `mode: GuardMode.REMEDIATE`. Buckets that are meant to be public
   * (websites) stop being public: move them behind CloudFront first.
   * @default false
   */
  readonly enforceAccountBlockPublicAccess?: boolean;
}

/**
 * The drift guard, in three lines of CDK. AWS Config recording of `AWS::S3::Bucket` must be on in the
 * account and region (the guard does not create a configuration recorder unless asked), and a CloudTrail
 * trail must record management events for the EventBridge fast path.
 *
 * @example
 * new PublicAccessGuard(stack, 'Guard'); // remediate, new topics and evidence bucket
 * new PublicAccessGuard(stack, 'Guard', { mode: GuardMode.REPORT }); // watch only: the role can change nothing
 */
export class PublicAccessGuard extends Construct {
  /** The guard's Lambda function. */
  readonly handler: lambda.IFunction;
  /** The AWS Config custom rule (built from L1: CDK's CustomRule would attach AWSConfigRulesExecutionRole). */
  readonly configRule: config.CfnConfigRule;
  /** The EventBridge rule on successful CloudTrail API calls: the fast path. */
  readonly apiCallRule: events.Rule;
  /** Where on-call notices go. */
  readonly notificationTopic: sns.ITopic;
  /** Where the alarms go: independent of the notice topic and its key. */
  readonly alarmTopic: sns.ITopic;
  /** Where backups, the remediation history and the guard's own records are kept. */
  readonly evidenceBucket: SensitiveRegistryBucket;
  /** Failed asynchronous invocations, undeliverable fast-path events and sweep batches that kept failing land here. */
  readonly deadLetterQueue: sqs.Queue;
  /** Where a periodic sweep queues its pages and batches of buckets for the function, one message an invocation. */
  readonly sweepQueue: sqs.Queue;
  /** Alarms on handler errors, dead letters, a stuck sweep and remediation storms, all wired to the alarm topic. */
  readonly alarms: cloudwatch.Alarm[];
  /** The configuration recorder, when `createConfigRecorder` is on. */
  readonly configRecorder?: config.CfnConfigurationRecorder;
  /** The custom resource that turns on account-level Block Public Access, when `enforceAccountBlockPublicAccess` is on. */
  readonly accountBlockPublicAccess?: CustomResource;

  constructor(scope: Construct, id: string, props: PublicAccessGuardProps = {}) {
    super(scope, id);
    const mode = props.mode ?? GuardMode.REMEDIATE;
    validateGuardProps(this, props, mode);

    // The order of the calls below is the order of resources and policy statements in the template: keep
    // it, so that the template of an upgrade differs only where the guard changed.
    this.evidenceBucket = props.evidenceBucket ?? renderEvidenceBucket(this, props.evidenceObjectLock);
    const createdNoticeTopic = props.notificationTopic === undefined ? renderNoticeTopic(this) : undefined;
    this.notificationTopic = props.notificationTopic ?? (createdNoticeTopic?.topic as sns.Topic);
    const createdAlarmTopic = props.alarmTopic === undefined ? renderAlarmTopic(this) : undefined;
    this.alarmTopic = props.alarmTopic ?? (createdAlarmTopic?.topic as sns.Topic);
    this.deadLetterQueue = renderDeadLetterQueue(this, sweepQueueArn(this));
    this.sweepQueue = renderSweepQueue(this, this.deadLetterQueue);

    const logGroup = renderLogGroup(this);
    const role = renderHandlerRole(this, logGroup);
    const guardFunction = renderHandlerFunction(this, {
      role,
      logGroup,
      deadLetterQueue: this.deadLetterQueue,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: props.tracing,
      environment: renderEnvironment(props, {
        mode,
        evidenceBucketName: this.evidenceBucket.bucket.bucketName,
        notificationTopicArn: this.notificationTopic.topicArn,
        sweepQueueUrl: this.sweepQueue.queueUrl,
      }),
    });
    this.handler = guardFunction;
    grantHandlerPermissions(role, {
      mode,
      evidenceBucket: this.evidenceBucket,
      notificationTopic: this.notificationTopic,
      noticeTopicKey: createdNoticeTopic?.key,
      securityHubFindings: props.securityHubFindings === true,
    });
    if (createdNoticeTopic !== undefined) restrictPublishers(createdNoticeTopic.topic, role);
    if (createdAlarmTopic !== undefined) restrictPublishers(createdAlarmTopic.topic);
    renderSweepConsumer(this, {
      guardFunction,
      role,
      sweepQueue: this.sweepQueue,
      maxConcurrency: sweepConcurrencyOf(props),
    });
    protectEvidence(this, this.evidenceBucket, role, props.breakGlassRole);
    acknowledgeRoleFindings(role, this.evidenceBucket, mode);

    this.configRule = renderConfigRule(
      this,
      guardFunction,
      props.configRuleName ?? 'registry-guard-public-access',
      props.sweepFrequency ?? config.MaximumExecutionFrequency.TWENTY_FOUR_HOURS,
    );
    if (props.createConfigRecorder === true) {
      this.configRecorder = renderConfigRecorder(this);
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

    this.apiCallRule = renderApiCallRule(this, guardFunction, this.deadLetterQueue);
    renderObjectAclRules(this, guardFunction, this.deadLetterQueue);
    this.alarms = renderAlarms(this, {
      guardFunction,
      logGroup,
      deadLetterQueue: this.deadLetterQueue,
      sweepQueue: this.sweepQueue,
      alarmTopic: this.alarmTopic,
      remediationThreshold: props.remediationAlarmThreshold ?? DEFAULT_REMEDIATION_ALARM_THRESHOLD,
    });
  }
}
