import { judgeBlockPublicAccess } from '../lib/exposure';
import { bucketAccessOf } from './bucket-access';
import { registryBucketRule } from './registry-rule';
import { fieldsOf } from './template-model';
import { RuleLevel } from './rule';

/** Registry buckets: server access logs go to a bucket that is itself not public. */
export const S3RegistryAccessLogging = registryBucketRule({
  name: 'S3RegistryAccessLogging',
  level: RuleLevel.ERROR,
  info: 'The registry bucket does not log access to a locked-down log bucket.',
  explanation:
    'Access logs are how you learn who read the registry; logs in a public bucket leak object names and callers. ' +
    'Set LoggingConfiguration.DestinationBucketName to a bucket with all four Block Public Access settings on ' +
    'and no public policy or ACL (SensitiveRegistryBucket creates one).',
  checkRegistry(bucket, index) {
    const destination = fieldsOf(bucket.properties.LoggingConfiguration).DestinationBucketName;
    if (destination === undefined) return ['server access logging is not configured'];
    const logBucketId = index.bucketLogicalId(destination);
    // A log bucket defined outside this template cannot be inspected here.
    if (logBucketId === undefined) return [];
    const logBucket = index.resources.get(logBucketId);
    if (logBucket === undefined) return [];
    // The same judgement (and cache) the public-access rules use for the log bucket itself.
    const access = bucketAccessOf(logBucket, index);
    const problems = judgeBlockPublicAccess(
      logBucket.properties.PublicAccessBlockConfiguration,
    ).settingsOff.map((setting) => `log bucket ${logBucketId} has ${setting} off`);
    if (access.publicGrants.length > 0) problems.push(`log bucket ${logBucketId} has a public ACL`);
    if (access.publicStatements.length > 0) {
      problems.push(`log bucket ${logBucketId} has a public bucket policy`);
    }
    return problems;
  },
});
