import { App, CfnOutput, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE } from '../../lib/classification';
import { ruleIdsOf, violationsOf } from '../support/nag';

type Overrides = Partial<s3.BucketProps> & { rotation?: boolean; logBucketProps?: Partial<s3.BucketProps> };

/** A registry bucket written by hand with plain L2 constructs: every baseline rule satisfied unless overridden. */
function registryApp(overrides: Overrides = {}, tagged = true): { app: App; bucket: s3.Bucket } {
  const app = new App();
  const stack = new Stack(app, 'Test');
  acknowledgeNoGuard(stack);
  const { rotation, logBucketProps, ...bucketOverrides } = overrides;
  const logs = new s3.Bucket(stack, 'Logs', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.RETAIN,
    ...logBucketProps,
  });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: rotation ?? true });
  const bucket = new s3.Bucket(stack, 'Roll', {
    encryptionKey: key,
    encryption: s3.BucketEncryption.KMS,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    versioned: true,
    serverAccessLogsBucket: logs,
    removalPolicy: RemovalPolicy.RETAIN,
    ...bucketOverrides,
  });
  if (tagged) Tags.of(bucket).add(REGISTRY_CLASSIFICATION_TAG_KEY, REGISTRY_CLASSIFICATION_TAG_VALUE);
  new CfnOutput(stack, 'RollName', { value: bucket.bucketName });
  return { app, bucket };
}

/** These tests are about the baseline; RegistryGuard-S3DriftGuard has tests of its own. */
function acknowledgeNoGuard(stack: Stack): void {
  Validations.of(stack).acknowledge({
    id: 'RegistryGuard-S3DriftGuard',
    reason: 'Baseline rule tests: the drift guard is tested on its own.',
  });
}

describe('registry baseline', () => {
  test('Compliance: a hand-built registry bucket that meets every baseline rule', () => {
    expect(violationsOf(registryApp().app)).toEqual([]);
  });

  test('untagged buckets are not held to the registry baseline', () => {
    const { app } = registryApp(
      { versioned: false, encryption: s3.BucketEncryption.S3_MANAGED, encryptionKey: undefined },
      false,
    );
    expect(ruleIdsOf(app)).toEqual([]);
  });
});

describe('RegistryGuard-S3RegistryKmsEncryption', () => {
  test('Noncompliance 1: SSE-S3', () => {
    const { app } = registryApp({ encryption: s3.BucketEncryption.S3_MANAGED, encryptionKey: undefined });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryKmsEncryption']);
  });

  test('Noncompliance 2: the AWS-managed aws/s3 key', () => {
    const { app } = registryApp({ encryption: s3.BucketEncryption.KMS_MANAGED, encryptionKey: undefined });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryKmsEncryption']);
  });

  test('Noncompliance 3: a customer-managed key with rotation off', () => {
    const { app } = registryApp({ rotation: false });
    expect(violationsOf(app)).toEqual(['RegistryGuard-S3RegistryKmsEncryption@RollB1C5C8CF']);
  });

  test('Noncompliance 4: an alias of the AWS-managed key given by name', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    acknowledgeNoGuard(stack);
    const bucket = new s3.CfnBucket(stack, 'Roll', {
      bucketEncryption: {
        serverSideEncryptionConfiguration: [
          { serverSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: 'alias/aws/s3' } },
        ],
      },
      tags: [{ key: REGISTRY_CLASSIFICATION_TAG_KEY, value: REGISTRY_CLASSIFICATION_TAG_VALUE }],
    });
    bucket.applyRemovalPolicy(RemovalPolicy.RETAIN);
    expect(ruleIdsOf(app)).toContain('RegistryGuard-S3RegistryKmsEncryption');
  });
});

describe('RegistryGuard-S3RegistryTlsOnly', () => {
  test('Noncompliance: no aws:SecureTransport deny', () => {
    const { app } = registryApp({ enforceSSL: false });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryTlsOnly']);
  });
});

describe('RegistryGuard-S3RegistryVersioning', () => {
  test('Noncompliance: versioning off', () => {
    const { app } = registryApp({ versioned: false });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryVersioning']);
  });
});

describe('RegistryGuard-S3RegistryAccessLogging', () => {
  test('Noncompliance 1: no access logging', () => {
    const { app } = registryApp({ serverAccessLogsBucket: undefined });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryAccessLogging']);
  });

  test('Noncompliance 2: logs to a bucket whose Block Public Access is off', () => {
    const { app } = registryApp({
      logBucketProps: { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY },
    });
    const violations = violationsOf(app);
    expect(violations).toContain('RegistryGuard-S3RegistryAccessLogging@RollB1C5C8CF');
    expect(violations).toContain('RegistryGuard-S3BlockPublicAccess@Logs6819BB44');
  });

  test('Compliance: logs to a bucket outside the template, which cannot be inspected here', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    acknowledgeNoGuard(stack);
    const bucket = new s3.CfnBucket(stack, 'Roll', {
      loggingConfiguration: { destinationBucketName: 'central-access-logs' },
      tags: [{ key: REGISTRY_CLASSIFICATION_TAG_KEY, value: REGISTRY_CLASSIFICATION_TAG_VALUE }],
    });
    bucket.applyRemovalPolicy(RemovalPolicy.RETAIN);
    expect(ruleIdsOf(app)).not.toContain('RegistryGuard-S3RegistryAccessLogging');
  });
});

describe('RegistryGuard-S3RegistryOwnershipEnforced', () => {
  test('Noncompliance: ACLs enabled', () => {
    const { app } = registryApp({ objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryOwnershipEnforced']);
  });
});

describe('RegistryGuard-S3RegistryRetained', () => {
  test('Noncompliance 1: RemovalPolicy.DESTROY', () => {
    const { app } = registryApp({ removalPolicy: RemovalPolicy.DESTROY });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryRetained']);
  });

  test('Noncompliance 2: autoDeleteObjects empties the registry on stack deletion', () => {
    const { app } = registryApp({ removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true });
    expect(ruleIdsOf(app)).toContain('RegistryGuard-S3RegistryRetained');
  });
});

describe('RegistryGuard-S3RegistryNoWebsite', () => {
  test('Noncompliance: website hosting', () => {
    const { app } = registryApp({ websiteIndexDocument: 'index.html' });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryNoWebsite']);
  });
});

describe('RegistryGuard-S3RegistryNoWildcardCors', () => {
  test('Noncompliance: AllowedOrigins "*" (a warning)', () => {
    const { app } = registryApp({
      cors: [{ allowedMethods: [s3.HttpMethods.GET], allowedOrigins: ['*'] }],
    });
    expect(ruleIdsOf(app)).toEqual(['RegistryGuard-S3RegistryNoWildcardCors']);
  });

  test('Compliance: a named origin', () => {
    const { app } = registryApp({
      cors: [{ allowedMethods: [s3.HttpMethods.GET], allowedOrigins: ['https://registry.example.gob.mx'] }],
    });
    expect(ruleIdsOf(app)).toEqual([]);
  });
});
