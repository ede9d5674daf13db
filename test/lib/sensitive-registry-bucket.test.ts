import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  SensitiveRegistryBucket,
  SensitiveRegistryBucketProps,
  SensitiveRegistryBucketPropError,
} from '../../lib/sensitive-registry-bucket';
import { cfnLint } from '../support/cfn-lint';
import { violationsOf } from '../support/nag';

function registry(props: SensitiveRegistryBucketProps = {}): {
  stack: Stack;
  registry: SensitiveRegistryBucket;
  template: Template;
} {
  const app = new App();
  const stack = new Stack(app, 'Test');
  const bucket = new SensitiveRegistryBucket(stack, 'Roll', props);
  return { stack, registry: bucket, template: Template.fromStack(stack) };
}

/** The registry bucket's resource (the one tagged as a registry). */
function registryBucket(template: Template): { logicalId: string; resource: Record<string, unknown> } {
  const buckets = template.findResources('AWS::S3::Bucket', {
    Properties: {
      Tags: Match.arrayWith([{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }]),
    },
  });
  const [logicalId] = Object.keys(buckets);
  return { logicalId, resource: buckets[logicalId] };
}

function policyStatements(template: Template, bucketLogicalId: string): Record<string, unknown>[] {
  const policies = template.findResources('AWS::S3::BucketPolicy', {
    Properties: { Bucket: { Ref: bucketLogicalId } },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
        .PolicyDocument.Statement,
  );
}

describe('SensitiveRegistryBucket defaults', () => {
  const { template } = registry();
  const { logicalId, resource } = registryBucket(template);
  const properties = resource.Properties as Record<string, unknown>;

  test('a customer-managed KMS key with rotation on, retained', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('SSE-KMS with that key and S3 Bucket Keys on', () => {
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    expect(properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms',
            KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
        },
      ],
    });
  });

  test('the bucket policy denies uploads that name another encryption type or another key', () => {
    const statements = policyStatements(template, logicalId);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:PutObject',
          Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:PutObject',
          Condition: {
            StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': expect.anything() },
          },
        }),
      ]),
    );
  });

  test('Block Public Access: all four settings on', () => {
    expect(properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  test('object ownership BucketOwnerEnforced: ACLs disabled', () => {
    expect(properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(properties.AccessControl).toBeUndefined();
  });

  test('TLS only, and TLS 1.2 at least', () => {
    const statements = policyStatements(template, logicalId);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
        }),
      ]),
    );
  });

  test('versioning on, no Object Lock unless asked', () => {
    expect(properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(properties.ObjectLockEnabled).toBeUndefined();
  });

  test('access logs go to a dedicated, locked-down log bucket', () => {
    const logging = properties.LoggingConfiguration as {
      DestinationBucketName: { Ref: string };
      LogFilePrefix: string;
    };
    expect(logging.LogFilePrefix).toBe('registry-access-logs/');
    const logBucket = template.toJSON().Resources[logging.DestinationBucketName.Ref];
    expect(logBucket.Type).toBe('AWS::S3::Bucket');
    expect(logBucket.DeletionPolicy).toBe('Retain');
    expect(logBucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    expect(logBucket.Properties.Tags).toBeUndefined();
    // Log delivery by bucket policy to the logging service, limited to this registry bucket.
    expect(policyStatements(template, logging.DestinationBucketName.Ref)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'logging.s3.amazonaws.com' },
          Condition: expect.objectContaining({
            ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId, 'Arn'] } },
          }),
        }),
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      ]),
    );
  });

  test('retained on delete and replacement, never auto-deleted', () => {
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('lifecycle: abort incomplete multipart uploads after 7 days, keep noncurrent versions', () => {
    expect(properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'registry-guard-housekeeping',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          Status: 'Enabled',
        },
      ],
    });
  });

  test('tagged registry-guard:classification = sensitive-registry', () => {
    expect(properties.Tags).toEqual([{ Key: 'registry-guard:classification', Value: 'sensitive-registry' }]);
  });

  test('no perimeter statements unless asked', () => {
    const sids = policyStatements(template, logicalId).map((statement) => statement.Sid);
    expect(sids).not.toContain('DenyPrincipalsOutsideOrganization');
    expect(sids).not.toContain('DenyRequestsOutsideVpcEndpoints');
  });

  test('passes RegistryGuardChecks with no finding at all', () => {
    const app = new App();
    new SensitiveRegistryBucket(new Stack(app, 'Test'), 'Roll');
    expect(violationsOf(app)).toEqual([]);
  });
});

describe('SensitiveRegistryBucket options', () => {
  test.each(['GOVERNANCE', 'COMPLIANCE'] as const)('Object Lock in %s mode', (mode) => {
    const { template } = registry({ objectLock: { mode, retention: Duration.days(3650) } });
    expect(registryBucket(template).resource.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: mode, Days: 3650 } },
      },
    });
  });

  test('noncurrent versions expire when asked; the multipart abort window is configurable', () => {
    const { template } = registry({
      noncurrentVersionExpiration: Duration.days(365),
      abortIncompleteMultipartUploadAfter: Duration.days(2),
    });
    expect(registryBucket(template).resource.Properties).toMatchObject({
      LifecycleConfiguration: {
        Rules: [
          {
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
            NoncurrentVersionExpiration: { NoncurrentDays: 365 },
            Status: 'Enabled',
          },
        ],
      },
    });
  });

  test('organization perimeter: deny outside aws:PrincipalOrgID, with an escape for AWS services', () => {
    const { template } = registry({ allowedOrganizationId: 'o-a1b2c3d4e5' });
    const { logicalId } = registryBucket(template);
    expect(policyStatements(template, logicalId)).toContainEqual(
      expect.objectContaining({
        Sid: 'DenyPrincipalsOutsideOrganization',
        Effect: 'Deny',
        Action: 's3:*',
        Condition: {
          StringNotEqualsIfExists: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
          BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
  });

  test('VPC endpoint perimeter: deny outside aws:SourceVpce, with an escape for AWS services', () => {
    const { template } = registry({ allowedVpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'] });
    const { logicalId } = registryBucket(template);
    expect(policyStatements(template, logicalId)).toContainEqual(
      expect.objectContaining({
        Sid: 'DenyRequestsOutsideVpcEndpoints',
        Effect: 'Deny',
        Condition: {
          StringNotEquals: { 'aws:SourceVpce': ['vpce-0a1b2c3d4e5f60718'] },
          BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
  });

  test('a supplied key is used and no key is created', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const key = new kms.Key(stack, 'Shared', { enableKeyRotation: true });
    new SensitiveRegistryBucket(stack, 'Roll', { encryptionKey: key });
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  test('a supplied, locked-down log bucket is used and no log bucket is created', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const logs = new s3.Bucket(stack, 'CentralLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    });
    new SensitiveRegistryBucket(stack, 'Roll', { accessLogsBucket: logs, accessLogsPrefix: 'roll/' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(registryBucket(template).resource.Properties).toMatchObject({
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Stack.of(logs).getLogicalId(logs.node.defaultChild as s3.CfnBucket) },
        LogFilePrefix: 'roll/',
      },
    });
  });

  test('replication to another registry bucket: KMS-encrypted objects, the replica key, a least-privilege role', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const replica = new SensitiveRegistryBucket(stack, 'Replica');
    new SensitiveRegistryBucket(stack, 'Roll', { replicationDestination: replica });
    const template = Template.fromStack(stack);
    const replicaKeyId = stack.getLogicalId(replica.encryptionKey.node.defaultChild as kms.CfnKey);
    template.hasResourceProperties('AWS::S3::Bucket', {
      ReplicationConfiguration: {
        Rules: [
          Match.objectLike({
            Destination: {
              Bucket: {
                'Fn::GetAtt': [stack.getLogicalId(replica.bucket.node.defaultChild as s3.CfnBucket), 'Arn'],
              },
              EncryptionConfiguration: { ReplicaKmsKeyID: { 'Fn::GetAtt': [replicaKeyId, 'Arn'] } },
            },
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            Status: 'Enabled',
          }),
        ],
      },
    });
    const roleStatements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    const actions = roleStatements.flatMap((statement) => [statement.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['s3:ReplicateObject', 'kms:Decrypt', 'kms:Encrypt']));
    expect(actions.filter((action) => action === '*' || action === 's3:*' || action === 'kms:*')).toEqual([]);
  });

  test('grantRead: list and get objects, kms:Decrypt, and nothing more', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const roll = new SensitiveRegistryBucket(stack, 'Roll');
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    roll.grantRead(role);
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    expect(statements.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(
      [
        'kms:Decrypt',
        's3:GetBucketLocation',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:ListBucket',
        's3:ListBucketVersions',
      ].sort(),
    );
  });

  test('grantWrite: put, abort and delete objects, kms:GenerateDataKey and kms:Decrypt, and nothing more', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const roll = new SensitiveRegistryBucket(stack, 'Roll');
    const role = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    roll.grantWrite(role);
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } })
          .Properties.PolicyDocument.Statement,
    );
    expect(statements.flatMap((statement) => [statement.Action].flat()).sort()).toEqual(
      [
        'kms:Decrypt',
        'kms:GenerateDataKey',
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:ListBucketMultipartUploads',
        's3:ListMultipartUploadParts',
        's3:PutObject',
      ].sort(),
    );
  });

  test('exposes the bucket, its key and its log bucket', () => {
    const { registry: roll } = registry();
    expect(roll.bucket).toBeInstanceOf(s3.Bucket);
    expect(roll.encryptionKey).toBeInstanceOf(kms.Key);
    expect(roll.accessLogsBucket).toBeInstanceOf(s3.Bucket);
  });
});

describe('SensitiveRegistryBucket refuses props that would weaken it', () => {
  function refusal(
    props: Record<string, unknown>,
    setup?: (stack: Stack) => Record<string, unknown>,
  ): SensitiveRegistryBucketPropError {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const extra = setup ? setup(stack) : {};
    try {
      new SensitiveRegistryBucket(stack, 'Roll', { ...props, ...extra } as SensitiveRegistryBucketProps);
    } catch (error) {
      expect(error).toBeInstanceOf(SensitiveRegistryBucketPropError);
      return error as SensitiveRegistryBucketPropError;
    }
    throw new Error('the construct accepted the props');
  }

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['publicReadAccess: would grant s3:GetObject to everyone', { publicReadAccess: true }, /everyone/],
    [
      'websiteIndexDocument: website hosting serves objects anonymously',
      { websiteIndexDocument: 'index.html' },
      /website/,
    ],
    ['websiteErrorDocument', { websiteErrorDocument: 'error.html' }, /website/],
    ['websiteRedirect', { websiteRedirect: { hostName: 'example.org' } }, /website/],
    ['websiteRoutingRules', { websiteRoutingRules: [] }, /website/],
    [
      'accessControl: ACLs are disabled',
      { accessControl: s3.BucketAccessControl.PUBLIC_READ },
      /ACLs are disabled/,
    ],
    [
      'blockPublicAccess other than BLOCK_ALL',
      { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY },
      /Block Public Access/,
    ],
    ['objectOwnership that re-enables ACLs', { objectOwnership: s3.ObjectOwnership.OBJECT_WRITER }, /ACLs/],
    ['encryption other than KMS', { encryption: s3.BucketEncryption.S3_MANAGED }, /customer-managed KMS key/],
    ['enforceSSL: false', { enforceSSL: false }, /plain-HTTP/],
    ['minimumTLSVersion below 1.2', { minimumTLSVersion: 1.0 }, /TLS below 1.2/],
    ['versioned: false', { versioned: false }, /versioning/],
    ['autoDeleteObjects: true', { autoDeleteObjects: true }, /empty the registry/],
    ['removalPolicy DESTROY', { removalPolicy: 'destroy' }, /retained/],
    [
      'serverAccessLogsBucket instead of accessLogsBucket',
      { serverAccessLogsBucket: {} },
      /accessLogsBucket/,
    ],
    ['a misspelt prop', { encryptonKey: {} }, /not a SensitiveRegistryBucket prop/],
    [
      'an Object Lock retention under a day',
      { objectLock: { mode: 'GOVERNANCE', retention: Duration.hours(12) } },
      /at least one day/,
    ],
    [
      'an Object Lock mode that does not exist',
      { objectLock: { mode: 'LEGAL', retention: Duration.days(1) } },
      /GOVERNANCE/,
    ],
    ['a malformed organization id', { allowedOrganizationId: 'my-org' }, /not an AWS Organization id/],
    ['a malformed VPC endpoint id', { allowedVpcEndpointIds: ['vpc-123'] }, /not a VPC endpoint id/],
    ['an empty VPC endpoint list', { allowedVpcEndpointIds: [] }, /deny every request/],
    [
      'CORS AllowedOrigins "*"',
      { cors: [{ allowedMethods: ['GET'], allowedOrigins: ['*'] }] },
      /AllowedOrigins/,
    ],
    [
      'a replication destination that is not a SensitiveRegistryBucket',
      { replicationDestination: {} },
      /another SensitiveRegistryBucket/,
    ],
  ])('refuses %s', (_name, props, why) => {
    const error = refusal(props);
    const prop = Object.keys(props)[0];
    expect(error.prop).toBe(prop);
    expect(error.message).toMatch(new RegExp(`^SensitiveRegistryBucket Test/Roll: ${prop} is refused: `));
    expect(error.message).toMatch(why);
  });

  test('accepts the safe value of a BucketProps key, as a {...bucketProps} spread would pass it', () => {
    expect(() =>
      registry({
        versioned: true,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      } as SensitiveRegistryBucketProps),
    ).not.toThrow();
  });

  test('refuses the AWS-managed aws/s3 key', () => {
    const error = refusal({}, (stack) => ({
      encryptionKey: kms.Alias.fromAliasName(stack, 'AwsS3', 'alias/aws/s3'),
    }));
    expect(error.prop).toBe('encryptionKey');
    expect(error.message).toMatch(/AWS-managed/);
  });

  test('refuses an imported log bucket: it cannot be verified', () => {
    const error = refusal({}, (stack) => ({
      accessLogsBucket: s3.Bucket.fromBucketName(stack, 'Logs', 'central-logs'),
    }));
    expect(error.prop).toBe('accessLogsBucket');
    expect(error.message).toMatch(/imported bucket/);
  });

  test('refuses a log bucket with Block Public Access off', () => {
    const error = refusal({}, (stack) => ({
      accessLogsBucket: new s3.Bucket(stack, 'Logs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY,
      }),
    }));
    expect(error.message).toMatch(
      /all four Block Public Access settings on \(off: BlockPublicPolicy, RestrictPublicBuckets\)/,
    );
  });

  test('refuses a log bucket that hosts a website, or is SSE-KMS encrypted (log delivery would fail)', () => {
    expect(
      refusal({}, (stack) => ({
        accessLogsBucket: new s3.Bucket(stack, 'Logs', {
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          websiteIndexDocument: 'index.html',
        }),
      })).message,
    ).toMatch(/hosts a website/);
    expect(
      refusal({}, (stack) => ({
        accessLogsBucket: new s3.Bucket(stack, 'Logs', {
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          encryption: s3.BucketEncryption.KMS,
        }),
      })).message,
    ).toMatch(/SSE-KMS/);
  });
});

describe('SensitiveRegistryBucket templates pass the real cfn-lint', () => {
  test('default and every option on: no cfn-lint error', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-cfn-lint-'));
    const app = new App({ outdir });
    new SensitiveRegistryBucket(new Stack(app, 'Default'), 'Roll');
    const everything = new Stack(app, 'Everything');
    const replica = new SensitiveRegistryBucket(everything, 'Replica');
    new SensitiveRegistryBucket(everything, 'Roll', {
      bucketName: 'electoral-roll-2026',
      objectLock: { mode: 'COMPLIANCE', retention: Duration.days(3650) },
      allowedOrganizationId: 'o-a1b2c3d4e5',
      allowedVpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'],
      noncurrentVersionExpiration: Duration.days(365),
      replicationDestination: replica,
      cors: [{ allowedMethods: [s3.HttpMethods.GET], allowedOrigins: ['https://registro.example.gob.mx'] }],
    });
    const assembly = app.synth();
    const templates = assembly.stacks.map((stack) => path.join(assembly.directory, stack.templateFile));
    expect(cfnLint(templates).errors).toEqual([]);
  });
});
