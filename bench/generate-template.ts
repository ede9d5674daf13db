/**
 * Generates a CloudFormation template of N hardened registry buckets, shaped like what
 * SensitiveRegistryBucket synthesizes: bucket, bucket policy, customer-managed key, log bucket.
 */
const ALL_PUBLIC_ACCESS_BLOCKED = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
};

const TAG = { Key: 'registry-guard:classification', Value: 'sensitive-registry' };

function registryBucket(position: number): Record<string, unknown> {
  const bucket = `Roll${position}`;
  const key = `RollKey${position}`;
  const arn = { 'Fn::GetAtt': [bucket, 'Arn'] };
  const objects = { 'Fn::Join': ['', [arn, '/*']] };
  return {
    [key]: {
      Type: 'AWS::KMS::Key',
      Properties: {
        EnableKeyRotation: true,
        KeyPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                AWS: {
                  'Fn::Join': [
                    '',
                    ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
                  ],
                },
              },
              Action: 'kms:*',
              Resource: '*',
            },
          ],
        },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    },
    [bucket]: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] },
              },
            },
          ],
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: 'AccessLogs' }, LogFilePrefix: `${bucket}/` },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        PublicAccessBlockConfiguration: ALL_PUBLIC_ACCESS_BLOCKED,
        VersioningConfiguration: { Status: 'Enabled' },
        LifecycleConfiguration: {
          Rules: [{ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }],
        },
        Tags: [TAG],
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    },
    [`${bucket}Policy`]: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: { Ref: bucket },
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Resource: [arn, objects],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Resource: [arn, objects],
              Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
            },
            {
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 's3:PutObject',
              Resource: objects,
              Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
            },
            {
              Effect: 'Allow',
              Principal: {
                AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/registry-reader' },
              },
              Action: ['s3:GetObject', 's3:ListBucket'],
              Resource: [arn, objects],
            },
          ],
        },
      },
    },
  };
}

/** A template of `count` registry buckets sharing one locked-down access-log bucket, guarded by the drift guard. */
export function registryTemplate(count: number): Record<string, unknown> {
  const resources: Record<string, unknown> = {
    // The Config rule a PublicAccessGuard deploys, with its marker: these buckets are guarded against drift.
    DriftGuardRule: {
      Type: 'AWS::Config::ConfigRule',
      Metadata: { 'registry-guard:component': 'PublicAccessGuard' },
      Properties: {
        Scope: { ComplianceResourceTypes: ['AWS::S3::Bucket'] },
        Source: {
          Owner: 'CUSTOM_LAMBDA',
          SourceIdentifier: 'arn:aws:lambda:us-east-1:111122223333:function:guard',
        },
      },
    },
    AccessLogs: {
      Type: 'AWS::S3::Bucket',
      Properties: {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        PublicAccessBlockConfiguration: ALL_PUBLIC_ACCESS_BLOCKED,
        VersioningConfiguration: { Status: 'Enabled' },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    },
  };
  for (let position = 0; position < count; position += 1) Object.assign(resources, registryBucket(position));
  return { AWSTemplateFormatVersion: '2010-09-09', Resources: resources };
}
