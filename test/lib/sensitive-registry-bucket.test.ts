import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnElement, CfnParameter, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  SensitiveRegistryBucket,
  SensitiveRegistryBucketProps,
  SensitiveRegistryBucketPropError,
} from '../../lib/sensitive-registry-bucket';
import { Errors } from '../../lib/errors';
import {
  GUARD_BUCKET_READ_ACTIONS,
  GUARD_BUCKET_TIGHTEN_ACTIONS,
  GUARD_ROLE_PATH,
} from '../../lib/guard-facts';
import { cfnLint } from '../support/cfn-lint';
import { violationsOf } from '../support/nag';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** A stack with whatever `build` puts in it, and its template. */
function synth(build: (stack: Stack) => void): { stack: Stack; template: Template } {
  const app = new App();
  const stack = new Stack(app, 'Test');
  build(stack);
  return { stack, template: Template.fromStack(stack) };
}

/** A stack with one SensitiveRegistryBucket `Roll`. */
function registry(props: SensitiveRegistryBucketProps = {}): {
  stack: Stack;
  roll: SensitiveRegistryBucket;
  template: Template;
} {
  let roll: SensitiveRegistryBucket | undefined;
  const { stack, template } = synth((scope) => {
    roll = new SensitiveRegistryBucket(scope, 'Roll', props);
  });
  return { stack, roll: roll as SensitiveRegistryBucket, template };
}

function logicalId(element: { node: { defaultChild?: unknown } }): string {
  const cfn = element.node.defaultChild as CfnElement;
  return Stack.of(cfn).getLogicalId(cfn);
}

function resource(template: Template, id: string): Resource {
  return template.toJSON().Resources[id] as Resource;
}

function statementsOf(policies: Record<string, unknown>): Statement[] {
  return Object.values(policies).flatMap(
    (policy) => ((policy as Resource).Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}

function bucketPolicyStatements(template: Template, bucketLogicalId: string): Statement[] {
  return statementsOf(
    template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketLogicalId } } }),
  );
}

function rolePolicyStatements(template: Template, roleLogicalId: string): Statement[] {
  return statementsOf(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
    }),
  );
}

function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((statement) => [statement.Action].flat()).sort();
}

/** A template value built by `Fn::Join` from text and `AWS::Partition`, as it reads in the `aws` partition. */
function inPartitionAws(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      if ((part as { Ref?: string }).Ref === 'AWS::Partition') return 'aws';
      throw new Error(`inPartitionAws: cannot read ${JSON.stringify(part)}`);
    })
    .join(separator);
}

const getAtt = (id: string): unknown => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objectsOf = (id: string): unknown => ({ 'Fn::Join': ['', [getAtt(id), '/*']] });

const ALL_FOUR_ON = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

describe('SensitiveRegistryBucket, by default', () => {
  const { roll, template } = registry();
  const bucketId = logicalId(roll.bucket);
  const keyId = logicalId(roll.encryptionKey);
  const logsId = logicalId(roll.accessLogsBucket);
  const bucket = resource(template, bucketId);
  const statements = bucketPolicyStatements(template, bucketId);

  test('creates a customer-managed KMS key with rotation on and a description, retained on delete and replace', () => {
    expect(resource(template, keyId)).toMatchObject({
      Type: 'AWS::KMS::Key',
      Properties: { EnableKeyRotation: true, Description: 'Encrypts the sensitive registry Test/Roll' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('encrypts with SSE-KMS under that key, with S3 Bucket Keys on', () => {
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: getAtt(keyId) },
        },
      ],
    });
  });

  test('denies uploads whose encryption header names anything but aws:kms (uploads without it get the default)', () => {
    expect(statements).toContainEqual({
      Sid: 'DenyUploadsWithOtherEncryption',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: objectsOf(bucketId),
      Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    });
  });

  test('denies uploads whose KMS key header names any key but the registry key', () => {
    expect(statements).toContainEqual({
      Sid: 'DenyUploadsWithOtherKmsKeys',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: objectsOf(bucketId),
      Condition: {
        StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': getAtt(keyId) },
      },
    });
  });

  test('turns on all four Block Public Access settings', () => {
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual(ALL_FOUR_ON);
  });

  test('disables ACLs: object ownership BucketOwnerEnforced and no AccessControl', () => {
    expect(bucket.Properties.OwnershipControls).toEqual({
      Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }],
    });
    expect(bucket.Properties.AccessControl).toBeUndefined();
  });

  test('denies every request made without TLS, on the bucket and its objects', () => {
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [getAtt(bucketId), objectsOf(bucketId)],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  test('denies every request made with TLS older than 1.2', () => {
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [getAtt(bucketId), objectsOf(bucketId)],
        Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
      }),
    );
  });

  test('versions every object', () => {
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('has no Object Lock unless asked', () => {
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket.Properties.ObjectLockConfiguration).toBeUndefined();
  });

  test('sends server access logs to a dedicated log bucket under registry-access-logs/', () => {
    expect(bucket.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsId },
      LogFilePrefix: 'registry-access-logs/',
    });
    expect(logsId).not.toBe(bucketId);
  });

  test('lets only the S3 logging service, for this bucket and account, write logs, by bucket policy', () => {
    expect(bucketPolicyStatements(template, logsId)).toContainEqual({
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [getAtt(logsId), '/registry-access-logs/*']] },
      Condition: {
        ArnLike: { 'aws:SourceArn': getAtt(bucketId) },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      },
    });
  });

  test('locks the log bucket down: Block Public Access, no ACLs, SSE-S3, versioned, multipart uploads aborted, retained', () => {
    const logs = resource(template, logsId);
    expect(logs).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(logs.Properties).toEqual(
      expect.objectContaining({
        PublicAccessBlockConfiguration: ALL_FOUR_ON,
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [{ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }],
        },
      }),
    );
    expect(logs.Properties.AccessControl).toBeUndefined();
    expect(logs.Properties.WebsiteConfiguration).toBeUndefined();
  });

  test('denies requests to the log bucket without TLS or with TLS older than 1.2', () => {
    const conditions = bucketPolicyStatements(template, logsId)
      .filter((statement) => statement.Effect === 'Deny')
      .map((statement) => statement.Condition);
    expect(conditions).toEqual(
      expect.arrayContaining([
        { Bool: { 'aws:SecureTransport': 'false' } },
        { NumericLessThan: { 's3:TlsVersion': 1.2 } },
      ]),
    );
  });

  test('does not tag the log bucket as a registry', () => {
    expect(resource(template, logsId).Properties.Tags).toBeUndefined();
  });

  test('retains the bucket when the stack is deleted or the bucket replaced', () => {
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  test('never auto-deletes objects: no Custom::S3AutoDeleteObjects resource', () => {
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/AutoDeleteObjects/);
  });

  test('aborts incomplete multipart uploads after 7 days and keeps noncurrent versions', () => {
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'registry-guard-housekeeping',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          Status: 'Enabled',
        },
      ],
    });
  });

  test('tags the bucket registry-guard:classification = sensitive-registry', () => {
    expect(bucket.Properties.Tags).toEqual([
      { Key: 'registry-guard:classification', Value: 'sensitive-registry' },
    ]);
  });

  test('adds no perimeter statements unless asked', () => {
    const sids = statements.map((statement) => statement.Sid);
    expect(sids).not.toContain('DenyPrincipalsOutsideOrganization');
    expect(sids).not.toContain('DenyRequestsOutsideVpcEndpoints');
    expect(sids).not.toContain('DenyGuardActionsOutsideVpcEndpointsExceptGuard');
  });

  test('has no replication configuration or role unless asked', () => {
    expect(bucket.Properties.ReplicationConfiguration).toBeUndefined();
    template.resourceCountIs('AWS::IAM::Role', 0);
  });

  test('exposes the bucket, its key and its log bucket', () => {
    expect(roll.bucket).toBeInstanceOf(s3.Bucket);
    expect(roll.encryptionKey).toBeInstanceOf(kms.Key);
    expect(roll.accessLogsBucket).toBeInstanceOf(s3.Bucket);
  });

  test('passes every RegistryGuardChecks bucket rule with no finding', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    new SensitiveRegistryBucket(stack, 'Roll');
    Validations.of(stack).acknowledge({
      id: 'RegistryGuard-S3DriftGuard',
      reason: 'An app-level rule (is a PublicAccessGuard deployed?), not a property of this bucket.',
    });
    expect(violationsOf(app)).toEqual([]);
  });
});

describe('SensitiveRegistryBucket options', () => {
  test.each([s3.ObjectLockMode.GOVERNANCE, s3.ObjectLockMode.COMPLIANCE])(
    'objectLock in %s mode turns on Object Lock with that default retention',
    (mode) => {
      const { roll, template } = registry({ objectLock: { mode, retention: Duration.days(3650) } });
      expect(resource(template, logicalId(roll.bucket)).Properties).toMatchObject({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: mode, Days: 3650 } },
        },
        VersioningConfiguration: { Status: 'Enabled' },
      });
    },
  );

  test('bucketName names the bucket', () => {
    const { roll, template } = registry({ bucketName: 'electoral-roll-2026' });
    expect(resource(template, logicalId(roll.bucket)).Properties.BucketName).toBe('electoral-roll-2026');
  });

  test('noncurrentVersionExpiration expires old versions; abortIncompleteMultipartUploadAfter sets the abort window', () => {
    const { roll, template } = registry({
      noncurrentVersionExpiration: Duration.days(365),
      abortIncompleteMultipartUploadAfter: Duration.days(2),
    });
    expect(resource(template, logicalId(roll.bucket)).Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'registry-guard-housekeeping',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
          NoncurrentVersionExpiration: { NoncurrentDays: 365 },
          Status: 'Enabled',
        },
      ],
    });
  });

  test('allowedOrganizationId denies principals outside the organization, except AWS service principals', () => {
    const { roll, template } = registry({ allowedOrganizationId: 'o-a1b2c3d4e5' });
    const bucketId = logicalId(roll.bucket);
    expect(bucketPolicyStatements(template, bucketId)).toContainEqual({
      Sid: 'DenyPrincipalsOutsideOrganization',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:*',
      Resource: [getAtt(bucketId), objectsOf(bucketId)],
      Condition: {
        StringNotEqualsIfExists: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' },
        BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
      },
    });
  });

  describe('allowedVpcEndpointIds', () => {
    const endpoints = ['vpce-0a1b2c3d4e5f60718', 'vpce-1a2b3c4d'];
    const guardActions = [...GUARD_BUCKET_READ_ACTIONS, ...GUARD_BUCKET_TIGHTEN_ACTIONS];
    const { roll, template } = registry({ allowedVpcEndpointIds: endpoints });
    const bucketId = logicalId(roll.bucket);
    const statements = bucketPolicyStatements(template, bucketId);
    const outsideEndpoints = {
      StringNotEquals: { 'aws:SourceVpce': endpoints },
      BoolIfExists: { 'aws:PrincipalIsAWSService': 'false' },
    };

    test('denies everything but the guard actions from outside those endpoints, except AWS service principals', () => {
      expect(statements).toContainEqual({
        Sid: 'DenyRequestsOutsideVpcEndpoints',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        NotAction: guardActions,
        Resource: [getAtt(bucketId), objectsOf(bucketId)],
        Condition: outsideEndpoints,
      });
    });

    test("denies the guard actions from outside those endpoints too, unless the caller is a role on the guard's path", () => {
      expect(statements).toContainEqual({
        Sid: 'DenyGuardActionsOutsideVpcEndpointsExceptGuard',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: guardActions,
        Resource: getAtt(bucketId),
        Condition: {
          ...outsideEndpoints,
          ArnNotLike: {
            'aws:PrincipalArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':iam::',
                  { Ref: 'AWS::AccountId' },
                  ':role/registry-guard/*',
                ],
              ],
            },
          },
        },
      });
      expect(
        statements.filter((statement) => JSON.stringify(statement).includes('aws:SourceVpce')),
      ).toHaveLength(2);
    });

    test('the exemption is only bucket-level: no object action (s3:GetObject, s3:PutObject, ...) is in it', () => {
      expect(guardActions).not.toContain('s3:GetObject');
      for (const action of guardActions) {
        expect(action).toMatch(/^s3:(Get|Put|Delete)Bucket[A-Za-z]+$/);
      }
    });

    test('the guard path names the account of the bucket and the partition of its stack', () => {
      const app = new App();
      const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
      const pinned = new SensitiveRegistryBucket(stack, 'Roll', { allowedVpcEndpointIds: endpoints });
      const exempt = bucketPolicyStatements(Template.fromStack(stack), logicalId(pinned.bucket)).find(
        (statement) => statement.Sid === 'DenyGuardActionsOutsideVpcEndpointsExceptGuard',
      );
      expect(exempt?.Condition).toMatchObject({
        ArnNotLike: {
          'aws:PrincipalArn': {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, `:iam::111111111111:role${GUARD_ROLE_PATH}*`],
            ],
          },
        },
      });
    });

    /**
     * The two statements evaluated as IAM evaluates Deny conditions for a request from outside the endpoints:
     * every condition must hold; a negated operator holds when the request's value does not match.
     */
    test('outside the endpoints: the guard role gets exactly the guard actions; nobody else gets anything', () => {
      const guardRole = 'arn:aws:iam::111111111111:role/registry-guard/GuardHandlerRole1A2B3C4D';
      const otherRole = 'arn:aws:iam::111111111111:role/Admin';
      const app = new App();
      const stack = new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
      const pinned = new SensitiveRegistryBucket(stack, 'Roll', { allowedVpcEndpointIds: endpoints });
      const policy = bucketPolicyStatements(
        Template.fromStack(stack),
        logicalId(pinned.bucket),
      ) as (Statement & {
        NotAction?: string[];
        Condition?: Record<string, Record<string, unknown>>;
      })[];
      const denied = (principalArn: string, action: string): boolean =>
        policy.some((statement) => {
          if (
            statement.Effect !== 'Deny' ||
            !JSON.stringify(statement.Condition ?? {}).includes('SourceVpce')
          ) {
            return false;
          }
          const matchesAction =
            statement.NotAction !== undefined
              ? !statement.NotAction.includes(action)
              : [statement.Action].flat().some((candidate) => candidate === action || candidate === 's3:*');
          const pattern = inPartitionAws(statement.Condition?.ArnNotLike?.['aws:PrincipalArn']);
          const exempt = pattern !== undefined && principalArn.startsWith(pattern.replace(/\*$/, ''));
          return matchesAction && !exempt;
        });
      for (const action of guardActions) {
        expect({ action, denied: denied(guardRole, action) }).toEqual({ action, denied: false });
        expect({ action, denied: denied(otherRole, action) }).toEqual({ action, denied: true });
      }
      for (const action of [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
        's3:ListBucket',
        's3:PutBucketVersioning',
      ]) {
        expect({ action, denied: denied(guardRole, action) }).toEqual({ action, denied: true });
        expect({ action, denied: denied(otherRole, action) }).toEqual({ action, denied: true });
      }
    });

    test('its TSDoc says the guard path is let through for bucket-level guard actions only, no object action', () => {
      const source = fs.readFileSync(path.join(__dirname, '../../lib/sensitive-registry-bucket.ts'), 'utf8');
      const match = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*readonly allowedVpcEndpointIds/.exec(source);
      const doc = (match?.[1] ?? '').replace(/\s*\*\s*/g, ' ');
      expect(doc).toContain('GUARD_ROLE_PATH');
      expect(doc).toContain(GUARD_ROLE_PATH);
      expect(doc).toContain('GUARD_BUCKET_READ_ACTIONS');
      expect(doc).toContain('GUARD_BUCKET_TIGHTEN_ACTIONS');
      expect(doc).toMatch(/no object action \(`s3:GetObject`/);
    });
  });

  test('accepts an organization id and endpoint ids that are only known at deployment (tokens)', () => {
    const { template } = synth((stack) => {
      new SensitiveRegistryBucket(stack, 'Roll', {
        allowedOrganizationId: new CfnParameter(stack, 'OrgId').valueAsString,
        allowedVpcEndpointIds: [new CfnParameter(stack, 'Endpoint').valueAsString],
      });
    });
    const statements = statementsOf(template.findResources('AWS::S3::BucketPolicy'));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Condition: expect.objectContaining({
          StringNotEqualsIfExists: { 'aws:PrincipalOrgID': { Ref: 'OrgId' } },
        }),
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Condition: expect.objectContaining({ StringNotEquals: { 'aws:SourceVpce': [{ Ref: 'Endpoint' }] } }),
      }),
    );
  });

  test('encryptionKey: a supplied customer-managed key encrypts the bucket and no key is created', () => {
    let key: kms.Key | undefined;
    let roll: SensitiveRegistryBucket | undefined;
    const { template } = synth((stack) => {
      key = new kms.Key(stack, 'Shared', { enableKeyRotation: true });
      roll = new SensitiveRegistryBucket(stack, 'Roll', { encryptionKey: key });
    });
    const keyId = logicalId(key as kms.Key);
    const bucketId = logicalId((roll as SensitiveRegistryBucket).bucket);
    template.resourceCountIs('AWS::KMS::Key', 1);
    expect(roll?.encryptionKey).toBe(key);
    expect(resource(template, bucketId).Properties.BucketEncryption).toMatchObject({
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { KMSMasterKeyID: getAtt(keyId) } },
      ],
    });
    expect(bucketPolicyStatements(template, bucketId)).toContainEqual(
      expect.objectContaining({
        Condition: {
          StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': getAtt(keyId) },
        },
      }),
    );
  });

  test('accessLogsBucket and accessLogsPrefix: a supplied, locked-down log bucket receives the logs under that prefix', () => {
    let logs: s3.Bucket | undefined;
    let roll: SensitiveRegistryBucket | undefined;
    const { template } = synth((stack) => {
      logs = new s3.Bucket(stack, 'CentralLogs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      });
      roll = new SensitiveRegistryBucket(stack, 'Roll', {
        accessLogsBucket: logs,
        accessLogsPrefix: 'roll/',
      });
    });
    const logsId = logicalId(logs as s3.Bucket);
    const bucketId = logicalId((roll as SensitiveRegistryBucket).bucket);
    template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(resource(template, bucketId).Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsId },
      LogFilePrefix: 'roll/',
    });
    expect(bucketPolicyStatements(template, logsId)).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [getAtt(logsId), '/roll/*']] },
      }),
    );
  });

  test('accessLogsBucket in another stack of the app synthesizes without a dependency cycle', () => {
    const app = new App();
    const logsStack = new Stack(app, 'Logs');
    const logs = new s3.Bucket(logsStack, 'CentralLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    });
    new SensitiveRegistryBucket(new Stack(app, 'Registry'), 'Roll', { accessLogsBucket: logs });
    expect(() => app.synth()).not.toThrow();
    expect(bucketPolicyStatements(Template.fromStack(logsStack), logicalId(logs))).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    );
  });

  describe('replicationDestination', () => {
    let replica: SensitiveRegistryBucket | undefined;
    let roll: SensitiveRegistryBucket | undefined;
    const { template } = synth((stack) => {
      replica = new SensitiveRegistryBucket(stack, 'Replica');
      roll = new SensitiveRegistryBucket(stack, 'Roll', { replicationDestination: replica });
    });
    const source = roll as SensitiveRegistryBucket;
    const destination = replica as SensitiveRegistryBucket;
    const roleId = Object.keys(template.findResources('AWS::IAM::Role'))[0];

    test('replicates SSE-KMS objects to the destination, re-encrypted with the destination key', () => {
      expect(resource(template, logicalId(source.bucket)).Properties.ReplicationConfiguration).toEqual({
        Role: getAtt(roleId),
        Rules: [
          {
            Destination: {
              Bucket: getAtt(logicalId(destination.bucket)),
              EncryptionConfiguration: { ReplicaKmsKeyID: getAtt(logicalId(destination.encryptionKey)) },
            },
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            DeleteMarkerReplication: { Status: 'Disabled' },
            Filter: { Prefix: '' },
            Priority: 1,
            Status: 'Enabled',
          },
        ],
      });
    });

    test('uses a role only S3 can assume, without a fixed name', () => {
      expect(resource(template, roleId).Properties).toMatchObject({
        AssumeRolePolicyDocument: {
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' } },
          ],
        },
      });
      expect(resource(template, roleId).Properties.RoleName).toBeUndefined();
    });

    test('grants the role replication actions on the two buckets only, kms:Decrypt on the source key and kms:Encrypt on the destination key', () => {
      const sourceId = logicalId(source.bucket);
      const destinationId = logicalId(destination.bucket);
      expect(rolePolicyStatements(template, roleId)).toEqual([
        {
          Effect: 'Allow',
          Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          Resource: getAtt(sourceId),
        },
        {
          Effect: 'Allow',
          Action: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
          ],
          Resource: objectsOf(sourceId),
        },
        {
          Effect: 'Allow',
          Action: ['s3:ReplicateObject', 's3:ReplicateTags'],
          Resource: objectsOf(destinationId),
        },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAtt(logicalId(source.encryptionKey)) },
        { Effect: 'Allow', Action: 'kms:Encrypt', Resource: getAtt(logicalId(destination.encryptionKey)) },
      ]);
    });

    test('from an Object Lock registry, also lets the role read each version’s retention and legal hold', () => {
      const lock = { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(30) };
      const { template: locked } = synth((stack) => {
        const lockedReplica = new SensitiveRegistryBucket(stack, 'Replica', { objectLock: lock });
        new SensitiveRegistryBucket(stack, 'Roll', {
          objectLock: lock,
          replicationDestination: lockedReplica,
        });
      });
      const lockedRoleId = Object.keys(locked.findResources('AWS::IAM::Role'))[0];
      expect(actionsOf(rolePolicyStatements(locked, lockedRoleId))).toEqual(
        expect.arrayContaining(['s3:GetObjectLegalHold', 's3:GetObjectRetention']),
      );
    });

    test('two replicating registries in one account get two distinct roles', () => {
      const { template: pair } = synth((stack) => {
        const first = new SensitiveRegistryBucket(stack, 'First');
        const second = new SensitiveRegistryBucket(stack, 'Second');
        new SensitiveRegistryBucket(stack, 'A', { replicationDestination: first });
        new SensitiveRegistryBucket(stack, 'B', { replicationDestination: second });
      });
      const roles = Object.values(pair.findResources('AWS::IAM::Role')) as Resource[];
      expect(roles).toHaveLength(2);
      expect(roles.map((role) => role.Properties.RoleName)).toEqual([undefined, undefined]);
    });
  });

  describe('grants', () => {
    function granted(grant: (roll: SensitiveRegistryBucket, role: iam.Role) => iam.Grant): {
      statements: Statement[];
      grant: iam.Grant;
      bucketId: string;
      keyId: string;
    } {
      let result: { grant: iam.Grant; roll: SensitiveRegistryBucket } | undefined;
      const { template } = synth((stack) => {
        const roll = new SensitiveRegistryBucket(stack, 'Roll');
        const role = new iam.Role(stack, 'Grantee', { assumedBy: new iam.AccountRootPrincipal() });
        result = { grant: grant(roll, role), roll };
      });
      const { grant: theGrant, roll } = result as { grant: iam.Grant; roll: SensitiveRegistryBucket };
      return {
        statements: rolePolicyStatements(template, Object.keys(template.findResources('AWS::IAM::Role'))[0]),
        grant: theGrant,
        bucketId: logicalId(roll.bucket),
        keyId: logicalId(roll.encryptionKey),
      };
    }

    test('grantRead: list and get objects and their versions, kms:Decrypt on the registry key, nothing more', () => {
      const { statements, grant, bucketId, keyId } = granted((roll, role) => roll.grantRead(role));
      expect(grant.success).toBe(true);
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetBucketLocation'],
          Resource: getAtt(bucketId),
        },
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objectsOf(bucketId) },
        { Effect: 'Allow', Action: 'kms:Decrypt', Resource: getAtt(keyId) },
      ]);
    });

    test('grantWrite: put, abort and delete objects (never versions), kms:GenerateDataKey and kms:Decrypt, nothing more', () => {
      const { statements, grant, keyId } = granted((roll, role) => roll.grantWrite(role));
      expect(grant.success).toBe(true);
      expect(actionsOf(statements)).toEqual(
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
      expect(statements.filter((statement) => [statement.Action].flat()[0].startsWith('kms:'))).toEqual([
        { Effect: 'Allow', Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: getAtt(keyId) },
      ]);
    });

    test('grantReadWrite: the read and write actions together, and the kms actions of both, nothing more', () => {
      const { statements, grant } = granted((roll, role) => roll.grantReadWrite(role));
      expect(grant.success).toBe(true);
      expect(actionsOf(statements)).toEqual(
        [
          'kms:Decrypt',
          'kms:GenerateDataKey',
          's3:AbortMultipartUpload',
          's3:DeleteObject',
          's3:GetBucketLocation',
          's3:GetObject',
          's3:GetObjectVersion',
          's3:ListBucket',
          's3:ListBucketMultipartUploads',
          's3:ListBucketVersions',
          's3:ListMultipartUploadParts',
          's3:PutObject',
        ].sort(),
      );
    });
  });
});

describe('SensitiveRegistryBucket refuses props that would weaken it', () => {
  /** The error the construct throws for these props; fails the test when it throws none or another kind. */
  function refusal(props: (stack: Stack) => Record<string, unknown>): SensitiveRegistryBucketPropError {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const resolvedProps = props(stack);
    let thrown: unknown;
    try {
      new SensitiveRegistryBucket(stack, 'Roll', resolvedProps as SensitiveRegistryBucketProps);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SensitiveRegistryBucketPropError);
    return thrown as SensitiveRegistryBucketPropError;
  }

  function expectRefusal(error: SensitiveRegistryBucketPropError, prop: string, why: RegExp): void {
    expect(error.prop).toBe(prop);
    expect(error.name).toBe('SensitiveRegistryBucketPropError');
    expect(Errors.isValidationError(error)).toBe(true);
    expect(error.constructPath).toBe('Test/Roll');
    expect(error.message).toMatch(new RegExp(`^SensitiveRegistryBucket Test/Roll: ${prop} is refused: `));
    expect(error.message).toMatch(why);
    expect(error.message).toMatch(/\. Instead, .+\.$/);
  }

  const lockedLogBucket = {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  };

  test.each<[string, Record<string, unknown>, RegExp]>([
    [
      'publicReadAccess: it would let anyone on the internet read every record',
      { publicReadAccess: true },
      /anyone on the internet/,
    ],
    [
      'websiteIndexDocument: website hosting serves objects publicly',
      { websiteIndexDocument: 'index.html' },
      /website hosting serves objects publicly/,
    ],
    [
      'websiteErrorDocument: website hosting serves objects publicly',
      { websiteErrorDocument: 'error.html' },
      /website hosting serves objects publicly/,
    ],
    [
      'websiteRedirect: website hosting serves objects publicly',
      { websiteRedirect: { hostName: 'example.org' } },
      /website hosting serves objects publicly/,
    ],
    [
      'websiteRoutingRules: website hosting serves objects publicly',
      { websiteRoutingRules: [{ hostName: 'example.org' }] },
      /website hosting serves objects publicly/,
    ],
    [
      'accessControl PUBLIC_READ: ACLs are disabled',
      { accessControl: s3.BucketAccessControl.PUBLIC_READ },
      /ACLs are disabled/,
    ],
    [
      'accessControl of any value, even PRIVATE: ACLs are disabled',
      { accessControl: s3.BucketAccessControl.PRIVATE },
      /ACLs are disabled/,
    ],
    [
      'blockPublicAccess other than BLOCK_ALL: all four settings stay on',
      { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY },
      /all four Block Public Access settings stay on/,
    ],
    [
      'objectOwnership OBJECT_WRITER: it re-enables ACLs',
      { objectOwnership: s3.ObjectOwnership.OBJECT_WRITER },
      /re-enables ACLs/,
    ],
    [
      'objectOwnership BUCKET_OWNER_PREFERRED: it re-enables ACLs',
      { objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED },
      /re-enables ACLs/,
    ],
    [
      'encryption S3_MANAGED: the registry uses a customer-managed KMS key',
      { encryption: s3.BucketEncryption.S3_MANAGED },
      /customer-managed key/,
    ],
    [
      'encryption KMS_MANAGED: the AWS-managed key cannot be scoped or revoked',
      { encryption: s3.BucketEncryption.KMS_MANAGED },
      /customer-managed key/,
    ],
    ['enforceSSL: false: it would allow plain HTTP', { enforceSSL: false }, /plain HTTP/],
    ['minimumTLSVersion below 1.2: old TLS is weak', { minimumTLSVersion: 1.0 }, /below 1\.2/],
    ['versioned: false: an overwrite or delete would be final', { versioned: false }, /without versioning/],
    [
      'autoDeleteObjects: true: it would empty the registry with its stack',
      { autoDeleteObjects: true },
      /empty the registry/,
    ],
    [
      'removalPolicy DESTROY: the registry is always retained',
      { removalPolicy: RemovalPolicy.DESTROY },
      /must never delete the registry/,
    ],
    [
      'removalPolicy SNAPSHOT: the registry is always retained',
      { removalPolicy: RemovalPolicy.SNAPSHOT },
      /must never delete the registry/,
    ],
    [
      'cors with AllowedOrigins "*": any web page could use the registry',
      { cors: [{ allowedMethods: [s3.HttpMethods.GET], allowedOrigins: ['https://a.example', '*'] }] },
      /AllowedOrigins "\*"/,
    ],
    [
      'a misspelt prop (encryptonKey): a typo must not silently fall back to a default',
      { encryptonKey: {} },
      /not a SensitiveRegistryBucket prop.*check the spelling/,
    ],
    [
      'serverAccessLogsBucket, pointing to accessLogsBucket, which is verified',
      { serverAccessLogsBucket: {} },
      /use accessLogsBucket/,
    ],
    [
      'objectLock with a retention under one day',
      { objectLock: { mode: s3.ObjectLockMode.GOVERNANCE, retention: Duration.hours(12) } },
      /under one day/,
    ],
    [
      'objectLock with a retention that is not whole days',
      { objectLock: { mode: s3.ObjectLockMode.GOVERNANCE, retention: Duration.hours(36) } },
      /not a whole number of days/,
    ],
    [
      'objectLock with a mode that does not exist',
      { objectLock: { mode: 'LEGAL_HOLD' as s3.ObjectLockMode, retention: Duration.days(1) } },
      /mode 'LEGAL_HOLD' does not exist/,
    ],
    [
      'abortIncompleteMultipartUploadAfter under one day',
      { abortIncompleteMultipartUploadAfter: Duration.days(0) },
      /under one day/,
    ],
    [
      'noncurrentVersionExpiration that is not whole days',
      { noncurrentVersionExpiration: Duration.hours(36) },
      /not a whole number of days/,
    ],
    [
      'allowedOrganizationId that is not an organization id',
      { allowedOrganizationId: 'my-org' },
      /'my-org' is not an AWS Organization id/,
    ],
    [
      'allowedVpcEndpointIds with an id that is not a VPC endpoint id',
      { allowedVpcEndpointIds: ['vpc-0a1b2c3d'] },
      /'vpc-0a1b2c3d' is not a VPC endpoint id/,
    ],
    [
      'allowedVpcEndpointIds that is empty: it would deny every request',
      { allowedVpcEndpointIds: [] },
      /deny every request/,
    ],
  ])('refuses %s', (_behaviour, props, why) => {
    expectRefusal(
      refusal(() => props),
      Object.keys(props)[0],
      why,
    );
  });

  test('refuses an AWS-managed encryptionKey given by alias (alias/aws/s3): it cannot be scoped or revoked', () => {
    const error = refusal((stack) => ({
      encryptionKey: kms.Alias.fromAliasName(stack, 'AwsS3', 'alias/aws/s3'),
    }));
    expectRefusal(error, 'encryptionKey', /AWS-managed keys/);
  });

  test('refuses an AWS-managed encryptionKey given by ARN', () => {
    const error = refusal((stack) => ({
      encryptionKey: kms.Key.fromKeyArn(stack, 'AwsS3', 'arn:aws:kms:eu-west-1:111122223333:alias/aws/s3'),
    }));
    expectRefusal(error, 'encryptionKey', /AWS-managed keys/);
  });

  test('refuses an imported accessLogsBucket: its settings cannot be verified, so pass a bucket defined in the app', () => {
    const error = refusal((stack) => ({
      accessLogsBucket: s3.Bucket.fromBucketName(stack, 'Logs', 'central-logs'),
    }));
    expectRefusal(
      error,
      'accessLogsBucket',
      /imported bucket cannot be verified.*s3\.Bucket defined in this app/,
    );
  });

  test('refuses an accessLogsBucket with Block Public Access partly off, naming the settings that are off', () => {
    const error = refusal((stack) => ({
      accessLogsBucket: new s3.Bucket(stack, 'Logs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY,
      }),
    }));
    expectRefusal(error, 'accessLogsBucket', /\(off: BlockPublicPolicy, RestrictPublicBuckets\)/);
  });

  test('refuses an accessLogsBucket that hosts a website', () => {
    const error = refusal((stack) => ({
      accessLogsBucket: new s3.Bucket(stack, 'Logs', {
        ...lockedLogBucket,
        websiteIndexDocument: 'index.html',
      }),
    }));
    expectRefusal(error, 'accessLogsBucket', /hosts a website/);
  });

  test('refuses an accessLogsBucket with a public ACL', () => {
    const error = refusal((stack) => ({
      accessLogsBucket: new s3.Bucket(stack, 'Logs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
        accessControl: s3.BucketAccessControl.PUBLIC_READ,
      }),
    }));
    expectRefusal(error, 'accessLogsBucket', /public ACL PublicRead/);
  });

  test('refuses an SSE-KMS accessLogsBucket: S3 log delivery cannot write to it', () => {
    const error = refusal((stack) => ({
      accessLogsBucket: new s3.Bucket(stack, 'Logs', {
        ...lockedLogBucket,
        encryption: s3.BucketEncryption.KMS,
      }),
    }));
    expectRefusal(error, 'accessLogsBucket', /SSE-KMS/);
  });

  test('refuses an accessLogsBucket with Object Lock: S3 log delivery cannot write to it', () => {
    const error = refusal((stack) => ({
      accessLogsBucket: new s3.Bucket(stack, 'Logs', { ...lockedLogBucket, objectLockEnabled: true }),
    }));
    expectRefusal(error, 'accessLogsBucket', /Object Lock/);
  });

  test('refuses an accessLogsBucket in another account: S3 delivers logs only within one account and Region', () => {
    const app = new App();
    const logsStack = new Stack(app, 'Logs', { env: { account: '222233334444', region: 'eu-west-1' } });
    const logs = new s3.Bucket(logsStack, 'Logs', lockedLogBucket);
    const stack = new Stack(app, 'Test', { env: { account: '111122223333', region: 'eu-west-1' } });
    expect(() => new SensitiveRegistryBucket(stack, 'Roll', { accessLogsBucket: logs })).toThrow(
      /^SensitiveRegistryBucket Test\/Roll: accessLogsBucket is refused: .*same account and Region/,
    );
  });

  test('fails synthesis when the log bucket is opened after the registry was created', () => {
    const app = new App();
    const stack = new Stack(app, 'Test');
    const logs = new s3.Bucket(stack, 'Logs', lockedLogBucket);
    new SensitiveRegistryBucket(stack, 'Roll', { accessLogsBucket: logs });
    (logs.node.defaultChild as s3.CfnBucket).publicAccessBlockConfiguration = undefined;
    expect(() => app.synth()).toThrow(
      /SensitiveRegistryBucket Test\/Roll: accessLogsBucket: .*Block Public Access/,
    );
  });

  test('refuses a replicationDestination that is not a SensitiveRegistryBucket, naming the prop', () => {
    const error = refusal((stack) => ({
      replicationDestination: new s3.Bucket(stack, 'PlainBucket', { versioned: true }),
    }));
    expectRefusal(
      error,
      'replicationDestination',
      /as protected as the original.*another SensitiveRegistryBucket/,
    );
  });

  test('refuses a replicationDestination in another account', () => {
    const app = new App();
    const env = { region: 'eu-west-1' };
    const replica = new SensitiveRegistryBucket(
      new Stack(app, 'Replica', { env: { ...env, account: '222233334444' } }),
      'Replica',
    );
    const stack = new Stack(app, 'Test', { env: { ...env, account: '111122223333' } });
    expect(() => new SensitiveRegistryBucket(stack, 'Roll', { replicationDestination: replica })).toThrow(
      /^SensitiveRegistryBucket Test\/Roll: replicationDestination is refused: replication to another account/,
    );
  });

  test('refuses a replicationDestination without Object Lock for a registry with Object Lock', () => {
    const error = refusal((stack) => ({
      objectLock: { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(30) },
      replicationDestination: new SensitiveRegistryBucket(stack, 'Replica'),
    }));
    expectRefusal(error, 'replicationDestination', /only to a bucket that also has Object Lock/);
  });

  test('accepts the safe value of an s3.BucketProps key, as a {...bucketProps} spread passes it', () => {
    expect(() =>
      registry({
        versioned: true,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        publicReadAccess: false,
        autoDeleteObjects: false,
        removalPolicy: RemovalPolicy.RETAIN,
        encryption: s3.BucketEncryption.KMS,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        blockPublicAccess: new s3.BlockPublicAccess({
          blockPublicAcls: true,
          ignorePublicAcls: true,
          blockPublicPolicy: true,
          restrictPublicBuckets: true,
        }),
        websiteIndexDocument: undefined,
      } as SensitiveRegistryBucketProps),
    ).not.toThrow();
  });
});

describe('SensitiveRegistryBucket templates pass the real cfn-lint', () => {
  test('a default registry and one with every option on synthesize with no cfn-lint error', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-cfn-lint-'));
    try {
      const app = new App({ outdir });
      new SensitiveRegistryBucket(new Stack(app, 'Default'), 'Roll');
      const everything = new Stack(app, 'Everything');
      const objectLock = { mode: s3.ObjectLockMode.COMPLIANCE, retention: Duration.days(3650) };
      const replica = new SensitiveRegistryBucket(everything, 'Replica', {
        objectLock,
        encryptionKey: new kms.Key(everything, 'ReplicaKey', { enableKeyRotation: true }),
      });
      const roll = new SensitiveRegistryBucket(everything, 'Roll', {
        bucketName: 'electoral-roll-2026',
        objectLock,
        accessLogsBucket: new s3.Bucket(everything, 'CentralLogs', {
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
          enforceSSL: true,
        }),
        accessLogsPrefix: 'electoral-roll/',
        allowedOrganizationId: 'o-a1b2c3d4e5',
        allowedVpcEndpointIds: ['vpce-0a1b2c3d4e5f60718'],
        abortIncompleteMultipartUploadAfter: Duration.days(3),
        noncurrentVersionExpiration: Duration.days(365),
        replicationDestination: replica,
        cors: [{ allowedMethods: [s3.HttpMethods.GET], allowedOrigins: ['https://registro.example.gob.mx'] }],
      });
      roll.grantReadWrite(
        new iam.Role(everything, 'Registrars', { assumedBy: new iam.AccountRootPrincipal() }),
      );
      const assembly = app.synth();
      const templates = assembly.stacks.map((stack) => path.join(assembly.directory, stack.templateFile));
      expect(templates).toHaveLength(2);
      expect(cfnLint(templates).errors).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('cfnLint reports error-level findings and leaves warnings out of errors', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-cfn-lint-'));
    try {
      const template = path.join(dir, 'broken.template.json');
      fs.writeFileSync(
        template,
        JSON.stringify({
          Parameters: { Unused: { Type: 'String' } },
          Resources: { Roll: { Type: 'AWS::S3::Bucket', Properties: { BucketNam: 'roll' } } },
        }),
      );
      const { errors, output } = cfnLint([template]);
      expect(errors).toEqual([expect.stringMatching(/broken\.template\.json: E3002 .*BucketNam/)]);
      expect(output).toMatch(/"Level": "Warning"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('cfnLint throws a clear error when the cfn-lint binary is missing', () => {
    const originalPath = process.env.PATH;
    process.env.PATH = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-empty-path-'));
    try {
      expect(() => cfnLint(['template.json'])).toThrow(/cfn-lint binary is not on PATH/);
    } finally {
      process.env.PATH = originalPath;
    }
  });
});
