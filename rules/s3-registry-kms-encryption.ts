import { registryBucketRule } from './registry-rule';
import { fieldsOf, listOf, referencedLogicalId, TemplateIndex } from './template-model';
import { RuleLevel } from './rule';

const KMS_ALGORITHMS = new Set(['aws:kms', 'aws:kms:dsse']);

/** Registry buckets: default encryption with a customer-managed KMS key whose rotation is on. */
export const S3RegistryKmsEncryption = registryBucketRule({
  name: 'S3RegistryKmsEncryption',
  level: RuleLevel.ERROR,
  info: 'The registry bucket is not encrypted with a customer-managed KMS key with rotation on.',
  explanation:
    'A customer-managed key lets you control and audit who can decrypt the registry, and revoke it in one place; ' +
    'SSE-S3 and the AWS-managed aws/s3 key give no such control. Set BucketEncryption to aws:kms with ' +
    'KMSMasterKeyID naming a key with EnableKeyRotation true (SensitiveRegistryBucket does this).',
  checkRegistry(bucket, index) {
    const rules = listOf(fieldsOf(bucket.properties.BucketEncryption).ServerSideEncryptionConfiguration);
    const defaults = rules.map((rule) => fieldsOf(fieldsOf(rule).ServerSideEncryptionByDefault));
    const kmsDefault = defaults.find((entry) => KMS_ALGORITHMS.has(String(entry.SSEAlgorithm)));
    if (kmsDefault === undefined) {
      const algorithm = defaults
        .map((entry) => entry.SSEAlgorithm)
        .find((value) => typeof value === 'string');
      return [
        algorithm === undefined
          ? 'no default encryption is set'
          : `default encryption is ${algorithm}, not aws:kms`,
      ];
    }
    return keyProblems(kmsDefault.KMSMasterKeyID, index);
  },
});

function keyProblems(keyReference: unknown, index: TemplateIndex): string[] {
  if (keyReference === undefined) return ['aws:kms without KMSMasterKeyID uses the AWS-managed aws/s3 key'];
  if (typeof keyReference === 'string') {
    // A key defined outside the template: its rotation cannot be seen here, but an AWS-managed alias can.
    return keyReference.includes('alias/aws/') ? [`${keyReference} is an AWS-managed key`] : [];
  }
  let logicalId = referencedLogicalId(keyReference);
  let key = logicalId === undefined ? undefined : index.resources.get(logicalId);
  if (key?.type === 'AWS::KMS::Alias') {
    logicalId = referencedLogicalId(key.properties.TargetKeyId);
    key = logicalId === undefined ? undefined : index.resources.get(logicalId);
  }
  if (key?.type !== 'AWS::KMS::Key') return [];
  const rotation = key.properties.EnableKeyRotation;
  return rotation === true || rotation === 'true'
    ? []
    : [`key ${key.logicalId} does not have EnableKeyRotation on`];
}
