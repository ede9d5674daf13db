import { ABSENT, alternativesOf, intrinsicName, renderValue, valueList } from '../lib/exposure/policy-values';
import { parseOperator, principalMembersOf } from '../lib/exposure/policy-statements';
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

const MAX_DEPTH = 16;

const RESTRICT_HINT =
  'serve a non-registry copy instead, or require signed URLs or signed cookies (TrustedKeyGroups) on every ' +
  'cache behaviour that reaches it and acknowledge RegistryGuard-S3RegistryCdnOrigin with that reason';

// ---------------------------------------------------------------------------------------------------------
// The distribution: which origins are registry buckets

interface OriginCandidate {
  readonly origin: Readonly<Record<string, unknown>>;
  readonly domainName: unknown;
  /** Where a path-style origin (the S3 endpoint itself) names its bucket: `/<bucket>/...`. */
  readonly originPath: unknown;
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
      const originId = typeof candidate.origin.Id === 'string' ? candidate.origin.Id : '(no Id)';
      const access = describeOriginAccess(candidate.origin);
      const signed = restrictedOrigins.has(originId)
        ? 'every cache behaviour that reaches it requires signed URLs or cookies (TrustedKeyGroups), so ' +
          'acknowledge RegistryGuard-S3RegistryCdnOrigin with the reason that is the design'
        : 'a cache behaviour serves it to anyone, without signed URLs or cookies: ' + RESTRICT_HINT;
      for (const served of bucketsServedBy(candidate, index)) {
        const whenServed = joined(candidate.when, served.when);
        const origin = `origin '${originId}'${whenServed === '' ? '' : ` ${whenServed}`}`;
        const registries = served.buckets.filter(isRegistryBucket);
        for (const bucket of registries) {
          problems.push(`${origin} is registry bucket ${bucket.logicalId} (${access}); ${signed}`);
        }
        const possible = templateNamesOf(index).registries;
        if (registries.length === 0 && served.unreadable !== undefined && possible.length > 0) {
          problems.push(
            `${origin} could be ${describeRegistries(possible)} (${access}): ${served.unreadable}, so the ` +
              `rule could not read which bucket it serves; ${signed}`,
          );
        }
      }
    }
  }
  return problems;
}

/** `registry bucket Roll`, or `one of registry buckets Roll, Archive, Ledger and 2 more`. */
function describeRegistries(registries: readonly TemplateResource[]): string {
  if (registries.length === 1) return `registry bucket ${registries[0].logicalId}`;
  const named = registries.slice(0, 3).map((bucket) => bucket.logicalId);
  const more = registries.length - named.length;
  return `one of registry buckets ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
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
          originPath: fields.OriginPath,
          when: joined(configWhen, listWhen, when),
        });
      }
    }
  }
  for (const legacy of ['S3Origin', 'CustomOrigin']) {
    const fields = fieldsOf(config[legacy]);
    if (fields.DNSName !== undefined) {
      candidates.push({
        origin: { Id: legacy },
        domainName: fields.DNSName,
        originPath: fields.OriginPath,
        when: configWhen,
      });
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

/** What an origin says about the bucket it serves, in one branch of its host name. */
interface OriginReading {
  /** The buckets of this template it provably serves. */
  readonly buckets: readonly TemplateResource[];
  /** Why the bucket it serves could not be read, when the origin is an S3 endpoint built at deploy time. */
  readonly unreadable?: string;
  readonly when: string;
}

/** Which buckets a host reading names: ids of this template's buckets, or why it cannot be read. */
interface BucketsNamed {
  readonly bucketIds: readonly string[];
  readonly unreadable?: string;
}

const NONE_NAMED: BucketsNamed = { bucketIds: [] };

/**
 * The buckets of this template an origin provably serves: an attribute of the bucket that is a host
 * (`RegionalDomainName`, ...); an S3 endpoint after the bucket's name or `Ref`, an access point's alias, or an
 * access point's own `<name>-<account>.s3-accesspoint...` host; or the S3 endpoint itself with the bucket
 * first in `OriginPath` (path style). A host that is an S3 endpoint but names its bucket at deploy time is
 * unreadable: the caller reports it as possibly a registry. Any other host cannot be attributed.
 */
function bucketsServedBy(candidate: OriginCandidate, index: TemplateIndex): OriginReading[] {
  const readings: OriginReading[] = [];
  for (const { value, when } of alternativesOf(candidate.domainName, index)) {
    if (value === ABSENT) continue;
    const named = bucketsOfHost(mergedText(hostPieces(value, 0)), candidate.originPath, index);
    const buckets = [...new Set(named.bucketIds)]
      .map((logicalId) => index.resources.get(logicalId))
      .filter((bucket): bucket is TemplateResource => bucket !== undefined);
    const host = `its host '${renderValue(value, index).display}'`;
    const unreadable = named.unreadable === undefined ? undefined : `${host} ${named.unreadable}`;
    readings.push({ buckets, unreadable, when });
  }
  return readings;
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

function bucketsOfHost(
  pieces: readonly HostPiece[],
  originPath: unknown,
  index: TemplateIndex,
): BucketsNamed {
  const attributed: string[] = [];
  for (const piece of pieces) {
    if (piece.kind !== 'reference' || piece.attribute === undefined) continue;
    const type = index.resourceTypeOf(piece.logicalId);
    if (type === 'AWS::S3::Bucket' && BUCKET_HOST_ATTRIBUTES.has(piece.attribute))
      attributed.push(piece.logicalId);
  }
  const endpoint = s3EndpointOf(pieces);
  let named = NONE_NAMED;
  if (endpoint?.kind === 'accessPoint') named = bucketsOfAccessPointLabel(endpoint.label, index);
  else if (endpoint?.kind === 'bucket') named = bucketsOfName(endpoint.label, index);
  else if (isPathStyleEndpoint(pieces)) named = bucketsOfOriginPath(originPath, index);
  // A name that cannot be read counts only on a host that could be AWS's, not on `s3-files.example.org`.
  const unreadable = couldBeAwsHost(endpoint?.domain ?? pieces) ? named.unreadable : undefined;
  return { bucketIds: [...attributed, ...named.bucketIds], unreadable };
}

/** The text after a bucket name (or access point alias) in every S3 endpoint host: `.s3.`, `.s3-<region>.`, ... */
const S3_HOST_MARKERS = ['.s3.', '.s3-'];
/** The text after `<access point name>-<account>` in an access point's own host. */
const ACCESS_POINT_MARKER = '.s3-accesspoint.';

/**
 * Where a host is a virtual-hosted S3 endpoint: the label before its first S3 marker, and whether that label
 * is a bucket (or access point alias) or an access point's `<name>-<account>`.
 */
function s3EndpointOf(
  pieces: readonly HostPiece[],
): { kind: 'bucket' | 'accessPoint'; label: HostPiece[]; domain: HostPiece[] } | undefined {
  for (const [position, piece] of pieces.entries()) {
    if (piece.kind !== 'text') continue;
    const text = piece.text.toLowerCase();
    const marker = firstS3Marker(text);
    if (marker === -1) continue;
    const label = [
      ...pieces.slice(0, position),
      { kind: 'text', text: piece.text.slice(0, marker) } as const,
    ];
    const kind = text.startsWith(ACCESS_POINT_MARKER, marker) ? 'accessPoint' : 'bucket';
    const domain = [{ kind: 'text', text: piece.text.slice(marker) } as const, ...pieces.slice(position + 1)];
    return { kind, label: mergedText(label), domain };
  }
  return undefined;
}

function firstS3Marker(text: string): number {
  const positions = S3_HOST_MARKERS.map((marker) => text.indexOf(marker)).filter((position) => position >= 0);
  return positions.length === 0 ? -1 : Math.min(...positions);
}

/**
 * Whether a host (from its S3 marker on) could be in an AWS domain: it says `amazonaws.` or `AWS::URLSuffix`,
 * or holds a part chosen at deploy time other than a pseudo parameter (`AWS::Region`).
 */
function couldBeAwsHost(pieces: readonly HostPiece[]): boolean {
  return pieces.some((piece) => {
    if (piece.kind === 'text') return piece.text.toLowerCase().includes('amazonaws.');
    if (piece.kind === 'unknown') return true;
    return piece.logicalId === 'AWS::URLSuffix' || !piece.logicalId.startsWith('AWS::');
  });
}

/** `s3.<region>.amazonaws.com`, `s3-<region>.amazonaws.com`, `s3.amazonaws.com`: the bucket is in the path. */
function isPathStyleEndpoint(pieces: readonly HostPiece[]): boolean {
  const [first] = pieces;
  if (first?.kind !== 'text') return false;
  const text = first.text.toLowerCase();
  return text.startsWith('s3.') || text.startsWith('s3-');
}

/** A path-style origin serves the bucket its `OriginPath` starts with; without one, the viewer's path picks it. */
function bucketsOfOriginPath(originPath: unknown, index: TemplateIndex): BucketsNamed {
  if (originPath === undefined || originPath === '') {
    return {
      bucketIds: [],
      unreadable: "is the S3 endpoint with no OriginPath (each viewer's request path names the bucket)",
    };
  }
  const named = bucketsOfName(firstPathSegment(hostPieces(originPath, 0)), index);
  if (named.unreadable === undefined) return named;
  return {
    bucketIds: named.bucketIds,
    unreadable: `is the S3 endpoint and its OriginPath '${renderValue(originPath, index).display}' ${named.unreadable}`,
  };
}

/** The pieces of a path up to its second `/`: `/roll-2026/public` gives `roll-2026`. */
function firstPathSegment(pieces: readonly HostPiece[]): HostPiece[] {
  const merged = mergedText(pieces);
  const segment: HostPiece[] = [];
  for (const [position, piece] of merged.entries()) {
    if (piece.kind !== 'text') {
      segment.push(piece);
      continue;
    }
    const text = position === 0 && piece.text.startsWith('/') ? piece.text.slice(1) : piece.text;
    const slash = text.indexOf('/');
    if (slash === -1) {
      segment.push({ kind: 'text', text });
      continue;
    }
    segment.push({ kind: 'text', text: text.slice(0, slash) });
    break;
  }
  return mergedText(segment);
}

/** The buckets a bucket name (or access point alias), as a host label or a path segment, stands for. */
function bucketsOfName(label: readonly HostPiece[], index: TemplateIndex): BucketsNamed {
  if (label.length === 0) return NONE_NAMED;
  const [only] = label;
  if (label.length === 1 && only.kind === 'reference') {
    const type = index.resourceTypeOf(only.logicalId);
    const isHost = only.attribute === undefined || BUCKET_HOST_ATTRIBUTES.has(only.attribute);
    if (type === 'AWS::S3::Bucket' && isHost) return { bucketIds: [only.logicalId] };
    if (type === 'AWS::S3::AccessPoint' && only.attribute === 'Alias')
      return bucketsOfAccessPoints([only.logicalId], index);
  }
  const key = nameKey(label);
  const byName = key === undefined ? undefined : templateNamesOf(index).buckets.get(key);
  if (byName !== undefined) return { bucketIds: byName };
  return isLiteral(label) ? NONE_NAMED : { bucketIds: [], unreadable: 'names its bucket at deploy time' };
}

/** `<name>-<account>` before `.s3-accesspoint.`: the access point of that name (its `Ref`), and its bucket. */
function bucketsOfAccessPointLabel(label: readonly HostPiece[], index: TemplateIndex): BucketsNamed {
  const unreadable = { bucketIds: [], unreadable: 'names its access point at deploy time' };
  const name = withoutAccountSuffix(label);
  if (name === undefined) return unreadable;
  const [only] = name;
  if (
    name.length === 1 &&
    only.kind === 'reference' &&
    only.attribute === undefined &&
    index.resourceTypeOf(only.logicalId) === 'AWS::S3::AccessPoint'
  )
    return bucketsOfAccessPoints([only.logicalId], index);
  const key = nameKey(name);
  const byName = key === undefined ? undefined : templateNamesOf(index).accessPoints.get(key);
  if (byName !== undefined) return bucketsOfAccessPoints(byName, index);
  return isLiteral(name) ? NONE_NAMED : unreadable;
}

/** The label without its last `-` and what follows (the account); undefined when no `-` is written. */
function withoutAccountSuffix(label: readonly HostPiece[]): HostPiece[] | undefined {
  for (let position = label.length - 1; position >= 0; position -= 1) {
    const piece = label[position];
    if (piece.kind !== 'text') continue;
    const dash = piece.text.lastIndexOf('-');
    if (dash === -1) continue;
    return mergedText([...label.slice(0, position), { kind: 'text', text: piece.text.slice(0, dash) }]);
  }
  return undefined;
}

/** The buckets access points of this template are on; an access point whose `Bucket` is built at deploy time is unreadable. */
function bucketsOfAccessPoints(accessPointIds: readonly string[], index: TemplateIndex): BucketsNamed {
  const bucketIds: string[] = [];
  let unreadable: string | undefined;
  for (const logicalId of accessPointIds) {
    const bucket = index.resources.get(logicalId)?.properties.Bucket;
    const ids = index.bucketLogicalIds(bucket);
    bucketIds.push(...ids);
    if (ids.length === 0 && typeof bucket !== 'string')
      unreadable ??= `reaches its bucket through access point ${logicalId}, whose Bucket is chosen at deploy time`;
  }
  return { bucketIds, unreadable };
}

/** Adjacent literal pieces as one: `Fn::Join` with a delimiter, and `Fn::Sub`, cut the text anywhere. */
function mergedText(pieces: readonly HostPiece[]): HostPiece[] {
  const merged: HostPiece[] = [];
  for (const piece of pieces) {
    const last = merged[merged.length - 1];
    if (piece.kind === 'text' && last?.kind === 'text')
      merged[merged.length - 1] = { kind: 'text', text: last.text + piece.text };
    else if (piece.kind !== 'text' || piece.text !== '') merged.push(piece);
  }
  return merged;
}

function isLiteral(pieces: readonly HostPiece[]): boolean {
  return pieces.every((piece) => piece.kind === 'text');
}

/**
 * A name as a lookup key: literal text in lower case (S3 names are), references as themselves. The same key
 * for a host label and a `BucketName` means the same name however each is spelled (`Fn::Sub`, `Fn::Join`).
 * Undefined when some piece cannot be read.
 */
function nameKey(pieces: readonly HostPiece[]): string | undefined {
  let key = '';
  for (const piece of pieces) {
    if (piece.kind === 'unknown') return undefined;
    key +=
      piece.kind === 'text'
        ? piece.text.toLowerCase()
        : `\u0000${piece.logicalId}${piece.attribute === undefined ? '' : `.${piece.attribute}`}\u0000`;
  }
  return key;
}

/** The names a template gives its buckets and access points, and its registry buckets: read once per template. */
interface TemplateNames {
  readonly buckets: ReadonlyMap<string, string[]>;
  readonly accessPoints: ReadonlyMap<string, string[]>;
  readonly registries: readonly TemplateResource[];
}

const namesByTemplate = new WeakMap<TemplateIndex, TemplateNames>();

function templateNamesOf(index: TemplateIndex): TemplateNames {
  const known = namesByTemplate.get(index);
  if (known !== undefined) return known;
  const names: TemplateNames = {
    buckets: namesOfType(index, 'AWS::S3::Bucket', 'BucketName'),
    accessPoints: namesOfType(index, 'AWS::S3::AccessPoint', 'Name'),
    registries: index.ofType('AWS::S3::Bucket').filter(isRegistryBucket),
  };
  namesByTemplate.set(index, names);
  return names;
}

function namesOfType(index: TemplateIndex, type: string, nameProperty: string): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  for (const resource of index.ofType(type)) {
    const name = resource.properties[nameProperty];
    const key = name === undefined ? undefined : nameKey(mergedText(hostPieces(name, 0)));
    if (key === undefined || key === '') continue;
    const sameName = byName.get(key) ?? [];
    sameName.push(resource.logicalId);
    byName.set(key, sameName);
  }
  return byName;
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

/**
 * How a statement names CloudFront: its service principal (origin access control), an origin access identity,
 * or (whatever the principal) a distribution in its `aws:SourceArn` condition.
 */
function cloudFrontGranteesOf(statement: Readonly<Record<string, unknown>>, index: TemplateIndex): string[] {
  const principal = fieldsOf(statement.Principal);
  const grantees = new Set<string>();
  for (const service of listedValues(principal.Service, index)) {
    if (
      /^cloudfront\.(amazonaws\.com(\.cn)?|\$\{AWS::URLSuffix\})$/i.test(renderValue(service, index).display)
    )
      grantees.add('cloudfront.amazonaws.com (origin access control)');
  }
  for (const canonicalUser of listedValues(principal.CanonicalUser, index)) {
    const piece = intrinsicName(canonicalUser) === 'Fn::GetAtt' ? hostPieces(canonicalUser, 0)[0] : undefined;
    if (
      piece?.kind === 'reference' &&
      index.resourceTypeOf(piece.logicalId) === 'AWS::CloudFront::CloudFrontOriginAccessIdentity'
    )
      grantees.add(`origin access identity ${piece.logicalId}`);
  }
  for (const arn of listedValues(principal.AWS, index)) {
    if (renderValue(arn, index).display.includes(ORIGIN_ACCESS_IDENTITY_USER))
      grantees.add('a CloudFront origin access identity');
  }
  if (grantees.size === 0) return sourceArnGrantees(statement, index);
  return [...grantees];
}

function listedValues(field: unknown, index: TemplateIndex): unknown[] {
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

/** Operators that require `aws:SourceArn` to match what they list (lower case, without `IfExists`). */
const SOURCE_ARN_MATCHING = new Set([
  'stringequals',
  'stringequalsignorecase',
  'stringlike',
  'arnequals',
  'arnlike',
]);

/**
 * A statement whose `aws:SourceArn` names a CloudFront distribution lets CloudFront in whatever its principal
 * (`"*"` includes the service principal an origin access control signs as). A source ARN built at deploy time
 * could be a distribution: it counts when the principal could include CloudFront.
 */
function sourceArnGrantees(statement: Readonly<Record<string, unknown>>, index: TemplateIndex): string[] {
  const grantees = new Set<string>();
  const unreadable = new Set<string>();
  for (const value of sourceArnValues(statement.Condition, index)) {
    const reading = readSourceArn(value, index);
    if (reading.kind === 'distribution') grantees.add(reading.grantee);
    if (reading.kind === 'unreadable') unreadable.add(reading.grantee);
  }
  if (grantees.size === 0 && unreadable.size > 0 && principalCouldBeCloudFront(statement, index))
    return [...unreadable];
  return [...grantees];
}

/** Every value a matching operator compares `aws:SourceArn` with, in every branch of the Condition block. */
function sourceArnValues(condition: unknown, index: TemplateIndex): unknown[] {
  const values: unknown[] = [];
  for (const { value: block } of alternativesOf(condition, index)) {
    for (const [operator, operatorBlock] of Object.entries(fieldsOf(block))) {
      if (!SOURCE_ARN_MATCHING.has(parseOperator(operator).base)) continue;
      for (const { value: entries } of alternativesOf(operatorBlock, index)) {
        for (const [key, listed] of Object.entries(fieldsOf(entries))) {
          if (key.toLowerCase() === 'aws:sourcearn') values.push(...listedValues(listed, index));
        }
      }
    }
  }
  return values.filter((value) => value !== ABSENT);
}

/** How a deploy-time value stands in a source ARN's shape: one character, so its colons split no field. */
const FIXED_TOKEN = '\u0001';
const UNREAD_TOKEN = '\u0002';

type SourceArnReading =
  { readonly kind: 'distribution' | 'unreadable'; readonly grantee: string } | { readonly kind: 'other' };

/**
 * A distribution: a `Ref`/`Fn::GetAtt` of one in this template, or an ARN whose service is `cloudfront`.
 * Unreadable: a value whose service part is chosen at deploy time or a wildcard. Anything else names
 * another service.
 */
function readSourceArn(value: unknown, index: TemplateIndex): SourceArnReading {
  const rendered = renderValue(value, index);
  for (const segment of rendered.segments) {
    if (segment.kind !== 'token') continue;
    const logicalId = segment.label.split('.')[0];
    if (index.resourceTypeOf(logicalId) === 'AWS::CloudFront::Distribution')
      return { kind: 'distribution', grantee: `CloudFront distribution ${logicalId} (its aws:SourceArn)` };
  }
  // Deploy-time values stand as one character, so the colons of `${AWS::Partition}` do not split fields.
  const shape = rendered.segments
    .map((segment) =>
      segment.kind === 'literal' ? segment.text.toLowerCase() : segment.fixed ? FIXED_TOKEN : UNREAD_TOKEN,
    )
    .join('');
  const fields = shape.split(':');
  const service = fields.length > 2 && fields[0] === 'arn' ? fields[2] : undefined;
  if (service === 'cloudfront')
    return {
      kind: 'distribution',
      grantee: `the CloudFront distribution aws:SourceArn names ('${rendered.display}')`,
    };
  const couldBeAnything =
    service === undefined
      ? ['*', '?', UNREAD_TOKEN].some((character) => shape.includes(character))
      : ['*', '?', FIXED_TOKEN, UNREAD_TOKEN].some((character) => service.includes(character));
  if (!couldBeAnything) return { kind: 'other' };
  const why = [FIXED_TOKEN, UNREAD_TOKEN].some((token) => (service ?? shape).includes(token))
    ? 'is chosen at deploy time, so the rule could not read which service it names'
    : 'has a wildcard where it names the service, which matches CloudFront';
  return {
    kind: 'unreadable',
    grantee: `possibly a CloudFront distribution (aws:SourceArn '${rendered.display}' ${why})`,
  };
}

/** Whether a principal could include CloudFront's service principal: `"*"`, a wildcard, `NotPrincipal`, or unreadable. */
function principalCouldBeCloudFront(
  statement: Readonly<Record<string, unknown>>,
  index: TemplateIndex,
): boolean {
  return principalMembersOf(statement, index).some((member) => {
    if (member.kind === 'notPrincipal') return true;
    if (member.kind !== 'member' || !['', 'AWS', 'Service'].includes(member.principalType)) return false;
    const rendered = renderValue(member.value, index);
    return (
      rendered.display.includes('*') ||
      rendered.display.toLowerCase().startsWith('cloudfront.') ||
      rendered.segments.some((segment) => segment.kind === 'token' && !segment.fixed)
    );
  });
}
