import { judgeBlockPublicAccess } from '../lib/exposure';
import { RegistryGuardRule } from './rule';

/** Every bucket: all four Block Public Access settings on. */
export const S3BlockPublicAccess: RegistryGuardRule = {
  name: 'S3BlockPublicAccess',
  level: 'error',
  resourceTypes: ['AWS::S3::Bucket'],
  info: 'The S3 bucket does not turn on all four Block Public Access settings.',
  explanation:
    'Each Block Public Access setting that is off leaves a way for a later policy or ACL change to open the bucket. ' +
    'Set PublicAccessBlockConfiguration with BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and ' +
    'RestrictPublicBuckets all true (CDK: blockPublicAccess: BlockPublicAccess.BLOCK_ALL).',
  check(bucket) {
    return judgeBlockPublicAccess(bucket.properties.PublicAccessBlockConfiguration).settingsOff.map(
      (setting) => `${setting} is off or absent`,
    );
  },
};
