import { registryBucketRule } from './registry-rule';
import { fieldsOf } from './template-model';
import { RuleLevel } from './rule';

/** Registry buckets: versioning on, so an overwrite or delete can be undone. */
export const S3RegistryVersioning = registryBucketRule({
  name: 'S3RegistryVersioning',
  level: RuleLevel.ERROR,
  info: 'The registry bucket does not have versioning enabled.',
  explanation:
    'Without versioning an overwritten or deleted record is gone, whether by mistake or by an attacker. Set ' +
    'VersioningConfiguration Status to Enabled (CDK: versioned: true).',
  checkRegistry(bucket) {
    const status = fieldsOf(bucket.properties.VersioningConfiguration).Status;
    return status === 'Enabled'
      ? []
      : [`versioning status is ${status === undefined ? 'absent' : String(status)}`];
  },
});
