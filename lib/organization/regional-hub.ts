/**
 * What the management account keeps in each Region the organization is guarded in: the bucket that
 * serves the guard's code to member accounts (Lambda reads code only from a bucket in its own Region) and
 * the on-call topic member accounts publish to (CloudWatch alarms publish only to a topic in their Region).
 */
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE } from '../classification';
import { LOCKED_DOWN_BUCKET_ACCESS } from '../locked-down-bucket';

/** The on-call topic's name in every guarded Region, unless chosen otherwise. */
export const DEFAULT_ON_CALL_TOPIC_NAME = 'registry-guard-on-call';

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
   * @default {@link DEFAULT_ON_CALL_TOPIC_NAME}
   */
  readonly onCallTopicName?: string;
}

/**
 * The asset bucket and the on-call topic of one Region, in the management (or delegated administrator)
 * account. `OrganizationGuardrails` creates one per guarded Region; you rarely need one directly.
 *
 * Only principals of the organization may read the code; only guard handlers of the organization (roles
 * tagged `registry-guard:component=PublicAccessGuard`) and CloudWatch alarms of the organization's accounts
 * may publish to the topic, and only through SNS may they use its key.
 *
 * @example
 * const hub = new OrganizationRegionalHub(stack, 'Hub', {
 *   organizationId: 'o-exampleorgid',
 *   assetBucketPrefix: 'registry-guard-assets-111111111111',
 * });
 * hub.onCallTopic.addSubscription(new subscriptions.EmailSubscription('on-call@example.gov'));
 */
export class OrganizationRegionalHub extends Construct {
  /** Serves the guard's bundled code and the StackSet's assets to member accounts of this Region. */
  readonly assetBucket: s3.Bucket;
  /** Where every member account's guard and alarms of this Region send on-call notices. */
  readonly onCallTopic: sns.Topic;
  /** Encrypts the on-call topic. */
  readonly onCallTopicKey: kms.Key;

  constructor(scope: Construct, id: string, props: OrganizationRegionalHubProps) {
    super(scope, id);
    validateOrganizationId(this, props.organizationId);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error(
        `OrganizationRegionalHub ${this.node.path}: the stack needs a concrete region (env: { account, region }): the asset bucket's name ends with it.`,
      );
    }
    this.assetBucket = this.renderAssetBucket(
      props.organizationId,
      `${props.assetBucketPrefix}-${stack.region}`,
    );
    this.onCallTopicKey = this.renderTopicKey(props.organizationId);
    this.onCallTopic = this.renderTopic(
      props.organizationId,
      props.onCallTopicName ?? DEFAULT_ON_CALL_TOPIC_NAME,
    );
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
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only the guard code that StackSets deploy; every read is by the organization and recorded by CloudTrail. Access logs would need a log bucket per Region for no added evidence.',
    });
    return bucket;
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
      new iam.PolicyStatement({
        sid: 'OrganizationAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceOrgID': organizationId } },
      }),
    );
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
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OrganizationAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceOrgID': organizationId } },
      }),
    );
    return topic;
  }
}

/** Organization ids are `o-` followed by 10 to 32 lower-case letters or digits. */
export function validateOrganizationId(scope: Construct, organizationId: string): void {
  if (Token.isUnresolved(organizationId) || !/^o-[a-z0-9]{10,32}$/.test(organizationId)) {
    throw new Error(
      `${scope.node.path}: organizationId must be an AWS Organizations id such as 'o-a1b2c3d4e5' (aws organizations describe-organization), not '${organizationId}'.`,
    );
  }
}
