import { TRUSTED_ACCOUNTS_METADATA_KEY } from '../lib/classification';
import { judgeExternalAccess, TrustZone } from '../lib/exposure';
import { RegistryGuardRule, RuleLevel } from './rule';
import { fieldsOf, isRegistryBucket, listOf, TemplateIndex, TemplateResource } from './template-model';

/**
 * Registry buckets and access points on them: no grant may reach outside the registry's zone of trust, its
 * own account plus the organization it is fenced into and the accounts its owner trusts by name.
 */
export const S3RegistryExternalAccess: RegistryGuardRule = {
  name: 'S3RegistryExternalAccess',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::S3::Bucket', 'AWS::S3::AccessPoint'],
  info: "The registry bucket's policy, or an access point on it, grants access outside the registry's zone of trust.",
  explanation:
    "A registry's zone of trust is its own account, plus its organization when the bucket policy denies principals " +
    "outside it (SensitiveRegistryBucket's allowedOrganizationId), plus the accounts listed in trustedAccountIds. A " +
    'statement that allows another account, "*", an AWS service or a federated identity is a share outside the zone ' +
    'unless a condition confines it: aws:PrincipalOrgID of the organization, aws:PrincipalAccount, aws:SourceAccount ' +
    'or aws:SourceArn in the zone, or aws:SourceVpce of an endpoint the same template creates. Grant to principals of ' +
    'the account, add such a condition, or list the account in trustedAccountIds if the share is intended.',
  check(resource, index) {
    if (resource.type === 'AWS::S3::AccessPoint') return accessPointFindings(resource, index);
    if (!isRegistryBucket(resource)) return [];
    const zone = trustZoneOf(resource, index);
    return index.bucketPolicies(resource.logicalId).flatMap((policy) =>
      judgeExternalAccess(policy.properties.PolicyDocument, zone, {
        context: index,
      }).externalStatements.map((statement) => `${policy.logicalId} ${statement.label}: ${statement.reason}`),
    );
  },
};

/** An access point is judged with the zone of each registry bucket of this template it may serve. */
function accessPointFindings(accessPoint: TemplateResource, index: TemplateIndex): string[] {
  const findings = new Set<string>();
  for (const bucketId of index.bucketLogicalIds(accessPoint.properties.Bucket)) {
    const bucket = index.resources.get(bucketId);
    if (bucket === undefined || !isRegistryBucket(bucket)) continue;
    const verdict = judgeExternalAccess(accessPoint.properties.Policy, trustZoneOf(bucket, index), {
      context: index,
      kind: 'accessPoint',
    });
    for (const statement of verdict.externalStatements) {
      findings.add(`access point policy ${statement.label} (on registry ${bucketId}): ${statement.reason}`);
    }
  }
  return [...findings];
}

const zones = new WeakMap<TemplateResource, TrustZone>();

/**
 * The zone as the template states it. The account is unknown before deployment (an environment-agnostic
 * stack), so only `AWS::AccountId` names it; the stack's literal account, when it has one, comes with the
 * trusted accounts in the bucket's metadata.
 */
function trustZoneOf(bucket: TemplateResource, index: TemplateIndex): TrustZone {
  let zone = zones.get(bucket);
  if (zone === undefined) {
    zone = {
      accountId: '',
      organizationId: organizationOf(bucket, index),
      trustedAccountIds: listOf(bucket.metadata[TRUSTED_ACCOUNTS_METADATA_KEY]).filter(
        (account): account is string => typeof account === 'string',
      ),
    };
    zones.set(bucket, zone);
  }
  return zone;
}

/**
 * The organization the bucket's policy fences it into: a `Deny` to `"*"` unless `aws:PrincipalOrgID` equals
 * one literal id, the statement SensitiveRegistryBucket writes for `allowedOrganizationId`. Read from the
 * policy rather than from a marker of the construct's, so a hand-written template with the same fence gets the
 * same zone; two fences naming different organizations leave none (fail closed).
 */
function organizationOf(bucket: TemplateResource, index: TemplateIndex): string | undefined {
  const organizations = new Set<string>();
  for (const policy of index.bucketPolicies(bucket.logicalId)) {
    for (const statement of listOf(fieldsOf(policy.properties.PolicyDocument).Statement)) {
      const organization = fencedOrganization(fieldsOf(statement));
      if (organization !== undefined) organizations.add(organization);
    }
  }
  return organizations.size === 1 ? [...organizations][0] : undefined;
}

/**
 * A fence denies everything to everyone outside one organization: `Deny`, principal `"*"`, every S3 action
 * on the bucket's objects, conditioned only on `aws:PrincipalOrgID` (and, as SensitiveRegistryBucket writes
 * it, on the principal not being an AWS service). A narrower Deny (one action, one prefix, one more
 * condition) fences nothing in, and so cannot make an organization the zone.
 */
function fencedOrganization(statement: Readonly<Record<string, unknown>>): string | undefined {
  if (statement.Effect !== 'Deny') return undefined;
  if (statement.NotAction !== undefined || statement.NotResource !== undefined) return undefined;
  if (statement.NotPrincipal !== undefined) return undefined;
  const principal = statement.Principal;
  if (principal !== '*' && fieldsOf(principal).AWS !== '*') return undefined;
  if (!oneOrMany(statement.Action).some((action) => action === '*' || action === 's3:*')) return undefined;
  if (!oneOrMany(statement.Resource).some(coversEveryObject)) return undefined;
  let organization: string | undefined;
  for (const [operator, entries] of Object.entries(fieldsOf(statement.Condition))) {
    const name = operator.toLowerCase();
    for (const [key, value] of Object.entries(fieldsOf(entries))) {
      const lowerKey = key.toLowerCase();
      if (
        lowerKey === 'aws:principalisawsservice' &&
        name === 'boolifexists' &&
        `${String(value)}` === 'false'
      ) {
        continue;
      }
      if (lowerKey !== 'aws:principalorgid') return undefined;
      if (name !== 'stringnotequals' && name !== 'stringnotequalsifexists') return undefined;
      const values = Array.isArray(value) ? value : [value];
      if (values.length !== 1 || typeof values[0] !== 'string' || !values[0].startsWith('o-'))
        return undefined;
      if (organization !== undefined && organization !== values[0]) return undefined;
      organization = values[0];
    }
  }
  return organization;
}

/** A policy field that holds one value or a list of them. */
function oneOrMany(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** `arn:...:s3:::bucket/*`, `"*"`, or the bucket's ARN (`Fn::GetAtt`, `${Bucket.Arn}`) joined to `/*`. */
function coversEveryObject(resource: unknown): boolean {
  if (resource === '*') return true;
  if (typeof resource === 'string') return /^arn:[a-z-]+:s3:::[^/*]+\/\*$/.test(resource);
  const sub = fieldsOf(resource)['Fn::Sub'];
  if (typeof sub === 'string') {
    return /^\$\{[A-Za-z0-9]+\.Arn\}\/\*$/.test(sub) || /^arn:[^:]+:s3:::[^/*]+\/\*$/.test(sub);
  }
  const join = fieldsOf(resource)['Fn::Join'];
  if (!Array.isArray(join) || join[0] !== '' || !Array.isArray(join[1]) || join[1].length !== 2) return false;
  const [arn, suffix] = join[1] as unknown[];
  const getAtt = fieldsOf(arn)['Fn::GetAtt'];
  return suffix === '/*' && Array.isArray(getAtt) && getAtt[1] === 'Arn';
}
