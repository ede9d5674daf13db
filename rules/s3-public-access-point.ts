import { judgeAccessPoint, judgeBlockPublicAccess } from '../lib/exposure';
import { ABSENT, alternativesOf, intrinsicName } from '../lib/exposure/policy-values';
import { RegistryGuardRule, RuleLevel } from './rule';
import { fieldsOf } from './template-model';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every access point: no public policy, no Block Public Access setting turned off. */
export const S3PublicAccessPoint: RegistryGuardRule = {
  name: 'S3PublicAccessPoint',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::S3::AccessPoint'],
  info: 'The S3 access point is public or has a Block Public Access setting turned off.',
  explanation:
    'An access point has its own policy and Block Public Access settings: a public access point policy exposes the ' +
    'bucket behind it. Grant to fixed principals (an access point policy may not wildcard s3:DataAccessPointArn) ' +
    'and leave PublicAccessBlockConfiguration at its default, all on. An access point with a VPC network origin ' +
    '(VpcConfiguration) is never public.',
  check(accessPoint, index) {
    // A VPC network origin must hold in every branch: a branch without VpcConfiguration faces the internet.
    const vpcOrigin = alternativesOf(accessPoint.properties.VpcConfiguration, index).every(
      ({ value }) => value !== ABSENT && isPlainObject(value) && intrinsicName(value) === undefined,
    );
    if (vpcOrigin) return [];
    const problems = judgeAccessPoint({
      policy: accessPoint.properties.Policy,
      networkOrigin: 'Internet',
      context: index,
    }).publicStatements.map((statement) => `access point policy ${statement.label}: ${statement.reason}`);
    // Access points default every setting to on: only a setting written other than true opens one.
    for (const { value, when } of alternativesOf(
      accessPoint.properties.PublicAccessBlockConfiguration,
      index,
    )) {
      if (value === ABSENT || value === undefined) continue;
      const branch = when === '' ? '' : ` ${when}`;
      if (!isPlainObject(value) || intrinsicName(value) !== undefined) {
        problems.push(
          `PublicAccessBlockConfiguration is chosen at deploy time${branch}, so no setting is known to be on`,
        );
        continue;
      }
      const explicitlyOff = judgeBlockPublicAccess(value).settingsOff.filter(
        (setting) => fieldsOf(value)[setting] !== undefined,
      );
      problems.push(...explicitlyOff.map((setting) => `${setting} is turned off${branch}`));
    }
    return problems;
  },
};
