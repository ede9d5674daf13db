import { AppFacts, RegistryGuardRule } from './rule';
import { isRegistryBucket, TemplateIndex, TemplateResource } from './template-model';

/** A baseline rule for registry buckets: it only looks at buckets tagged as sensitive registries. */
export function registryBucketRule(
  definition: Omit<RegistryGuardRule, 'resourceTypes' | 'check'> & {
    checkRegistry(bucket: TemplateResource, index: TemplateIndex, app: AppFacts): string[];
  },
): RegistryGuardRule {
  const { checkRegistry, ...rest } = definition;
  return {
    ...rest,
    resourceTypes: ['AWS::S3::Bucket'],
    check: (bucket, index, app) => (isRegistryBucket(bucket) ? checkRegistry(bucket, index, app) : []),
  };
}
