import { App, Aws, CfnCondition, CfnMapping, CfnParameter, Fn, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Template } from 'aws-cdk-lib/assertions';
import { checkTemplate } from '../../rules/check-template';
import { ruleIdsOf, violationsOf } from '../support/nag';

function newStack(): { app: App; stack: Stack } {
  const app = new App();
  return { app, stack: new Stack(app, 'Test') };
}

function closedBucket(stack: Stack, id: string): s3.Bucket {
  return new s3.Bucket(stack, id, { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
}

/** A bucket whose own settings let a public policy take effect: what the policy rule must catch. */
function policyOpenBucket(stack: Stack, id: string): s3.Bucket {
  return new s3.Bucket(stack, id, { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
}

const ALL_FOUR_ON = {
  blockPublicAcls: true,
  ignorePublicAcls: true,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};
const ACLS_OPEN = {
  blockPublicAcls: false,
  ignorePublicAcls: false,
  blockPublicPolicy: true,
  restrictPublicBuckets: true,
};

describe('RegistryGuard-S3PublicPolicy', () => {
  test('Noncompliance 1: L2 publicReadAccess', () => {
    const { app, stack } = newStack();
    new s3.Bucket(stack, 'Site', {
      publicReadAccess: true,
      blockPublicAccess: new s3.BlockPublicAccess({ blockPublicPolicy: false, restrictPublicBuckets: false }),
    });
    expect(ruleIdsOf(app)).toContain('RegistryGuard-S3PublicPolicy');
  });

  test('Noncompliance 2: aws:SourceIp 0.0.0.0/0 is the whole internet (Cloud Custodian passes this)', () => {
    const { app, stack } = newStack();
    const bucket = policyOpenBucket(stack, 'Roll');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
      }),
    );
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccess', 'RegistryGuard-S3PublicPolicy']);
  });

  test('Noncompliance 3: L1 bucket policy with NotPrincipal, on a bucket that states no Block Public Access', () => {
    const { app, stack } = newStack();
    const bucket = new s3.CfnBucket(stack, 'Roll', {});
    new s3.CfnBucketPolicy(stack, 'RollPolicy', {
      bucket: bucket.ref,
      policyDocument: {
        Statement: [
          { Effect: 'Allow', NotPrincipal: { AWS: '111122223333' }, Action: 's3:GetObject', Resource: '*' },
        ],
      },
    });
    // Absence is S3's default (all on for new buckets) but does not hold a bucket the template updates.
    expect(violationsOf(app)).toEqual([
      'RegistryGuard-S3BlockPublicAccessUnstated@Roll',
      'RegistryGuard-S3PublicPolicy@Roll',
    ]);
  });

  test('Noncompliance 4: a principal taken from a template parameter could be "*"', () => {
    const { app, stack } = newStack();
    const reader = new CfnParameter(stack, 'Reader');
    const bucket = policyOpenBucket(stack, 'Roll');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ArnPrincipal(reader.valueAsString)],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccess', 'RegistryGuard-S3PublicPolicy']);
  });

  test("a public policy that the bucket's own BlockPublicPolicy refuses is a warning on an ordinary bucket", () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3PublicPolicyBlocked']);
  });

  test('...and stays an error on a registry bucket', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    Tags.of(bucket).add('registry-guard:classification', 'Sensitive-Registry');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    expect(ruleIdsOf(app)).toContain('RegistryGuard-S3PublicPolicy');
    expect(ruleIdsOf(app)).not.toContain('RegistryGuard-S3PublicPolicyBlocked');
  });

  test('a bucket policy whose bucket the template does not define is judged and named', () => {
    const { app, stack } = newStack();
    new s3.CfnBucketPolicy(stack, 'ImportedPolicy', {
      bucket: Fn.importValue('shared-bucket'),
      policyDocument: {
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
      },
    });
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3PublicPolicy@ImportedPolicy']);
  });

  test('a bucket policy naming its bucket by the same Fn::Sub as BucketName is attached to it', () => {
    const { app, stack } = newStack();
    new s3.CfnBucket(stack, 'Roll', {
      bucketName: Fn.sub('${AWS::StackName}-roll'),
      publicAccessBlockConfiguration: ACLS_OPEN,
    });
    new s3.CfnBucketPolicy(stack, 'RollPolicy', {
      bucket: Fn.sub('${AWS::StackName}-roll'),
      policyDocument: {
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }],
      },
    });
    expect(violationsOf(app)).toEqual([
      'RegistryGuard-S3BlockPublicAccess@Roll',
      'RegistryGuard-S3PublicPolicyBlocked@Roll',
    ]);
  });

  test('Compliance: fixed principals and a "*" limited to a fixed VPC endpoint', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AccountRootPrincipal(), new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
        conditions: { StringEquals: { 'aws:SourceVpce': 'vpce-0a1b2c3d' } },
      }),
    );
    expect(violationsOf(app)).toEqual([]);
  });

  test('an acknowledgement silences exactly the acknowledged rule', () => {
    const { app, stack } = newStack();
    const bucket = new s3.Bucket(stack, 'Site', {
      publicReadAccess: true,
      blockPublicAccess: new s3.BlockPublicAccess({ blockPublicPolicy: false, restrictPublicBuckets: false }),
    });
    Validations.of(bucket).acknowledge({
      id: 'RegistryGuard-S3PublicPolicy',
      reason: 'Public open-data bucket.',
    });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccess']);
  });
});

describe('RegistryGuard-S3PublicAcl', () => {
  test.each(['PublicRead', 'PublicReadWrite', 'AuthenticatedRead'] as const)(
    'Noncompliance: L1 AccessControl %s',
    (acl) => {
      const { app, stack } = newStack();
      new s3.CfnBucket(stack, 'Roll', { accessControl: acl, publicAccessBlockConfiguration: ACLS_OPEN });
      expect(violationsOf(app)).toEqual([
        'RegistryGuard-S3BlockPublicAccess@Roll',
        'RegistryGuard-S3PublicAcl@Roll',
      ]);
    },
  );

  test("a public ACL the bucket's own settings refuse is a warning on an ordinary bucket", () => {
    const { app, stack } = newStack();
    new s3.Bucket(stack, 'Roll', {
      accessControl: s3.BucketAccessControl.PUBLIC_READ,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3PublicAclBlocked']);
  });

  test('AccessControl chosen by Fn::If between LogDeliveryWrite and AWS::NoValue is not public', () => {
    const { app, stack } = newStack();
    new CfnCondition(stack, 'Logs', { expression: Fn.conditionEquals('a', 'a') });
    new s3.CfnBucket(stack, 'Roll', {
      accessControl: Fn.conditionIf('Logs', 'LogDeliveryWrite', Aws.NO_VALUE).toString(),
      publicAccessBlockConfiguration: ALL_FOUR_ON,
    });
    expect(violationsOf(app)).toEqual([]);
  });

  test('AccessControl chosen by Fn::If with a PublicRead branch is public', () => {
    const { app, stack } = newStack();
    new CfnCondition(stack, 'Open', { expression: Fn.conditionEquals('a', 'a') });
    new s3.CfnBucket(stack, 'Roll', {
      accessControl: Fn.conditionIf('Open', 'PublicRead', 'Private').toString(),
      publicAccessBlockConfiguration: ACLS_OPEN,
    });
    expect(ruleIdsOf(app)).toContain('RegistryGuard-S3PublicAcl');
  });

  test.each(['LogDeliveryWrite', 'Private', 'BucketOwnerFullControl'] as const)(
    'Compliance: L1 AccessControl %s',
    (acl) => {
      const { app, stack } = newStack();
      new s3.CfnBucket(stack, 'Roll', {
        accessControl: acl,
        publicAccessBlockConfiguration: {
          blockPublicAcls: true,
          ignorePublicAcls: true,
          blockPublicPolicy: true,
          restrictPublicBuckets: true,
        },
      });
      expect(violationsOf(app)).toEqual([]);
    },
  );
});

describe('RegistryGuard-S3BlockPublicAccess', () => {
  test("an ordinary bucket with no configuration at all is a warning that names S3's default", () => {
    const { app, stack } = newStack();
    new s3.CfnBucket(stack, 'Roll');
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccessUnstated@Roll']);
    const [finding] = checkTemplate(Template.fromStack(stack).toJSON());
    expect(finding.level).toBe('warning');
    expect(finding.message).toContain("S3's default for new buckets turns all four on");
  });

  test('Noncompliance 1: a registry bucket with no configuration at all', () => {
    const { app, stack } = newStack();
    new s3.CfnBucket(stack, 'Roll', {
      tags: [{ key: 'registry-guard:classification', value: 'sensitive-registry' }],
    });
    expect(ruleIdsOf(app)).toContain('RegistryGuard-S3BlockPublicAccess');
    expect(ruleIdsOf(app)).not.toContain('RegistryGuard-S3BlockPublicAccessUnstated');
  });

  test('Noncompliance 2: L2 BLOCK_ACLS_ONLY leaves the policy settings off', () => {
    const { app, stack } = newStack();
    new s3.Bucket(stack, 'Roll', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccess']);
  });

  test('Noncompliance 3: one setting absent', () => {
    const { app, stack } = newStack();
    new s3.CfnBucket(stack, 'Roll', {
      publicAccessBlockConfiguration: {
        blockPublicAcls: true,
        ignorePublicAcls: true,
        blockPublicPolicy: true,
      },
    });
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccess@Roll']);
  });

  test('Compliance: "true" strings, as CloudFormation accepts them', () => {
    const { app, stack } = newStack();
    const bucket = new s3.CfnBucket(stack, 'Roll');
    bucket.addPropertyOverride('PublicAccessBlockConfiguration', {
      BlockPublicAcls: 'true',
      IgnorePublicAcls: 'true',
      BlockPublicPolicy: 'true',
      RestrictPublicBuckets: 'true',
    });
    expect(violationsOf(app)).toEqual([]);
  });

  test('property overrides are seen: turning a setting off with an escape hatch is caught', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
      'PublicAccessBlockConfiguration.RestrictPublicBuckets',
      false,
    );
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3BlockPublicAccess']);
  });
});

describe('RegistryGuard-S3PublicAccessPoint', () => {
  test('Noncompliance 1: a public access point policy', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    new s3.CfnAccessPoint(stack, 'Point', {
      bucket: bucket.bucketName,
      policy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }] },
    });
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3PublicAccessPoint@Point']);
  });

  test('Noncompliance 2: a Block Public Access setting turned off', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    new s3.CfnAccessPoint(stack, 'Point', {
      bucket: bucket.bucketName,
      publicAccessBlockConfiguration: { restrictPublicBuckets: false },
    });
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3PublicAccessPoint@Point']);
  });

  test('Noncompliance 3: an access point policy may not wildcard s3:DataAccessPointArn', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    new s3.CfnAccessPoint(stack, 'Point', {
      bucket: bucket.bucketName,
      policy: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: '*',
            Condition: {
              StringLike: { 's3:DataAccessPointArn': 'arn:aws:s3:us-east-1:111122223333:accesspoint/*' },
            },
          },
        ],
      },
    });
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3PublicAccessPoint@Point']);
  });

  test('Compliance: default settings and a fixed principal', () => {
    const { app, stack } = newStack();
    const bucket = closedBucket(stack, 'Roll');
    new s3.CfnAccessPoint(stack, 'Point', {
      bucket: bucket.bucketName,
      policy: {
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: stack.formatArn({ service: 'iam', region: '', resource: 'root' }) },
            Action: 's3:GetObject',
            Resource: '*',
          },
        ],
      },
    });
    expect(violationsOf(app)).toEqual([]);
  });
});

describe('RegistryGuard-KMSPublicKeyPolicy', () => {
  test('Noncompliance: a key policy granting kms:Decrypt to "*"', () => {
    const { app, stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
      }),
    );
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-KMSPublicKeyPolicy']);
  });

  test('Compliance: "*" limited to a fixed kms:CallerAccount, and the default key policy', () => {
    const { app, stack } = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'kms:CallerAccount': stack.account } },
      }),
    );
    new kms.Key(stack, 'Plain');
    expect(violationsOf(app)).toEqual([]);
  });
});

describe('template context inside the pack', () => {
  test('a principal read from CfnMapping and a parameter with fixed AllowedValues are fixed', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const accounts = new CfnMapping(stack, 'Accounts', {
      mapping: { 'us-east-1': { Reader: '111122223333' }, 'eu-west-1': { Reader: '444455556666' } },
    });
    const partner = new CfnParameter(stack, 'Partner', { allowedValues: ['777788889999'] });
    const bucket = closedBucket(stack, 'Roll');
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [
          new iam.AccountPrincipal(accounts.findInMap(stack.region, 'Reader')),
          new iam.AccountPrincipal(partner.valueAsString),
        ],
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects('*')],
      }),
    );
    expect(violationsOf(app)).toEqual([]);
  });
});
