/**
 * The example app's stack: an electoral roll stored the way registry-guard recommends.
 * Environment-agnostic, so `cdk synth` needs no AWS account.
 */
import { CfnElement, Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PublicAccessGuard } from '../public-access-guard';
import { SensitiveRegistryBucket } from '../sensitive-registry-bucket';

/**
 * A stack holding one electoral roll in a {@link SensitiveRegistryBucket}, a role that may read it, and the
 * {@link PublicAccessGuard} that closes any bucket of the account that drifts public.
 */
export class ElectoralRollStack extends Stack {
  /** The registry bucket. */
  readonly roll: SensitiveRegistryBucket;
  /** The drift guard: closes any bucket of the account that drifts public, and tells on-call. */
  readonly guard: PublicAccessGuard;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'registry-guard example: an electoral roll in a locked-down, KMS-encrypted bucket',
      ...props,
    });
    this.roll = new SensitiveRegistryBucket(this, 'ElectoralRoll', {
      noncurrentVersionExpiration: Duration.days(365),
    });
    this.guard = new PublicAccessGuard(this, 'PublicAccessGuard');
    const auditors = new iam.Role(this, 'RollAuditors', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'Reads the electoral roll for audits; nothing else.',
    });
    this.roll.grantRead(auditors);
    const rollLogicalId = this.getLogicalId(this.roll.bucket.node.defaultChild as CfnElement);
    Validations.of(auditors).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${rollLogicalId}.Arn>/*]`,
      reason:
        'Auditors read every record of the roll: the object ARN wildcard is the registry itself, no wider.',
    });
  }
}
