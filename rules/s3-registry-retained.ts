import { registryBucketRule } from './registry-rule';
import { RuleLevel } from './rule';

const RETAINING_POLICIES = new Set(['Retain', 'RetainExceptOnCreate']);

/** Registry buckets: kept when the stack is deleted or the bucket replaced, and never emptied automatically. */
export const S3RegistryRetained = registryBucketRule({
  name: 'S3RegistryRetained',
  level: RuleLevel.ERROR,
  info: 'The registry bucket is not retained when its stack is deleted or the bucket is replaced.',
  explanation:
    'A stack deletion or a replacing update must never take a registry with it. Set DeletionPolicy and ' +
    'UpdateReplacePolicy to Retain and do not use autoDeleteObjects (CDK: removalPolicy: RemovalPolicy.RETAIN).',
  checkRegistry(bucket, index) {
    const problems: string[] = [];
    if (!RETAINING_POLICIES.has(String(bucket.deletionPolicy))) {
      problems.push(
        `DeletionPolicy is ${bucket.deletionPolicy === undefined ? 'absent (Delete)' : String(bucket.deletionPolicy)}`,
      );
    }
    if (bucket.updateReplacePolicy !== 'Retain') {
      problems.push(
        `UpdateReplacePolicy is ${bucket.updateReplacePolicy === undefined ? 'absent (Delete)' : String(bucket.updateReplacePolicy)}`,
      );
    }
    if (index.isAutoDeleted(bucket.logicalId))
      problems.push('a Custom::S3AutoDeleteObjects resource empties it on deletion');
    return problems;
  },
});
