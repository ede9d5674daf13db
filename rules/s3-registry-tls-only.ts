import { registryBucketRule } from './registry-rule';
import { fieldsOf, listOf } from './template-model';
import { RuleLevel } from './rule';

/** Registry buckets: a bucket policy denies every request made without TLS. */
export const S3RegistryTlsOnly = registryBucketRule({
  name: 'S3RegistryTlsOnly',
  level: RuleLevel.ERROR,
  info: 'The registry bucket policy does not deny requests made without TLS.',
  explanation:
    'Without a deny on aws:SecureTransport false, a client can read or write the registry over plain HTTP. Add a ' +
    'Deny of s3:* for Principal "*" when aws:SecureTransport is false (CDK: enforceSSL: true).',
  checkRegistry(bucket, index) {
    const enforced = index
      .bucketPolicies(bucket.logicalId)
      .some((policy) =>
        listOf(asStatementList(fieldsOf(policy.properties.PolicyDocument).Statement)).some(deniesPlainHttp),
      );
    return enforced ? [] : ['no bucket policy statement denies s3:* when aws:SecureTransport is false'];
  },
});

function asStatementList(statements: unknown): unknown[] {
  return Array.isArray(statements) ? statements : [statements];
}

function deniesPlainHttp(statement: unknown): boolean {
  const fields = fieldsOf(statement);
  if (fields.Effect !== 'Deny') return false;
  const principal = fields.Principal;
  if (principal !== '*' && fieldsOf(principal).AWS !== '*') return false;
  const actions = Array.isArray(fields.Action) ? fields.Action : [fields.Action];
  if (!actions.some((action) => action === 's3:*' || action === '*')) return false;
  for (const [operator, block] of Object.entries(fieldsOf(fields.Condition))) {
    if (operator.toLowerCase() !== 'bool') continue;
    for (const [key, value] of Object.entries(fieldsOf(block))) {
      if (key.toLowerCase() === 'aws:securetransport' && String(value).toLowerCase() === 'false') return true;
    }
  }
  return false;
}
