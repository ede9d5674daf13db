import { registryBucketRule } from './registry-rule';
import { fieldsOf, listOf } from './template-model';
import { RuleLevel } from './rule';

/** Registry buckets: no CORS rule that allows every origin. */
export const S3RegistryNoWildcardCors = registryBucketRule({
  name: 'S3RegistryNoWildcardCors',
  level: RuleLevel.WARNING,
  info: 'The registry bucket has a CORS rule that allows every origin.',
  explanation:
    'CORS does not grant access by itself, so this is a warning, not an error: but AllowedOrigins "*" lets any web ' +
    "page use a signed-in user's credentials or a leaked presigned URL against the registry from the browser. " +
    'List the exact origins of your own applications.',
  checkRegistry(bucket) {
    const rules = listOf(fieldsOf(bucket.properties.CorsConfiguration).CorsRules);
    return rules.flatMap((rule, position) => {
      const fields = fieldsOf(rule);
      const origins = Array.isArray(fields.AllowedOrigins) ? fields.AllowedOrigins : [fields.AllowedOrigins];
      const label = typeof fields.Id === 'string' ? `CORS rule "${fields.Id}"` : `CORS rule ${position + 1}`;
      return origins.includes('*') ? [`${label} allows origin "*"`] : [];
    });
  },
});
