import { BLOCK_PUBLIC_ACCESS_SETTINGS } from '../lib/exposure/block-public-access';
import { ABSENT, alternativesOf, intrinsicName } from '../lib/exposure/policy-values';
import { RegistryGuardRule, RuleLevel } from './rule';
import { fieldsOf, isRegistryBucket, TemplateIndex, TemplateResource } from './template-model';

/** Every bucket that states Block Public Access, and every registry bucket: all four settings on. */
export const S3BlockPublicAccess: RegistryGuardRule = {
  name: 'S3BlockPublicAccess',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::S3::Bucket'],
  info: 'The S3 bucket turns off Block Public Access settings.',
  explanation:
    'Each Block Public Access setting that is off leaves a way for a later policy or ACL change to open the bucket. ' +
    'Set PublicAccessBlockConfiguration with BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy and ' +
    'RestrictPublicBuckets all true (CDK: blockPublicAccess: BlockPublicAccess.BLOCK_ALL). A registry bucket must ' +
    'state all four; an ordinary bucket that states none gets RegistryGuard-S3BlockPublicAccessUnstated instead.',
  check(bucket, index) {
    const problems: string[] = [];
    for (const { configuration, when } of configurationsOf(bucket, index)) {
      if (configuration === undefined) {
        if (isRegistryBucket(bucket)) {
          problems.push(
            `PublicAccessBlockConfiguration is absent${when}: a registry bucket must state all four settings`,
          );
        }
        continue;
      }
      problems.push(...settingsOffIn(configuration).map((problem) => `${problem}${when}`));
    }
    return problems;
  },
};

/** Ordinary buckets with no Block Public Access configuration: S3's default holds them, nothing in the template does. */
export const S3BlockPublicAccessUnstated: RegistryGuardRule = {
  name: 'S3BlockPublicAccessUnstated',
  level: RuleLevel.WARNING,
  resourceTypes: ['AWS::S3::Bucket'],
  info: 'The S3 bucket does not state its Block Public Access settings.',
  explanation:
    'S3 has turned all four settings on for every bucket created since April 2023, but nothing in this template ' +
    'keeps them on: a bucket created earlier, or one whose settings someone turns off, stays open. State them ' +
    '(CDK: blockPublicAccess: BlockPublicAccess.BLOCK_ALL).',
  check(bucket, index) {
    if (isRegistryBucket(bucket)) return [];
    return configurationsOf(bucket, index)
      .filter(({ configuration }) => configuration === undefined)
      .map(
        ({ when }) =>
          `PublicAccessBlockConfiguration is absent${when}: S3's default for new buckets turns all four on, ` +
          'but nothing in this template keeps them on',
      );
  },
};

interface ConfigurationBranch {
  /** The configuration's fields; undefined when the bucket has none in this branch. */
  readonly configuration?: Readonly<Record<string, unknown>> | string;
  readonly when: string;
}

function configurationsOf(bucket: TemplateResource, index: TemplateIndex): ConfigurationBranch[] {
  return alternativesOf(bucket.properties.PublicAccessBlockConfiguration, index).map(({ value, when }) => {
    const branch = when === '' ? '' : ` ${when}`;
    if (value === ABSENT || value === undefined) return { when: branch };
    const builtBy = intrinsicName(value);
    if (builtBy !== undefined) return { configuration: builtBy, when: branch };
    return { configuration: fieldsOf(value), when: branch };
  });
}

function settingsOffIn(configuration: Readonly<Record<string, unknown>> | string): string[] {
  if (typeof configuration === 'string') {
    return [
      `PublicAccessBlockConfiguration is chosen at deploy time (${configuration}), so no setting is known to be on`,
    ];
  }
  return BLOCK_PUBLIC_ACCESS_SETTINGS.flatMap((setting) => {
    const value = configuration[setting];
    if (value === true || (typeof value === 'string' && value.toLowerCase() === 'true')) return [];
    if (value === undefined) return [`${setting} is not set (off)`];
    if (value === false || (typeof value === 'string' && value.toLowerCase() === 'false'))
      return [`${setting} is off`];
    return [`${setting} is chosen at deploy time, so it is not known to be on`];
  });
}
