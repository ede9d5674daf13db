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

function fencedOrganization(statement: Readonly<Record<string, unknown>>): string | undefined {
  if (statement.Effect !== 'Deny') return undefined;
  const principal = statement.Principal;
  if (principal !== '*' && fieldsOf(principal).AWS !== '*') return undefined;
  for (const [operator, entries] of Object.entries(fieldsOf(statement.Condition))) {
    const name = operator.toLowerCase();
    if (name !== 'stringnotequals' && name !== 'stringnotequalsifexists') continue;
    for (const [key, value] of Object.entries(fieldsOf(entries))) {
      if (key.toLowerCase() !== 'aws:principalorgid') continue;
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 1 && typeof values[0] === 'string' && values[0].startsWith('o-'))
        return values[0];
    }
  }
  return undefined;
}
