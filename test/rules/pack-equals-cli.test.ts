/**
 * The nag pack and `registry-guard check` run the same rules: on any app, the violations the pack reports
 * (by `validateScope` and during `app.synth()`) are exactly the findings the CLI reports on the app's cdk.out,
 * resource for resource, whatever logical ids the resources end up with.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as fc from 'fast-check';
import {
  App,
  CfnDeletionPolicy,
  CfnParameter,
  NestedStack,
  RemovalPolicy,
  Stack,
  Stage,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import * as config from 'aws-cdk-lib/aws-config';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { Construct } from 'constructs';
import {
  GUARD_MARKER_METADATA_KEY,
  GUARD_MARKER_METADATA_VALUE,
  REGISTRY_CLASSIFICATION_TAG_KEY,
  REGISTRY_CLASSIFICATION_TAG_VALUE,
} from '../../lib/classification';
import { REGISTRY_GUARD_RULES } from '../../rules/all-rules';
import { RegistryGuardChecks } from '../../rules/registry-guard-checks';
import { ruleId } from '../../rules/rule';
import {
  cliTemplateViolations,
  newGuardedApp,
  packTemplateViolations,
  removeOutdir,
  synthReportViolations,
  templateLogicalId,
  TemplateViolation,
} from '../support/nag';

/** What each side reports for one app. */
interface BothWays {
  /** `pack.validateScope(app)` after synthesis. */
  readonly pack: TemplateViolation[];
  /** The pack as a validation plugin during `app.synth()` (cdk.out/validation-report.json). */
  readonly synth: TemplateViolation[];
  /** `registry-guard check cdk.out`. */
  readonly cli: TemplateViolation[];
}

/** Builds an app, synthesizes it with the pack registered (without failing), and asks both sides. */
function checkBothWays(build: (app: App) => void): BothWays {
  const { app, pack, outdir } = newGuardedApp({ failSynth: false });
  try {
    build(app);
    app.synth();
    return {
      pack: packTemplateViolations(app, pack.validateScope(app)),
      synth: synthReportViolations(app, outdir),
      cli: cliTemplateViolations(outdir),
    };
  } finally {
    removeOutdir(outdir);
  }
}

function expectAgreement(result: BothWays): void {
  expect(result.pack).toEqual(result.cli);
  expect(result.synth).toEqual(result.cli);
}

const ANYONE_MAY_READ = (bucket: s3.IBucket): iam.PolicyStatement =>
  new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['s3:GetObject'],
    resources: [bucket.arnForObjects('*')],
  });

/** An L2 bucket whose policy grants reads to anyone, with the Block Public Access policy settings off. */
function publicL2Bucket(scope: Construct, id: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    blockPublicAccess: new s3.BlockPublicAccess({
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    }),
  });
  bucket.addToResourcePolicy(ANYONE_MAY_READ(bucket));
  return bucket;
}

/** A template with one bucket open to anyone through its policy (Block Public Access lets the policy through). */
const PUBLIC_BUCKET_TEMPLATE = {
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: {
    OpenBucket: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
      },
    },
    OpenBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: 'OpenBucket' },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:GetObject',
              Resource: { 'Fn::Sub': '${OpenBucket.Arn}/*' },
            },
          ],
        },
      },
    },
  },
};

/** A template whose only resource is a nested stack. */
const PARENT_OF_NESTED_TEMPLATE = {
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: {
    Child: {
      Type: 'AWS::CloudFormation::Stack',
      Properties: { TemplateURL: 'https://s3.amazonaws.com/templates-bucket/child.template.json' },
    },
  },
};

describe('templates written for a test', () => {
  let templateDir: string;
  beforeAll(() => {
    templateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-templates-'));
  });
  afterAll(() => fs.rmSync(templateDir, { recursive: true, force: true }));

  function writeTemplate(name: string, template: unknown): string {
    const file = path.join(templateDir, name);
    fs.writeFileSync(file, JSON.stringify(template));
    return file;
  }

  describe('the pack finds each resource under the logical id its template has', () => {
    test('an L2 public bucket with a pinned logical id breaks S3PublicPolicy, in the pack and the CLI', () => {
      const result = checkBothWays((app) => {
        const stack = new Stack(app, 'Test');
        const bucket = publicL2Bucket(stack, 'Site');
        (bucket.node.defaultChild as s3.CfnBucket).overrideLogicalId('Pinned');
      });
      expect(result.pack).toContain('RegistryGuard-S3PublicPolicy Test.template.json/Pinned');
      expectAgreement(result);
    });

    test('a public bucket whose BucketPolicy has a pinned logical id breaks S3PublicPolicy', () => {
      let bucketId = '';
      const result = checkBothWays((app) => {
        const stack = new Stack(app, 'Test');
        const bucket = publicL2Bucket(stack, 'Site');
        (bucket.policy!.node.defaultChild as s3.CfnBucketPolicy).overrideLogicalId('PinnedPolicy');
        bucketId = templateLogicalId(bucket.node.defaultChild as s3.CfnBucket);
      });
      expect(result.pack).toContain(`RegistryGuard-S3PublicPolicy Test.template.json/${bucketId}`);
      expectAgreement(result);
    });

    test('bucket and policy both pinned, in a NestedStack', () => {
      let nestedTemplate = '';
      const result = checkBothWays((app) => {
        const stack = new Stack(app, 'Test');
        const nested = new NestedStack(stack, 'Registry');
        const bucket = publicL2Bucket(nested, 'Site');
        (bucket.node.defaultChild as s3.CfnBucket).overrideLogicalId('PinnedBucket');
        (bucket.policy!.node.defaultChild as s3.CfnBucketPolicy).overrideLogicalId('PinnedPolicy');
        nestedTemplate = nested.templateFile;
      });
      expect(result.pack).toContain(`RegistryGuard-S3PublicPolicy ${nestedTemplate}/PinnedBucket`);
      expectAgreement(result);
    });

    test('a public bucket in a NestedStack breaks S3PublicPolicy in the nested template', () => {
      let expected = '';
      const result = checkBothWays((app) => {
        const stack = new Stack(app, 'Test');
        const nested = new NestedStack(stack, 'Registry');
        const bucket = publicL2Bucket(nested, 'Site');
        expected = `RegistryGuard-S3PublicPolicy ${nested.templateFile}/${templateLogicalId(bucket.node.defaultChild as s3.CfnBucket)}`;
      });
      expect(result.pack).toContain(expected);
      expectAgreement(result);
    });

    test('a public bucket brought in with CfnInclude breaks S3PublicPolicy under its template id', () => {
      const templateFile = writeTemplate('public-bucket.template.json', PUBLIC_BUCKET_TEMPLATE);
      const result = checkBothWays((app) => {
        new CfnInclude(new Stack(app, 'Test'), 'Included', { templateFile });
      });
      expect(result.pack).toContain('RegistryGuard-S3PublicPolicy Test.template.json/OpenBucket');
      expectAgreement(result);
    });

    test('a public bucket in a nested stack of a CfnInclude template is seen in the nested template', () => {
      const parentFile = writeTemplate('parent.template.json', PARENT_OF_NESTED_TEMPLATE);
      const childFile = writeTemplate('child.template.json', PUBLIC_BUCKET_TEMPLATE);
      let nestedTemplate = '';
      const result = checkBothWays((app) => {
        const included = new CfnInclude(new Stack(app, 'Test'), 'Included', {
          templateFile: parentFile,
          loadNestedStacks: { Child: { templateFile: childFile } },
        });
        nestedTemplate = included.getNestedStack('Child').stack.templateFile;
      });
      expect(result.pack).toContain(`RegistryGuard-S3PublicPolicy ${nestedTemplate}/OpenBucket`);
      expectAgreement(result);
    });

    test('acknowledgements in an included template (Metadata.cdk_nag) count in the pack as in the CLI', () => {
      const { OpenBucket, OpenBucketPolicy } = PUBLIC_BUCKET_TEMPLATE.Resources;
      const templateFile = writeTemplate('acknowledged.template.json', {
        Resources: {
          OpenBucket,
          OpenBucketPolicy,
          OpenData: {
            ...OpenBucket,
            Metadata: {
              cdk_nag: {
                rules_to_suppress: [{ id: 'RegistryGuard-S3PublicPolicy', reason: 'Anonymised statistics.' }],
              },
            },
          },
          OpenDataPolicy: {
            ...OpenBucketPolicy,
            Properties: {
              Bucket: { Ref: 'OpenData' },
              PolicyDocument: {
                Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
              },
            },
          },
        },
      });
      const result = checkBothWays((app) => {
        new CfnInclude(new Stack(app, 'Test'), 'Included', { templateFile });
      });
      expect(result.pack).toContain('RegistryGuard-S3PublicPolicy Test.template.json/OpenBucket');
      expect(result.pack).not.toContain('RegistryGuard-S3PublicPolicy Test.template.json/OpenData');
      expectAgreement(result);
    });

    test('a principal from a parameter with a pinned logical id and fixed AllowedValues is fixed', () => {
      const result = checkBothWays((app) => {
        const stack = new Stack(app, 'Test');
        const reader = new CfnParameter(stack, 'Reader', {
          allowedValues: ['arn:aws:iam::111122223333:root'],
        });
        reader.overrideLogicalId('ReaderArn');
        const bucket = new s3.Bucket(stack, 'Roll', {
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY,
        });
        bucket.addToResourcePolicy(
          new iam.PolicyStatement({
            principals: [new iam.ArnPrincipal(reader.valueAsString)],
            actions: ['s3:GetObject'],
            resources: [bucket.arnForObjects('*')],
          }),
        );
      });
      expect(result.pack).not.toContainEqual(expect.stringContaining('RegistryGuard-S3PublicPolicy '));
      expectAgreement(result);
    });

    test('a pinned BucketPolicy of a bucket outside the template is judged alike by both', () => {
      const result = checkBothWays((app) => {
        const stack = new Stack(app, 'Test');
        const policy = new s3.CfnBucketPolicy(stack, 'SharedPolicy', {
          bucket: 'bucket-of-another-stack',
          policyDocument: {
            Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
          },
        });
        policy.overrideLogicalId('PinnedPolicy');
      });
      expectAgreement(result);
    });

    test("each violating resource of the pack's report carries its template path and logical id", () => {
      const { app, pack, outdir } = newGuardedApp({ failSynth: false });
      try {
        const nested = new NestedStack(new Stack(app, 'Test'), 'Registry');
        const bucket = publicL2Bucket(nested, 'Site');
        (bucket.node.defaultChild as s3.CfnBucket).overrideLogicalId('Pinned');
        app.synth();
        const violation = pack
          .validateScope(app)
          .violations.find((candidate) => candidate.ruleName === 'RegistryGuard-S3PublicPolicy');
        expect(violation?.violatingResources).toEqual([
          {
            constructPath: 'Test/Registry/Site/Resource',
            locations: ['Properties'],
            resourceLogicalId: 'Pinned',
            templatePath: path.join(outdir, nested.templateFile),
          },
        ]);
      } finally {
        removeOutdir(outdir);
      }
    });
  });
});

describe('a Stage', () => {
  // The pack writes acknowledgements into templates with an Aspect on the scope it is given (cdk-nag's
  // NagPack constructor); CDK synthesizes Stages first and does not pass the App's Aspects into them.
  test('an acknowledgement inside a Stage reaches its template when a pack is constructed for the Stage too (docs/rules.md)', () => {
    const result = checkBothWays((app) => {
      const stage = new Stage(app, 'Prod');
      new RegistryGuardChecks(stage, { writeSuppressionsToCloudFormation: true });
      const stack = new Stack(stage, 'Test');
      const bucket = publicL2Bucket(stack, 'Site');
      Validations.of(bucket).acknowledge({ id: 'RegistryGuard-S3PublicPolicy', reason: 'Open data.' });
    });
    expect(result.pack).not.toContainEqual(expect.stringContaining('RegistryGuard-S3PublicPolicy '));
    expectAgreement(result);
  });
});

describe('a stack without resources', () => {
  // CDK synthesizes it (`cdk deploy` skips it); its template has Parameters and Rules but no Resources.
  test('leaves the other stacks of the cdk.out checked, by the CLI as by the pack', () => {
    const result = checkBothWays((app) => {
      new Stack(app, 'Empty');
      const stack = new Stack(app, 'Test');
      const bucket = publicL2Bucket(stack, 'Site');
      (bucket.node.defaultChild as s3.CfnBucket).overrideLogicalId('Pinned');
    });
    expect(result.pack).toContain('RegistryGuard-S3PublicPolicy Test.template.json/Pinned');
    expectAgreement(result);
  });
});

describe('a resource missing from its rendered template', () => {
  /** A bucket that renders nothing into its template, so the pack's index cannot hold it. */
  class UnrenderedBucket extends s3.CfnBucket {
    protected override shouldSynthesize(): boolean {
      return false;
    }
  }

  test('is reported as breaking every rule of its type, with the reason, never passed', () => {
    const app = new App();
    new UnrenderedBucket(new Stack(app, 'Test'), 'Ghost', { bucketName: 'ghost' });
    const report = new RegistryGuardChecks().validateScope(app);
    const bucketRuleIds = REGISTRY_GUARD_RULES.filter((rule) =>
      rule.resourceTypes.includes('AWS::S3::Bucket'),
    ).map(ruleId);
    expect(report.success).toBe(false);
    expect(report.violations.map((violation) => violation.ruleName).sort()).toEqual(bucketRuleIds.sort());
    for (const violation of report.violations) {
      expect(violation.violatingResources.map((resource) => resource.constructPath)).toEqual(['Test/Ghost']);
      expect(violation.description).toContain(
        'Test/Ghost (AWS::S3::Bucket) is not in the template rendered for stack Test under its logical id Ghost',
      );
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property: for random apps, the pack and the CLI report the same (rule, template, logical id) triples.
// ---------------------------------------------------------------------------------------------------------

/** `parameter*`: the principal is a template parameter, with fixed AllowedValues or without (could be "*"). */
type PolicyKind = 'none' | 'public' | 'vpce' | 'account' | 'parameterFixed' | 'parameterOpen';
type AclKind = 'none' | 'PublicRead' | 'AuthenticatedRead' | 'LogDeliveryWrite';
type BlockPublicAccessKind = 'all' | 'partial' | 'none';
type KeyKind = 'none' | 'private' | 'public';
type AccessPointKind = 'none' | 'public' | 'private';
type Removal = 'retain' | 'destroy' | 'autoDelete';

interface BucketSpec {
  readonly level: 'L1' | 'L2';
  readonly policy: PolicyKind;
  readonly acl: AclKind;
  readonly blockPublicAccess: BlockPublicAccessKind;
  readonly registry: boolean;
  readonly key: KeyKind;
  readonly accessPoint: AccessPointKind;
  readonly versioned: boolean;
  readonly tlsOnly: boolean;
  readonly removal: Removal;
  /** Which of the bucket's resources get `overrideLogicalId`. */
  readonly pin: {
    readonly bucket: boolean;
    readonly policy: boolean;
    readonly key: boolean;
    readonly accessPoint: boolean;
    readonly parameter: boolean;
  };
  /** A rule acknowledged on the bucket's construct (and so on everything below it). */
  readonly acknowledge: 'none' | 'S3PublicPolicy' | 'S3BlockPublicAccess';
  /** Acknowledged as `RegistryGuardChecks::<rule id>`, as CDK's validation report suggests. */
  readonly acknowledgeNamespaced: boolean;
}

interface StackSpec {
  readonly buckets: readonly BucketSpec[];
  /** Buckets of a NestedStack of this stack, when it has one. */
  readonly nested: readonly BucketSpec[] | null;
  /** A Config rule marked as a PublicAccessGuard's: where it is, if anywhere. */
  readonly guard: 'none' | 'stack' | 'nested';
  /** The stack is in a Stage: its template goes to a nested cloud assembly. */
  readonly inStage: boolean;
}

const bucketSpec: fc.Arbitrary<BucketSpec> = fc.record({
  level: fc.constantFrom('L1', 'L2'),
  policy: fc.constantFrom('none', 'public', 'vpce', 'account', 'parameterFixed', 'parameterOpen'),
  acl: fc.constantFrom('none', 'none', 'PublicRead', 'AuthenticatedRead', 'LogDeliveryWrite'),
  blockPublicAccess: fc.constantFrom('all', 'partial', 'none'),
  registry: fc.boolean(),
  key: fc.constantFrom('none', 'private', 'public'),
  accessPoint: fc.constantFrom('none', 'none', 'public', 'private'),
  versioned: fc.boolean(),
  tlsOnly: fc.boolean(),
  removal: fc.constantFrom('retain', 'destroy', 'autoDelete'),
  pin: fc.record({
    bucket: fc.boolean(),
    policy: fc.boolean(),
    key: fc.boolean(),
    accessPoint: fc.boolean(),
    parameter: fc.boolean(),
  }),
  acknowledge: fc.constantFrom('none', 'none', 'S3PublicPolicy', 'S3BlockPublicAccess'),
  acknowledgeNamespaced: fc.boolean(),
});

const stackSpec: fc.Arbitrary<StackSpec> = fc.record({
  // At least one resource per stack: see 'a stack without resources' for why.
  buckets: fc.array(bucketSpec, { minLength: 1, maxLength: 3 }),
  nested: fc.option(fc.array(bucketSpec, { minLength: 1, maxLength: 2 }), { freq: 3 }),
  guard: fc.constantFrom('none', 'none', 'stack', 'nested'),
  inStage: fc.constantFrom(false, false, false, true),
});

const appSpec: fc.Arbitrary<StackSpec[]> = fc.array(stackSpec, { minLength: 1, maxLength: 4 });

const FIXED_VPC_ENDPOINT = 'vpce-0a1b2c3d';
const FIXED_ACCOUNT = '111122223333';

/** The bucket-policy statements a spec asks for; an L1 bucket's TLS-only deny is one of them. */
function policyStatements(
  scope: Construct,
  id: string,
  spec: BucketSpec,
  objectsArn: string,
  bucketArn: string,
): iam.PolicyStatement[] {
  const statements: iam.PolicyStatement[] = [];
  if (spec.policy === 'parameterFixed' || spec.policy === 'parameterOpen') {
    const reader = new CfnParameter(scope, `${id}Reader`, {
      allowedValues: spec.policy === 'parameterFixed' ? [`arn:aws:iam::${FIXED_ACCOUNT}:root`] : undefined,
    });
    if (spec.pin.parameter) reader.overrideLogicalId(`${id}PinnedReader`);
    statements.push(
      new iam.PolicyStatement({
        principals: [new iam.ArnPrincipal(reader.valueAsString)],
        actions: ['s3:GetObject'],
        resources: [objectsArn],
      }),
    );
  }
  if (spec.policy === 'public' || spec.policy === 'vpce') {
    statements.push(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [objectsArn],
        conditions:
          spec.policy === 'vpce' ? { StringEquals: { 'aws:SourceVpce': FIXED_VPC_ENDPOINT } } : undefined,
      }),
    );
  } else if (spec.policy === 'account') {
    statements.push(
      new iam.PolicyStatement({
        principals: [new iam.AccountPrincipal(FIXED_ACCOUNT)],
        actions: ['s3:GetObject'],
        resources: [objectsArn],
      }),
    );
  }
  if (spec.tlsOnly && spec.level === 'L1') {
    statements.push(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:*'],
        resources: [bucketArn, objectsArn],
        conditions: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  }
  return statements;
}

function accessPointPolicy(spec: BucketSpec): Record<string, unknown> | undefined {
  if (spec.accessPoint === 'none') return undefined;
  const principal = spec.accessPoint === 'public' ? '*' : { AWS: `arn:aws:iam::${FIXED_ACCOUNT}:root` };
  return { Statement: [{ Effect: 'Allow', Principal: principal, Action: 's3:GetObject', Resource: '*' }] };
}

/** Adds the KMS key a spec asks for, L1 or L2 like its bucket, pinned if the spec says so. */
function addKey(scope: Construct, id: string, spec: BucketSpec): kms.Key | kms.CfnKey | undefined {
  if (spec.key === 'none') return undefined;
  const publicStatement = new iam.PolicyStatement({
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:Decrypt'],
    resources: ['*'],
  });
  if (spec.level === 'L2') {
    const key = new kms.Key(scope, `${id}Key`, { enableKeyRotation: true });
    if (spec.key === 'public') key.addToResourcePolicy(publicStatement);
    if (spec.pin.key) (key.node.defaultChild as kms.CfnKey).overrideLogicalId(`${id}PinnedKey`);
    return key;
  }
  const statements = [
    new iam.PolicyStatement({
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:*'],
      resources: ['*'],
    }),
  ];
  if (spec.key === 'public') statements.push(publicStatement);
  const key = new kms.CfnKey(scope, `${id}Key`, {
    enableKeyRotation: true,
    keyPolicy: new iam.PolicyDocument({ statements }),
  });
  if (spec.pin.key) key.overrideLogicalId(`${id}PinnedKey`);
  return key;
}

const L1_BLOCK_PUBLIC_ACCESS: Record<
  BlockPublicAccessKind,
  s3.CfnBucket.PublicAccessBlockConfigurationProperty | undefined
> = {
  all: {
    blockPublicAcls: true,
    ignorePublicAcls: true,
    blockPublicPolicy: true,
    restrictPublicBuckets: true,
  },
  partial: { blockPublicAcls: true, ignorePublicAcls: true },
  none: undefined,
};

const L2_BLOCK_PUBLIC_ACCESS: Record<BlockPublicAccessKind, s3.BlockPublicAccess | undefined> = {
  all: s3.BlockPublicAccess.BLOCK_ALL,
  partial: s3.BlockPublicAccess.BLOCK_ACLS_ONLY,
  none: undefined,
};

const L2_ACL: Record<Exclude<AclKind, 'none'>, s3.BucketAccessControl> = {
  PublicRead: s3.BucketAccessControl.PUBLIC_READ,
  AuthenticatedRead: s3.BucketAccessControl.AUTHENTICATED_READ,
  LogDeliveryWrite: s3.BucketAccessControl.LOG_DELIVERY_WRITE,
};

function addL2Bucket(scope: Construct, id: string, spec: BucketSpec): Construct {
  const key = addKey(scope, id, spec) as kms.Key | undefined;
  const bucket = new s3.Bucket(scope, id, {
    blockPublicAccess: L2_BLOCK_PUBLIC_ACCESS[spec.blockPublicAccess],
    accessControl: spec.acl === 'none' ? undefined : L2_ACL[spec.acl],
    objectOwnership: spec.acl === 'none' ? undefined : s3.ObjectOwnership.OBJECT_WRITER,
    encryption: key === undefined ? undefined : s3.BucketEncryption.KMS,
    encryptionKey: key,
    versioned: spec.versioned,
    enforceSSL: spec.tlsOnly,
    removalPolicy: spec.removal === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    autoDeleteObjects: spec.removal === 'autoDelete',
  });
  for (const statement of policyStatements(scope, id, spec, bucket.arnForObjects('*'), bucket.bucketArn)) {
    bucket.addToResourcePolicy(statement);
  }
  if (spec.registry) Tags.of(bucket).add(REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE);
  if (spec.pin.bucket) (bucket.node.defaultChild as s3.CfnBucket).overrideLogicalId(`${id}PinnedBucket`);
  if (spec.pin.policy && bucket.policy !== undefined) {
    (bucket.policy.node.defaultChild as s3.CfnBucketPolicy).overrideLogicalId(`${id}PinnedPolicy`);
  }
  addAccessPoint(scope, id, spec, bucket.bucketName);
  return bucket;
}

function addL1Bucket(scope: Construct, id: string, spec: BucketSpec): Construct {
  const key = addKey(scope, id, spec) as kms.CfnKey | undefined;
  const bucket = new s3.CfnBucket(scope, id, {
    publicAccessBlockConfiguration: L1_BLOCK_PUBLIC_ACCESS[spec.blockPublicAccess],
    accessControl: spec.acl === 'none' ? undefined : spec.acl,
    ownershipControls: spec.acl === 'none' ? undefined : { rules: [{ objectOwnership: 'ObjectWriter' }] },
    bucketEncryption:
      key === undefined
        ? undefined
        : {
            serverSideEncryptionConfiguration: [
              { serverSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.attrArn } },
            ],
          },
    versioningConfiguration: spec.versioned ? { status: 'Enabled' } : undefined,
    tags: spec.registry
      ? [{ key: REGISTRY_CLASSIFICATION_TAG_KEY, value: REGISTRY_CLASSIFICATION_TAG_VALUE }]
      : undefined,
  });
  bucket.cfnOptions.deletionPolicy =
    spec.removal === 'retain' ? CfnDeletionPolicy.RETAIN : CfnDeletionPolicy.DELETE;
  if (spec.pin.bucket) bucket.overrideLogicalId(`${id}PinnedBucket`);
  const statements = policyStatements(scope, id, spec, `${bucket.attrArn}/*`, bucket.attrArn);
  if (statements.length > 0) {
    const policy = new s3.CfnBucketPolicy(scope, `${id}Policy`, {
      bucket: bucket.ref,
      policyDocument: new iam.PolicyDocument({ statements }),
    });
    if (spec.pin.policy) policy.overrideLogicalId(`${id}PinnedPolicy`);
  }
  addAccessPoint(scope, id, spec, bucket.ref);
  return bucket;
}

function addAccessPoint(scope: Construct, id: string, spec: BucketSpec, bucketName: string): void {
  if (spec.accessPoint === 'none') return;
  const point = new s3.CfnAccessPoint(scope, `${id}Point`, {
    bucket: bucketName,
    policy: accessPointPolicy(spec),
  });
  if (spec.pin.accessPoint) point.overrideLogicalId(`${id}PinnedPoint`);
}

function addBucket(scope: Construct, id: string, spec: BucketSpec): void {
  const bucket = spec.level === 'L2' ? addL2Bucket(scope, id, spec) : addL1Bucket(scope, id, spec);
  // Not inside a Stage: see 'an acknowledgement inside a Stage' for why.
  if (spec.acknowledge !== 'none' && Stage.of(scope) === Stage.of(scope.node.root)) {
    const id = `RegistryGuard-${spec.acknowledge}`;
    Validations.of(bucket).acknowledge({
      id: spec.acknowledgeNamespaced ? `RegistryGuardChecks::${id}` : id,
      reason: 'Generated app.',
    });
  }
}

function addGuardRule(scope: Construct): void {
  const rule = new config.CfnConfigRule(scope, 'GuardRule', {
    source: { owner: 'AWS', sourceIdentifier: 'S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED' },
  });
  rule.addMetadata(GUARD_MARKER_METADATA_KEY, GUARD_MARKER_METADATA_VALUE);
}

function buildApp(app: App, stacks: readonly StackSpec[]): void {
  stacks.forEach((stackSpec, stackIndex) => {
    const parent = stackSpec.inStage ? new Stage(app, `Stage${stackIndex}`) : app;
    const stack = new Stack(parent, `Stack${stackIndex}`);
    stackSpec.buckets.forEach((spec, index) => addBucket(stack, `S${stackIndex}B${index}`, spec));
    const nested = stackSpec.nested === null ? undefined : new NestedStack(stack, 'Nested');
    stackSpec.nested?.forEach((spec, index) => addBucket(nested!, `S${stackIndex}N${index}`, spec));
    if (stackSpec.guard === 'stack' || (stackSpec.guard === 'nested' && nested === undefined))
      addGuardRule(stack);
    if (stackSpec.guard === 'nested' && nested !== undefined) addGuardRule(nested);
  });
}

describe('pack and CLI agree on random apps', () => {
  test('the same (rule, template, logical id) violations from validateScope, synth and the CLI', () => {
    let violationsSeen = 0;
    fc.assert(
      fc.property(appSpec, (stacks) => {
        const result = checkBothWays((app) => buildApp(app, stacks));
        expect(result.pack).toEqual(result.cli);
        expect(result.synth).toEqual(result.cli);
        violationsSeen += result.cli.length;
      }),
      // Each run synthesizes an app (~0.1 s); PACK_EQUALS_CLI_RUNS=500 searches harder.
      { numRuns: Number(process.env.PACK_EQUALS_CLI_RUNS) || 25 },
    );
    // The generator must produce apps that break rules, or agreement proves nothing.
    expect(violationsSeen).toBeGreaterThan(20);
  });
});
