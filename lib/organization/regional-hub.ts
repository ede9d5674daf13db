/**
 * What the management account keeps in each Region the organization is guarded in: the bucket that
 * serves the guard's code to member accounts (Lambda reads code only from a bucket in its own Region), the
 * on-call topic member accounts' guards send notices to, and the alarm topic their CloudWatch alarms publish
 * to (CloudWatch alarms publish only to a topic in their Region).
 */
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE } from '../classification';
import { tieKeyToServices } from '../key-policy';
import { RegistryGuardValidationError } from '../errors';
import { LOCKED_DOWN_BUCKET_ACCESS } from '../locked-down-bucket';

/** The on-call topic's name in every guarded Region, unless chosen otherwise. */
export const DEFAULT_ON_CALL_TOPIC_NAME = 'registry-guard-on-call';

/** The alarm topic's name in every guarded Region, unless chosen otherwise. */
export const DEFAULT_ALARM_TOPIC_NAME = 'registry-guard-alarms';

const CLOUDWATCH_SERVICE = 'cloudwatch.amazonaws.com';

/** Properties of an {@link OrganizationRegionalHub}. */
export interface OrganizationRegionalHubProps {
  /** The organization whose accounts may read the guard's code and publish to the topic (`o-` and 10 to 32 characters). */
  readonly organizationId: string;
  /**
   * The asset bucket's name is `${assetBucketPrefix}-${region}`: the name member stacks compute in each Region.
   */
  readonly assetBucketPrefix: string;
  /**
   * The on-call topic's name: member stacks address it by name, so it is the same in every Region.
   * @default 'registry-guard-on-call'
   */
  readonly onCallTopicName?: string;
  /**
   * The alarm topic's name: member stacks address it by name, so it is the same in every Region. Must differ
   * from `onCallTopicName`.
   * @default 'registry-guard-alarms'
   */
  readonly alarmTopicName?: string;
}

/**
 * The asset bucket, the on-call topic and the alarm topic of one Region, in the management (or delegated
 * administrator) account. `OrganizationGuardrails` creates one per guarded Region; you rarely need one
 * directly.
 *
 * Only principals of the organization may read the code; only guard handlers of the organization (roles
 * tagged `registry-guard:component=PublicAccessGuard`) and CloudWatch alarms of the organization's accounts
 * may publish to the on-call topic, and only through SNS may they use its key. The alarm topic has a key of
 * its own and admits CloudWatch alarms of the organization's accounts only: when the on-call topic or its
 * key fails (deleted, disabled, a policy gone wrong), the alarms that say the guard is broken still arrive.
 *
 * @example
 * const hub = new OrganizationRegionalHub(stack, 'Hub', {
 *   organizationId: 'o-exampleorgid',
 *   assetBucketPrefix: 'registry-guard-assets-111111111111',
 * });
 * hub.onCallTopic.addSubscription(new subscriptions.EmailSubscription('on-call@example.gov'));
 * hub.alarmTopic.addSubscription(new subscriptions.SmsSubscription('+15555550100'));
 */
export class OrganizationRegionalHub extends Construct {
  /** Serves the guard's bundled code and the StackSet's assets to member accounts of this Region. */
  readonly assetBucket: s3.Bucket;
  /** Where every member account's guard of this Region sends on-call notices. */
  readonly onCallTopic: sns.Topic;
  /** Encrypts the on-call topic. */
  readonly onCallTopicKey: kms.Key;
  /** Where every member account's CloudWatch alarms of this Region go: independent of the on-call topic and its key. */
  readonly alarmTopic: sns.Topic;
  /** Encrypts the alarm topic; not the on-call topic's key, so revoking one leaves the other working. */
  readonly alarmTopicKey: kms.Key;

  constructor(scope: Construct, id: string, props: OrganizationRegionalHubProps) {
    super(scope, id);
    validateOrganizationId('OrganizationRegionalHub', this, props.organizationId);
    const stack = Stack.of(this);
    const onCallTopicName = props.onCallTopicName ?? DEFAULT_ON_CALL_TOPIC_NAME;
    const alarmTopicName = props.alarmTopicName ?? DEFAULT_ALARM_TOPIC_NAME;
    if (onCallTopicName === alarmTopicName) {
      throw new RegistryGuardValidationError(
        'OrganizationRegionalHub',
        this,
        `alarmTopicName and onCallTopicName are both '${alarmTopicName}'. Give the alarm topic a name of its own: alarms must not depend on the on-call topic.`,
      );
    }
    if (Token.isUnresolved(stack.region)) {
      throw new RegistryGuardValidationError(
        'OrganizationRegionalHub',
        this,
        `the stack needs a concrete region (env: { account, region }): the asset bucket's name ends with it.`,
      );
    }
    this.assetBucket = this.renderAssetBucket(
      props.organizationId,
      `${props.assetBucketPrefix}-${stack.region}`,
    );
    this.onCallTopicKey = this.renderTopicKey(props.organizationId);
    this.onCallTopic = this.renderTopic(props.organizationId, onCallTopicName);
    this.alarmTopicKey = this.renderAlarmTopicKey(props.organizationId);
    this.alarmTopic = this.renderAlarmTopic(props.organizationId, alarmTopicName);
  }

  private renderAssetBucket(organizationId: string, bucketName: string): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Assets', {
      bucketName,
      // Code, not data: SSE-S3 lets every member account's CloudFormation read it without a key grant.
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...LOCKED_DOWN_BUCKET_ACCESS,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationReadsGuardCode',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
      }),
    );
    this.logAssetReads(bucket);
    return bucket;
  }

  /**
   * Every account of the organization may read the guard's code, and CloudTrail records object reads only
   * when data events are on: server access logs record each read, by whom and from where, at no extra
   * charge but storage. Delivered by bucket policy to a log bucket as locked down as the assets.
   */
  private logAssetReads(assets: s3.Bucket): void {
    const stack = Stack.of(this);
    const accessLogs = new s3.Bucket(this, 'AssetAccessLogs', {
      // S3 server access log delivery supports only SSE-S3 on the target bucket (docs/rules.md quotes the
      // S3 User Guide).
      encryption: s3.BucketEncryption.S3_MANAGED,
      ...LOCKED_DOWN_BUCKET_ACCESS,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const prefix = 'asset-access-logs/';
    (assets.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: accessLogs.bucketName,
      logFilePrefix: prefix,
    };
    accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AssetBucketLogDelivery',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [accessLogs.arnForObjects(`${prefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': assets.bucketArn },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
  }

  private renderTopicKey(organizationId: string): kms.Key {
    const stack = Stack.of(this);
    const key = new kms.Key(this, 'OnCallTopicKey', {
      description: 'Encrypts the registry-guard on-call topic of the organization',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // SNS encrypts each message with the publisher's rights: guard handlers of member accounts need the key,
    // but only through SNS in this Region.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationGuardsPublish',
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'aws:PrincipalOrgID': organizationId,
            'kms:ViaService': `sns.${stack.region}.${stack.urlSuffix}`,
          },
        },
      }),
    );
    key.addToResourcePolicy(
      organizationAlarmsPublish(organizationId, ['kms:GenerateDataKey*', 'kms:Decrypt'], '*'),
    );
    tieKeyToServices(key, ['sns']);
    return key;
  }

  private renderTopic(organizationId: string, topicName: string): sns.Topic {
    const topic = new sns.Topic(this, 'OnCallTopic', {
      topicName,
      displayName: 'registry-guard on-call (organization)',
      masterKey: this.onCallTopicKey,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationGuardsPublish',
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: {
            'aws:PrincipalOrgID': organizationId,
            [`aws:PrincipalTag/${GUARD_MARKER_METADATA_KEY}`]: GUARD_MARKER_METADATA_VALUE,
          },
        },
      }),
    );
    topic.addToResourcePolicy(organizationAlarmsPublish(organizationId, ['sns:Publish'], topic.topicArn));
    return topic;
  }

  /** The alarm topic's own key: only CloudWatch alarms of the organization's accounts publish to its topic. */
  private renderAlarmTopicKey(organizationId: string): kms.Key {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the registry-guard alarm topic of the organization',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      organizationAlarmsPublish(organizationId, ['kms:GenerateDataKey*', 'kms:Decrypt'], '*'),
    );
    tieKeyToServices(key, ['sns']);
    return key;
  }

  /**
   * The alarm topic admits the organization's CloudWatch alarms, as the on-call topic does, and nothing else:
   * guard handlers never publish alarms, so a member's role cannot forge or flood them.
   */
  private renderAlarmTopic(organizationId: string, topicName: string): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      topicName,
      displayName: 'registry-guard alarms (organization)',
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
    topic.addToResourcePolicy(organizationAlarmsPublish(organizationId, ['sns:Publish'], topic.topicArn));
    return topic;
  }
}

/**
 * CloudWatch may use a topic or its key for alarms of the organization's accounts only: alarms publish
 * with CloudWatch's rights, and `aws:SourceOrgID` names the organization of the alarm's account.
 */
function organizationAlarmsPublish(
  organizationId: string,
  actions: string[],
  resource: string,
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'OrganizationAlarmsPublish',
    principals: [new iam.ServicePrincipal(CLOUDWATCH_SERVICE)],
    actions,
    resources: [resource],
    conditions: { StringEquals: { 'aws:SourceOrgID': organizationId } },
  });
}

/** Organization ids are `o-` followed by 10 to 32 lower-case letters or digits. */
export function validateOrganizationId(
  constructKind: string,
  scope: Construct,
  organizationId: string,
): void {
  if (Token.isUnresolved(organizationId) || !/^o-[a-z0-9]{10,32}$/.test(organizationId)) {
    throw new RegistryGuardValidationError(
      constructKind,
      scope,
      `organizationId must be an AWS Organizations id such as 'o-a1b2c3d4e5' (aws organizations describe-organization), not '${organizationId}'.`,
    );
  }
}
