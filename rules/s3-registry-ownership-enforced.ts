import { registryBucketRule } from './registry-rule';
import { fieldsOf, listOf } from './template-model';
import { RuleLevel } from './rule';

/** Registry buckets: ACLs disabled (object ownership BucketOwnerEnforced). */
export const S3RegistryOwnershipEnforced = registryBucketRule({
  name: 'S3RegistryOwnershipEnforced',
  level: RuleLevel.ERROR,
  info: 'The registry bucket does not disable ACLs (object ownership BucketOwnerEnforced).',
  explanation:
    'With ACLs enabled, any writer can attach a public ACL to an object, and objects written by other accounts ' +
    'stay theirs. Set OwnershipControls to BucketOwnerEnforced (CDK: objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED).',
  checkRegistry(bucket) {
    const rules = listOf(fieldsOf(bucket.properties.OwnershipControls).Rules);
    const enforced = rules.some((rule) => fieldsOf(rule).ObjectOwnership === 'BucketOwnerEnforced');
    return enforced ? [] : ['object ownership is not BucketOwnerEnforced'];
  },
});
