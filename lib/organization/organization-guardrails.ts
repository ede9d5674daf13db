/**
 * OrganizationGuardrails: guards every account of chosen organizational units with AWS's own distributed
 * machinery: a service-managed CloudFormation StackSet (with automatic deployment to new accounts), an
 * AWS Config organization aggregator, and optionally an AWS Organizations S3 policy.
 */
import { App, CfnElement, DefaultStackSynthesizer, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as organizations from 'aws-cdk-lib/aws-organizations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BucketDeployment } from 'aws-cdk-lib/aws-s3-deployment';
import {
  Capability,
  DeploymentType,
  RegionConcurrencyType,
  StackSet,
  StackSetTarget,
  StackSetTemplate,
} from 'cdk-stacksets';
import { Construct } from 'constructs';
import { RegistryGuardValidationError } from '../errors';
import type { PublicAccessGuardOptions } from '../public-access-guard';
import { GuardMemberStack } from './member-guard-stack';
import {
  DEFAULT_ALARM_TOPIC_NAME,
  DEFAULT_ON_CALL_TOPIC_NAME,
  OrganizationRegionalHub,
  validateOrganizationId,
} from './regional-hub';

/** The AWS Organizations S3 policy that turns on all four Block Public Access settings in every account it covers. */
export const S3_BLOCK_ALL_PUBLIC_ACCESS_POLICY = {
  s3_attributes: { public_access_block_configuration: { '@@assign': 'all' } },
} as const;

/** Properties of {@link OrganizationGuardrails}. */
export interface OrganizationGuardrailsProps {
  /** The organization's id (`aws organizations describe-organization`), e.g. `o-a1b2c3d4e5`. */
  readonly organizationId: string;

  /**
   * Organizational units (`ou-…`) or the root (`r-…`) whose accounts, present and future, are guarded.
   * The management account itself is never a StackSet target: deploy `PublicAccessGuard` there on its own.
   */
  readonly organizationalUnits: string[];

  /**
   * Regions guarded in every account. The stack's own Region holds the StackSet, the aggregator and its
   * Region's hub; every other Region gets a hub stack (asset bucket, on-call and alarm topics) in this
   * account.
   */
  readonly regions: string[];

  /**
   * Tuning of the member accounts' guard (mode, sweep frequency, concurrency, alarms, recorder); its topics
   * and account-level setting come from the organization, and its `trustedOrganizationId` defaults to
   * `organizationId` (a registry may grant the organization under `aws:PrincipalOrgID`).
   * @default the guard's defaults: mode GuardMode.REMEDIATE, a sweep every 24 hours
   */
  readonly guard?: PublicAccessGuardOptions;

  /**
   * Turn on all four account-level Block Public Access settings in every member account when its stack
   * instance deploys (read and recorded first; never turned off on delete).
   * @default true
   */
  readonly enforceAccountBlockPublicAccess?: boolean;

  /**
   * Create an AWS Organizations S3 policy that enforces all four Block Public Access settings in every
   * account of the organizational units, and attach it to them. The S3 policy type must be enabled on the
   * root first (`aws organizations enable-policy-type --root-id r-… --policy-type S3_POLICY`). Only the
   * management account can create it.
   * @default false
   */
  readonly createS3Policy?: boolean;

  /**
   * The stack is deployed in a delegated administrator account for StackSets (and Config), not the
   * management account.
   * @default false
   */
  readonly delegatedAdmin?: boolean;

  /**
   * Keep the guard's stack in an account that leaves the organizational units.
   * @default false: an account that leaves loses the guard with its stack instance
   */
  readonly retainStacksOnAccountRemoval?: boolean;

  /**
   * Asset buckets are named `${assetBucketPrefix}-${region}`; the name must be globally unique.
   * @default `registry-guard-assets-${account}`
   */
  readonly assetBucketPrefix?: string;

  /**
   * The on-call topic's name in every Region.
   * @default 'registry-guard-on-call'
   */
  readonly onCallTopicName?: string;

  /**
   * The alarm topic's name in every Region: member accounts' CloudWatch alarms publish here, not to the
   * on-call topic. Must differ from `onCallTopicName`.
   * @default 'registry-guard-alarms'
   */
  readonly alarmTopicName?: string;

  /**
   * Name of the StackSet.
   * @default 'registry-guard'
   */
  readonly stackSetName?: string;
}

/**
 * Guards every account of the chosen organizational units, in every listed Region, from the management or a
 * delegated administrator account. One `cdk deploy --all` creates:
 *
 * - a service-managed StackSet that deploys `PublicAccessGuard` to every account of the OUs and Regions,
 *   automatically to accounts that join later, and turns on account-level Block Public Access in each;
 * - per Region, a hub in this account: the bucket that serves the guard's code to member accounts, the
 *   on-call topic every member account's guard sends notices to, and the alarm topic, under a key of its
 *   own, every member account's alarms publish to (hubs of other Regions are their own stacks, deployed
 *   first);
 * - an AWS Config aggregator over the organization, so on-call sees every account's evaluations in one place;
 * - optionally, the AWS Organizations S3 policy that enforces Block Public Access org-wide.
 *
 * The containing stack must have a concrete account and Region. See docs/organization.md for the
 * prerequisites, the order of steps and how to roll back.
 *
 * @example
 * const stack = new Stack(app, 'RegistryGuardOrganization', { env: { account: '111111111111', region: 'eu-west-1' } });
 * new OrganizationGuardrails(stack, 'Guardrails', {
 *   organizationId: 'o-a1b2c3d4e5',
 *   organizationalUnits: ['ou-ab12-34cd56ef'],
 *   regions: ['eu-west-1', 'eu-central-1'],
 * });
 */
export class OrganizationGuardrails extends Construct {
  /** The StackSet that deploys the guard to member accounts. */
  readonly stackSet: StackSet;
  /** The template inside the StackSet. */
  readonly memberStack: GuardMemberStack;
  /**
   * The hub of each guarded Region, by Region. Other jsii languages have no `ReadonlyMap`: they read
   * `regions` and `hubIn(region)`.
   *
   * @jsii ignore TypeScript only: see hubIn
   */
  readonly hubs: ReadonlyMap<string, OrganizationRegionalHub>;
  /** The guarded Regions, each once, in the order `props.regions` lists them. */
  readonly regions: string[];
  /** The AWS Config aggregator over every account and guarded Region of the organization. */
  readonly aggregator: config.CfnConfigurationAggregator;
  /** The S3 policy, when `createS3Policy` is on. */
  readonly s3Policy?: organizations.CfnPolicy;

  constructor(scope: Construct, id: string, props: OrganizationGuardrailsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { account, region } = requireConcreteEnvironment(this, stack);
    validateOrganizationId('OrganizationGuardrails', this, props.organizationId);
    const organizationalUnits = validateTargets(this, props.organizationalUnits);
    const regions = validateRegions(this, props.regions);
    const assetBucketPrefix = props.assetBucketPrefix ?? `registry-guard-assets-${account}`;
    const onCallTopicName = props.onCallTopicName ?? DEFAULT_ON_CALL_TOPIC_NAME;
    const alarmTopicName = props.alarmTopicName ?? DEFAULT_ALARM_TOPIC_NAME;
    const hubProps = {
      organizationId: props.organizationId,
      assetBucketPrefix,
      onCallTopicName,
      alarmTopicName,
    };

    const hubs = new Map<string, OrganizationRegionalHub>();
    for (const hubRegion of regions) {
      if (hubRegion === region) {
        hubs.set(hubRegion, new OrganizationRegionalHub(this, 'Hub', hubProps));
      } else {
        // A stack is in one Region: hubs of other Regions are sibling stacks, deployed before this one.
        const hubStack = new Stack(App.of(this) ?? stack.node.root, `${stack.stackName}-Hub-${hubRegion}`, {
          env: { account, region: hubRegion },
          description: `registry-guard: code bucket, on-call and alarm topics of ${hubRegion} for the organization`,
        });
        hubs.set(hubRegion, new OrganizationRegionalHub(hubStack, 'Hub', hubProps));
        stack.addStackDependency(hubStack, 'the StackSet copies its assets into every Region’s hub bucket');
      }
    }
    this.hubs = hubs;
    this.regions = regions;

    const assetBuckets = regions.map((assetRegion) =>
      assetRegion === region
        ? (hubs.get(assetRegion)?.assetBucket as s3.IBucket)
        : s3.Bucket.fromBucketName(this, `AssetBucket-${assetRegion}`, `${assetBucketPrefix}-${assetRegion}`),
    );
    this.memberStack = new GuardMemberStack(this, 'MemberGuard', {
      hubAccount: account,
      onCallTopicName,
      alarmTopicName,
      assetBuckets,
      assetBucketPrefix,
      enforceAccountBlockPublicAccess: props.enforceAccountBlockPublicAccess ?? true,
      organizationId: props.organizationId,
      guard: props.guard,
    });
    this.stackSet = new StackSet(this, 'StackSet', {
      stackSetName: props.stackSetName ?? 'registry-guard',
      description:
        'registry-guard: closes S3 buckets that drift public, in every account of the organization',
      template: StackSetTemplate.fromStackSetStack(this.memberStack),
      target: StackSetTarget.fromOrganizationalUnits({ organizationalUnits, regions }),
      deploymentType: DeploymentType.serviceManaged({
        autoDeployEnabled: true,
        autoDeployRetainStacks: props.retainStacksOnAccountRemoval ?? false,
        delegatedAdmin: props.delegatedAdmin ?? false,
      }),
      capabilities: [Capability.IAM],
      managedExecution: true,
      operationPreferences: {
        regionConcurrencyType: RegionConcurrencyType.PARALLEL,
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
    });
    // Stack instances fetch the guard's code from the hub bucket of their Region: copy it there first.
    for (const construct of stack.node.findAll()) {
      if (
        construct instanceof BucketDeployment &&
        construct.node.id.startsWith(Names.uniqueId(this.memberStack))
      ) {
        this.stackSet.node.addDependency(construct);
      }
    }
    const homeHub = hubs.get(region);
    if (homeHub !== undefined) this.stackSet.node.addDependency(homeHub);
    this.aggregator = this.renderAggregator(regions);
    if (props.createS3Policy === true) this.s3Policy = this.renderS3Policy(organizationalUnits);
    acknowledgeAssetCopy(
      stack,
      regions.map((assetRegion) => {
        const hub = hubs.get(assetRegion);
        return assetRegion === region && hub !== undefined
          ? `<${stack.getLogicalId(hub.assetBucket.node.defaultChild as CfnElement)}.Arn>/*`
          : `arn:<AWS::Partition>:s3:::${assetBucketPrefix}-${assetRegion}/*`;
      }),
    );
  }

  /**
   * The hub of one guarded Region: what `hubs.get(region)` returns, for languages without `ReadonlyMap`.
   *
   * @param region a Region of `regions`
   * @example
   * guardrails.hubIn('eu-central-1').onCallTopic.addSubscription(new subscriptions.EmailSubscription('on-call@example.gov'));
   */
  hubIn(region: string): OrganizationRegionalHub {
    const hub = this.hubs.get(region);
    if (hub === undefined) {
      throw new RegistryGuardValidationError(
        'OrganizationGuardrails',
        this,
        `'${region}' is not a guarded Region: hubIn takes one of ${this.regions.join(', ')}.`,
      );
    }
    return hub;
  }

  private renderAggregator(regions: string[]): config.CfnConfigurationAggregator {
    const role = new iam.Role(this, 'AggregatorRole', {
      assumedBy: new iam.ServicePrincipal('config.amazonaws.com'),
      description: 'registry-guard: AWS Config reads the organization to aggregate evaluations',
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSConfigRoleForOrganizations'),
      ],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRoleForOrganizations]',
      reason:
        'AWSConfigRoleForOrganizations is the policy AWS documents for organization aggregators: read-only calls to Organizations.',
    });
    return new config.CfnConfigurationAggregator(this, 'Aggregator', {
      configurationAggregatorName: 'registry-guard-organization',
      organizationAggregationSource: { roleArn: role.roleArn, awsRegions: regions, allAwsRegions: false },
    });
  }

  private renderS3Policy(targetIds: string[]): organizations.CfnPolicy {
    return new organizations.CfnPolicy(this, 'S3BlockPublicAccessPolicy', {
      name: 'registry-guard-s3-block-public-access',
      description: 'registry-guard: all four S3 Block Public Access settings on in every account, enforced',
      type: 'S3_POLICY',
      content: S3_BLOCK_ALL_PUBLIC_ACCESS_POLICY,
      targetIds,
    });
  }
}

function requireConcreteEnvironment(scope: Construct, stack: Stack): { account: string; region: string } {
  if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
    throw new RegistryGuardValidationError(
      'OrganizationGuardrails',
      scope,
      `the stack needs env: { account, region }: member accounts reach the hub account's topic and buckets by account id and Region.`,
    );
  }
  return { account: stack.account, region: stack.region };
}

function validateTargets(scope: Construct, targets: string[]): string[] {
  if (targets.length === 0) {
    throw new RegistryGuardValidationError(
      'OrganizationGuardrails',
      scope,
      `organizationalUnits is empty: name at least one OU (ou-…) or the root (r-…).`,
    );
  }
  for (const target of targets) {
    if (!/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/.test(target)) {
      throw new RegistryGuardValidationError(
        'OrganizationGuardrails',
        scope,
        `'${target}' is not an organizational unit id (ou-…) or a root id (r-…). Account ids are not targets: move the account into an OU.`,
      );
    }
  }
  return [...new Set(targets)];
}

function validateRegions(scope: Construct, regions: string[]): string[] {
  if (regions.length === 0) {
    throw new RegistryGuardValidationError(
      'OrganizationGuardrails',
      scope,
      `regions is empty: name every Region to guard.`,
    );
  }
  for (const region of regions) {
    if (Token.isUnresolved(region) || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
      throw new RegistryGuardValidationError(
        'OrganizationGuardrails',
        scope,
        `'${region}' is not a Region name such as 'eu-west-1'.`,
      );
    }
  }
  return [...new Set(regions)];
}

/**
 * cdk-stacksets copies the member template's assets into each hub bucket with aws-s3-deployment's
 * BucketDeployment: its function's findings are acknowledged on that function alone, each for what it is.
 */
function acknowledgeAssetCopy(stack: Stack, assetBucketFindings: string[]): void {
  const copyFunctions = new Set(
    stack.node
      .findAll()
      .filter((construct): construct is BucketDeployment => construct instanceof BucketDeployment)
      .map((deployment) => deployment.handlerRole.node.scope ?? deployment.handlerRole),
  );
  const qualifier =
    stack.synthesizer instanceof DefaultStackSynthesizer
      ? (stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER)
      : DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  const stagingObjects = `arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-${stack.account}-${stack.region}/*`;
  for (const copyFunction of copyFunctions) {
    const acknowledge = (id: string, reason: string): void =>
      Validations.of(copyFunction).acknowledge({ id, reason });
    acknowledge(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The asset-copy function of aws-s3-deployment (used by cdk-stacksets) writes its logs with the basic execution role.',
    );
    acknowledge(
      'AwsSolutions-L1',
      'The asset-copy function of aws-s3-deployment pins its runtime to the AWS CLI layer it ships; it only copies code at deploy time.',
    );
    for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']) {
      acknowledge(
        `AwsSolutions-IAM5[Action::${action}]`,
        'aws-s3-deployment grants the read/write action groups it needs to copy assets, on the staging and hub buckets only.',
      );
    }
    for (const resource of [stagingObjects, ...assetBucketFindings]) {
      acknowledge(
        `AwsSolutions-IAM5[Resource::${resource}]`,
        'Asset object keys are content hashes unknown until synthesis: the copy reads the CDK staging bucket and writes the hub buckets, nothing else.',
      );
    }
  }
}
