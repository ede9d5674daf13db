import { ABSENT, alternativesOf, intrinsicName, renderValue, valueList } from '../lib/exposure/policy-values';
import { RegistryGuardRule, RuleLevel } from './rule';
import { fieldsOf, isRegistryBucket, listOf, TemplateIndex, TemplateResource } from './template-model';

/**
 * Registry buckets: no CloudFront distribution serves one, and no registry policy lets CloudFront in.
 *
 * Two findings for one design, each on the resource whose owner can answer for it: the distribution (its
 * origin is a registry) and the registry bucket (its policy grants CloudFront). Both resources are looked up
 * by logical id in the template's index, so checking stays linear in the template's size.
 */
export const S3RegistryCdnOrigin: RegistryGuardRule = {
  name: 'S3RegistryCdnOrigin',
  level: RuleLevel.ERROR,
  resourceTypes: ['AWS::CloudFront::Distribution', 'AWS::S3::Bucket'],
  info: 'A CloudFront distribution serves a registry bucket, or the registry bucket policy grants CloudFront access.',
  explanation:
    'A bucket policy that names only CloudFront is not "public" as S3 defines it, yet the distribution hands the ' +
    'objects to anyone on the internet who asks. A registry is not website content: serve a separate, non-registry ' +
    'copy (aggregates, redacted extracts) instead. If a CDN in front of the registry is the design, require signed ' +
    'URLs or signed cookies on every cache behaviour that reaches it (TrustedKeyGroups), then acknowledge ' +
    'RegistryGuard-S3RegistryCdnOrigin with that reason on the distribution and on the registry.',
  check(resource, index) {
    if (resource.type === 'AWS::CloudFront::Distribution') return registryOriginsOf(resource, index);
    return isRegistryBucket(resource) ? cloudFrontGrantsOf(resource, index) : [];
  },
};

/** Attributes of `AWS::S3::Bucket` that are (or hold) a host name CloudFront can fetch from. */
const BUCKET_HOST_ATTRIBUTES = new Set([
  'DomainName',
  'RegionalDomainName',
  'DualStackDomainName',
  'WebsiteURL',
]);

/** The text after a bucket name in every S3 endpoint host: `.s3.`, `.s3-<region>.`, `.s3-website...`. */
const S3_HOST_MARKERS = ['.s3.', '.s3-'];

const MAX_DEPTH = 16;

const RESTRICT_HINT =
  'serve a non-registry copy instead, or require signed URLs or signed cookies (TrustedKeyGroups) on every ' +
  'cache behaviour that reaches it and acknowledge RegistryGuard-S3RegistryCdnOrigin with that reason';

// ---------------------------------------------------------------------------------------------------------
// The distribution: which origins are registry buckets

interface OriginCandidate {
  readonly origin: Readonly<Record<string, unknown>>;
  readonly domainName: unknown;
  readonly when: string;
}

function registryOriginsOf(distribution: TemplateResource, index: TemplateIndex): string[] {
  const problems: string[] = [];
  for (const { value: config, when: configWhen } of alternativesOf(
    distribution.properties.DistributionConfig,
    index,
  )) {
    const fields = fieldsOf(config);
    const restrictedOrigins = originsBehindSignedRequests(fields, index);
    for (const candidate of originCandidates(fields, configWhen, index)) {
      for (const { bucket, when } of bucketsServedBy(candidate.domainName, index)) {
        if (!isRegistryBucket(bucket)) continue;
        const originId = typeof candidate.origin.Id === 'string' ? candidate.origin.Id : '(no Id)';
        const whenServed = joined(candidate.when, when);
        const branch = whenServed === '' ? '' : ` ${whenServed}`;
        const signed = restrictedOrigins.has(originId)
          ? 'every cache behaviour that reaches it requires signed URLs or cookies (TrustedKeyGroups), so ' +
            'acknowledge RegistryGuard-S3RegistryCdnOrigin with the reason that is the design'
          : 'a cache behaviour serves it to anyone, without signed URLs or cookies: ' + RESTRICT_HINT;
        problems.push(
          `origin '${originId}'${branch} is registry bucket ${bucket.logicalId} ` +
            `(${describeOriginAccess(candidate.origin)}); ${signed}`,
        );
      }
    }
  }
  return problems;
}

/** Every origin in every branch, the legacy `S3Origin`/`CustomOrigin` shorthand included. */
function originCandidates(
  config: Readonly<Record<string, unknown>>,
  configWhen: string,
  index: TemplateIndex,
): OriginCandidate[] {
  const candidates: OriginCandidate[] = [];
  for (const { value: origins, when: listWhen } of alternativesOf(config.Origins, index)) {
    for (const item of listOf(origins)) {
      for (const { value: origin, when } of alternativesOf(item, index)) {
        if (origin === ABSENT) continue;
        const fields = fieldsOf(origin);
        candidates.push({
          origin: fields,
          domainName: fields.DomainName,
          when: joined(configWhen, listWhen, when),
        });
      }
    }
  }
  for (const legacy of ['S3Origin', 'CustomOrigin']) {
    const fields = fieldsOf(config[legacy]);
    if (fields.DNSName !== undefined) {
      candidates.push({ origin: { Id: legacy }, domainName: fields.DNSName, when: configWhen });
    }
  }
  return candidates;
}

function joined(...whens: string[]): string {
  return whens.filter((when) => when !== '').join(', ');
}

function describeOriginAccess(origin: Readonly<Record<string, unknown>>): string {
  if (origin.OriginAccessControlId !== undefined && origin.OriginAccessControlId !== '')
    return 'through an origin access control';
  const identity = fieldsOf(origin.S3OriginConfig).OriginAccessIdentity;
  if (identity !== undefined && identity !== '') return 'through an origin access identity';
  return 'with no origin access control or identity';
}

/**
 * Origin ids whose every cache behaviour (default included) requires signed URLs or cookies. A behaviour
 * that targets an origin group counts for each origin of the group; a value built at deploy time is no proof.
 */
function originsBehindSignedRequests(
  config: Readonly<Record<string, unknown>>,
  index: TemplateIndex,
): ReadonlySet<string> {
  const groupMembers = new Map<string, string[]>();
  for (const group of listOf(fieldsOf(config.OriginGroups).Items)) {
    const fields = fieldsOf(group);
    if (typeof fields.Id !== 'string') continue;
    const members = listOf(fieldsOf(fields.Members).Items)
      .map((member) => fieldsOf(member).OriginId)
      .filter((id): id is string => typeof id === 'string');
    groupMembers.set(fields.Id, members);
  }
  const signed = new Set<string>();
  const unsigned = new Set<string>();
  const behaviours = [config.DefaultCacheBehavior, ...listOf(config.CacheBehaviors)];
  for (const behaviour of behaviours) {
    const fields = fieldsOf(behaviour);
    if (typeof fields.TargetOriginId !== 'string') continue;
    const targets = groupMembers.get(fields.TargetOriginId) ?? [fields.TargetOriginId];
    const into = requiresSignedRequests(fields, index) ? signed : unsigned;
    for (const target of targets) into.add(target);
  }
  return new Set([...signed].filter((origin) => !unsigned.has(origin)));
}

function requiresSignedRequests(behaviour: Readonly<Record<string, unknown>>, index: TemplateIndex): boolean {
  return ['TrustedKeyGroups', 'TrustedSigners'].some((property) =>
    alternativesOf(behaviour[property], index).every(({ value }) => Array.isArray(value) && value.length > 0),
  );
}

/**
 * The buckets of this template an origin host name provably names: an attribute of the bucket that is a host
 * (`RegionalDomainName`, ...), the bucket's name or an access point's alias followed by an S3 endpoint, or the
 * literal name of a bucket that declares that `BucketName`. Anything else cannot be attributed.
 */
function bucketsServedBy(
  domainName: unknown,
  index: TemplateIndex,
): { bucket: TemplateResource; when: string }[] {
  const served: { bucket: TemplateResource; when: string }[] = [];
  for (const { value, when } of alternativesOf(domainName, index)) {
    if (value === ABSENT) continue;
    for (const logicalId of new Set(bucketIdsOfHost(hostPieces(value, 0), index))) {
      const bucket = index.resources.get(logicalId);
      if (bucket !== undefined) served.push({ bucket, when });
    }
  }
  return served;
}

/** A host name as written: literal text, a resource's `Ref` or attribute, or something unreadable. */
type HostPiece =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'reference'; readonly logicalId: string; readonly attribute?: string }
  | { readonly kind: 'unknown' };

function hostPieces(value: unknown, depth: number): HostPiece[] {
  if (depth > MAX_DEPTH) return [{ kind: 'unknown' }];
  if (typeof value === 'string') return [{ kind: 'text', text: value }];
  const name = intrinsicName(value);
  const argument = name === undefined ? undefined : (value as Record<string, unknown>)[name];
  switch (name) {
    case 'Ref':
      return typeof argument === 'string'
        ? [{ kind: 'reference', logicalId: argument }]
        : [{ kind: 'unknown' }];
    case 'Fn::GetAtt':
      return [getAttPiece(argument)];
    case 'Fn::Join':
      return joinPieces(argument, depth);
    case 'Fn::Sub':
      return subPieces(argument, depth);
    case 'Fn::Select':
      return selectPieces(argument, depth);
    default:
      return [{ kind: 'unknown' }];
  }
}

function getAttPiece(argument: unknown): HostPiece {
  const parts = typeof argument === 'string' ? argument.split('.') : argument;
  if (!Array.isArray(parts) || parts.length < 2 || typeof parts[0] !== 'string') return { kind: 'unknown' };
  return { kind: 'reference', logicalId: parts[0], attribute: parts.slice(1).join('.') };
}

function joinPieces(argument: unknown, depth: number): HostPiece[] {
  if (!Array.isArray(argument) || typeof argument[0] !== 'string' || !Array.isArray(argument[1]))
    return [{ kind: 'unknown' }];
  const [delimiter, items] = argument as [string, unknown[]];
  return items.flatMap((item, position) => [
    ...(position > 0 && delimiter !== '' ? [{ kind: 'text', text: delimiter } as const] : []),
    ...hostPieces(item, depth + 1),
  ]);
}

function subPieces(argument: unknown, depth: number): HostPiece[] {
  const [template, variables] = Array.isArray(argument) ? argument : [argument, {}];
  if (typeof template !== 'string') return [{ kind: 'unknown' }];
  const variableMap = fieldsOf(variables);
  const pieces: HostPiece[] = [];
  let position = 0;
  while (position < template.length) {
    const open = template.indexOf('${', position);
    const close = open === -1 ? -1 : template.indexOf('}', open + 2);
    if (close === -1) break;
    if (open > position) pieces.push({ kind: 'text', text: template.slice(position, open) });
    const placeholder = template.slice(open + 2, close);
    if (placeholder.startsWith('!')) pieces.push({ kind: 'text', text: `\${${placeholder.slice(1)}}` });
    else if (Object.prototype.hasOwnProperty.call(variableMap, placeholder))
      pieces.push(...hostPieces(variableMap[placeholder], depth + 1));
    else pieces.push(getAttPieceOrRef(placeholder));
    position = close + 1;
  }
  if (position < template.length) pieces.push({ kind: 'text', text: template.slice(position) });
  return pieces;
}

function getAttPieceOrRef(placeholder: string): HostPiece {
  return placeholder.includes('.') ? getAttPiece(placeholder) : { kind: 'reference', logicalId: placeholder };
}

/**
 * `Fn::Select` of `Fn::Split` over a bucket's `WebsiteURL` is how a website host is cut out of its URL (CDK's
 * `bucketWebsiteDomainName`): whatever part it selects comes from that bucket.
 */
function selectPieces(argument: unknown, depth: number): HostPiece[] {
  if (!Array.isArray(argument) || argument.length !== 2) return [{ kind: 'unknown' }];
  const list = argument[1];
  if (Array.isArray(list)) {
    const position = Number(argument[0]);
    return Number.isInteger(position) && position >= 0 && position < list.length
      ? hostPieces(list[position], depth + 1)
      : [{ kind: 'unknown' }];
  }
  const split = fieldsOf(list)['Fn::Split'];
  if (Array.isArray(split) && split.length === 2) {
    const source = hostPieces(split[1], depth + 1);
    const website = source.find((piece) => piece.kind === 'reference' && piece.attribute === 'WebsiteURL');
    if (website !== undefined) return [website];
  }
  return [{ kind: 'unknown' }];
}

function bucketIdsOfHost(pieces: readonly HostPiece[], index: TemplateIndex): readonly string[] {
  const ids: string[] = [];
  for (const piece of pieces) {
    if (piece.kind !== 'reference' || piece.attribute === undefined) continue;
    const type = index.resourceTypeOf(piece.logicalId);
    if (type === 'AWS::S3::Bucket' && BUCKET_HOST_ATTRIBUTES.has(piece.attribute)) ids.push(piece.logicalId);
  }
  const [first, second] = pieces;
  if (first?.kind === 'reference' && second?.kind === 'text' && startsWithS3Endpoint(second.text)) {
    ids.push(...bucketIdsOfHostLabel(first, index));
  }
  const leadingText = leadingLiteral(pieces);
  const marker = firstS3Marker(leadingText);
  if (marker > 0) ids.push(...index.bucketLogicalIds(leadingText.slice(0, marker)));
  return ids;
}

/** The bucket a name or access point alias before `.s3...` stands for. */
function bucketIdsOfHostLabel(
  piece: Extract<HostPiece, { kind: 'reference' }>,
  index: TemplateIndex,
): readonly string[] {
  const type = index.resourceTypeOf(piece.logicalId);
  if (type === 'AWS::S3::Bucket' && piece.attribute === undefined) return [piece.logicalId];
  if (type === 'AWS::S3::AccessPoint' && piece.attribute === 'Alias') {
    const accessPoint = index.resources.get(piece.logicalId);
    return accessPoint === undefined ? [] : index.bucketLogicalIds(accessPoint.properties.Bucket);
  }
  return [];
}

function leadingLiteral(pieces: readonly HostPiece[]): string {
  let text = '';
  for (const piece of pieces) {
    if (piece.kind !== 'text') break;
    text += piece.text;
  }
  return text;
}

function startsWithS3Endpoint(text: string): boolean {
  return S3_HOST_MARKERS.some((marker) => text.startsWith(marker));
}

function firstS3Marker(text: string): number {
  const positions = S3_HOST_MARKERS.map((marker) => text.indexOf(marker)).filter((position) => position >= 0);
  return positions.length === 0 ? -1 : Math.min(...positions);
}

// ---------------------------------------------------------------------------------------------------------
// The registry bucket: which of its policy statements let CloudFront in

const ORIGIN_ACCESS_IDENTITY_USER = ':iam::cloudfront:user/CloudFront Origin Access Identity';

function cloudFrontGrantsOf(bucket: TemplateResource, index: TemplateIndex): string[] {
  const problems: string[] = [];
  for (const policy of index.bucketPolicies(bucket.logicalId)) {
    for (const { statement, label } of statementsOf(policy, index)) {
      if (statement.Effect === 'Deny') continue;
      const grantees = cloudFrontGranteesOf(statement, index);
      if (grantees.length === 0) continue;
      problems.push(
        `${policy.logicalId} ${label} allows ${grantees.join(' and ')} ${describeActions(statement)}`,
      );
    }
  }
  // One way out for all the grants: the hint is said once, after them.
  if (problems.length > 0) problems.push(`a distribution serves what they allow to anyone: ${RESTRICT_HINT}`);
  return problems;
}

function statementsOf(
  policy: TemplateResource,
  index: TemplateIndex,
): { statement: Readonly<Record<string, unknown>>; label: string }[] {
  const found: { statement: Readonly<Record<string, unknown>>; label: string }[] = [];
  for (const { value: document } of alternativesOf(policy.properties.PolicyDocument, index)) {
    for (const { value: statements } of alternativesOf(fieldsOf(document).Statement, index)) {
      valueList(statements === ABSENT ? undefined : statements).forEach((item, position) => {
        for (const { value, when } of alternativesOf(item, index)) {
          if (value === ABSENT) continue;
          const statement = fieldsOf(value);
          const sid = typeof statement.Sid === 'string' ? ` (Sid "${statement.Sid}")` : '';
          const branch = when === '' ? '' : ` ${when}`;
          found.push({ statement, label: `statement ${position + 1}${sid}${branch}` });
        }
      });
    }
  }
  return found;
}

/** How a statement names CloudFront: its service principal (origin access control) or an origin access identity. */
function cloudFrontGranteesOf(statement: Readonly<Record<string, unknown>>, index: TemplateIndex): string[] {
  const principal = fieldsOf(statement.Principal);
  const grantees = new Set<string>();
  for (const service of principalValues(principal.Service, index)) {
    if (typeof service === 'string' && service.toLowerCase() === 'cloudfront.amazonaws.com')
      grantees.add('cloudfront.amazonaws.com (origin access control)');
  }
  for (const canonicalUser of principalValues(principal.CanonicalUser, index)) {
    const piece = intrinsicName(canonicalUser) === 'Fn::GetAtt' ? hostPieces(canonicalUser, 0)[0] : undefined;
    if (
      piece?.kind === 'reference' &&
      index.resourceTypeOf(piece.logicalId) === 'AWS::CloudFront::CloudFrontOriginAccessIdentity'
    )
      grantees.add(`origin access identity ${piece.logicalId}`);
  }
  for (const arn of principalValues(principal.AWS, index)) {
    if (renderValue(arn, index).display.includes(ORIGIN_ACCESS_IDENTITY_USER))
      grantees.add('a CloudFront origin access identity');
  }
  return [...grantees];
}

function principalValues(field: unknown, index: TemplateIndex): unknown[] {
  return alternativesOf(field, index).flatMap(({ value }) =>
    value === ABSENT
      ? []
      : valueList(value).flatMap((item) => alternativesOf(item, index).map((alt) => alt.value)),
  );
}

function describeActions(statement: Readonly<Record<string, unknown>>): string {
  if (statement.NotAction !== undefined) return 'every action but those its NotAction lists';
  const actions = valueList(statement.Action).map((action) =>
    typeof action === 'string' ? action : 'an action chosen at deploy time',
  );
  return actions.length === 0 ? 'access' : actions.join(', ');
}
