import { registryBucketRule } from './registry-rule';
import { RuleLevel } from './rule';

/** Registry buckets: no static website hosting. */
export const S3RegistryNoWebsite = registryBucketRule({
  name: 'S3RegistryNoWebsite',
  level: RuleLevel.ERROR,
  info: 'The registry bucket is configured for static website hosting.',
  explanation:
    'A website endpoint exists to serve objects to anonymous readers over plain HTTP; a registry has no use for ' +
    'one. Remove WebsiteConfiguration; serve any public derivative from a separate bucket.',
  checkRegistry(bucket) {
    return bucket.properties.WebsiteConfiguration === undefined ? [] : ['WebsiteConfiguration is set'];
  },
});
