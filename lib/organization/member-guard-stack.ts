/**
 * The stack a StackSet deploys into every member account and Region: the same `PublicAccessGuard` the
 * single-account app deploys, sending notices to the organization's on-call topic of its Region and alarms
 * to the organization's alarm topic of its Region.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { StackSetStack } from 'cdk-stacksets';
import { Construct } from 'constructs';
import { PublicAccessGuard, PublicAccessGuardOptions } from '../public-access-guard';

/** Properties of a {@link GuardMemberStack}. */
export interface GuardMemberStackProps {
  /** The management (or delegated administrator) account that owns the on-call and alarm topics. */
  readonly hubAccount: string;
  /** The on-call topic's name, the same in every Region. */
  readonly onCallTopicName: string;
  /** The alarm topic's name, the same in every Region. */
  readonly alarmTopicName: string;
  /** One asset bucket per target Region, named `${assetBucketPrefix}-${region}`. */
  readonly assetBuckets: s3.IBucket[];
  /** What the asset buckets' names start with. */
  readonly assetBucketPrefix: string;
  /** Turn on account-level Block Public Access in every member account. */
  readonly enforceAccountBlockPublicAccess: boolean;
  /**
   * The organization the member accounts belong to: a registry's grant confined to it (`aws:PrincipalOrgID`)
   * is inside the registry's zone of trust, unless `guard.trustedOrganizationId` says otherwise.
   */
  readonly organizationId: string;
  /**
   * Tuning of the member accounts' guard; its topics and account-level setting come from the organization.
   * @default the guard's defaults
   */
  readonly guard?: PublicAccessGuardOptions;
}

/**
 * The member template of `OrganizationGuardrails`. Environment-agnostic: account and Region are the stack
 * instance's own. The construct id of the guard is the single-account example's, so logical ids match.
 */
export class GuardMemberStack extends StackSetStack {
  /** The guard, as in a single account. */
  readonly guard: PublicAccessGuard;

  constructor(scope: Construct, id: string, props: GuardMemberStackProps) {
    super(scope, id, { assetBuckets: props.assetBuckets, assetBucketPrefix: props.assetBucketPrefix });
    const onCallTopic = sns.Topic.fromTopicArn(
      this,
      'OrganizationOnCallTopic',
      hubTopicArn(props.hubAccount, props.onCallTopicName),
    );
    // Alarms go to the hub too, where the organization's on-call listens (a topic of the member account's own
    // would have no subscriber), but to a topic of their own under a key of its own: when the on-call topic
    // or its key fails, the alarms that say so must still reach a human. Its key admits CloudWatch of the
    // organization's accounts, so the guard's role needs no grant for it.
    const alarmTopic = sns.Topic.fromTopicArn(
      this,
      'OrganizationAlarmTopic',
      hubTopicArn(props.hubAccount, props.alarmTopicName),
    );
    this.guard = new PublicAccessGuard(this, 'PublicAccessGuard', {
      ...props.guard,
      trustedOrganizationId: props.guard?.trustedOrganizationId ?? props.organizationId,
      notificationTopic: onCallTopic,
      alarmTopic,
      enforceAccountBlockPublicAccess: props.enforceAccountBlockPublicAccess,
    });
    this.grantOnCallTopicKey(props.hubAccount);
  }

  /**
   * The topic's key id is not known to member stacks, so the grant names any key of the hub account, usable
   * only through SNS of this Region; the key's own policy admits only the organization.
   */
  private grantOnCallTopicKey(hubAccount: string): void {
    const role = this.guard.handler.role;
    if (role === undefined) throw new Error('GuardMemberStack: the guard handler has no role');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptOrganizationNotices',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [`arn:${Aws.PARTITION}:kms:${Aws.REGION}:${hubAccount}:key/*`],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Aws.REGION}.${Aws.URL_SUFFIX}` } },
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:kms:<AWS::Region>:${hubAccount}:key/*]`,
      reason:
        "The on-call topic's key lives in the hub account and its id is unknown here: any key of that account, only through SNS; the key policy admits only the organization.",
    });
  }
}

/** A topic of the hub account in the stack instance's own Region, by name: a stack instance cannot import the hub's outputs. */
function hubTopicArn(hubAccount: string, topicName: string): string {
  return `arn:${Aws.PARTITION}:sns:${Aws.REGION}:${hubAccount}:${topicName}`;
}
