/**
 * A CloudFormation template as the rules see it: resources by logical id, and the cross-references the
 * rules need (which policy belongs to which bucket, which key encrypts it) computed once per template,
 * so every rule answers in constant time per resource and checking stays linear in the template's size.
 */
import {
  GUARD_MARKER_METADATA_KEY,
  GUARD_MARKER_METADATA_VALUE,
  REGISTRY_CLASSIFICATION_TAG_KEY,
  isRegistryClassificationTag,
} from '../lib/classification';
import type { TemplateContext } from '../lib/exposure';

/** One resource of a template. */
export interface TemplateResource {
  /** The resource's logical id: its key under `Resources`. */
  readonly logicalId: string;
  /**
   * `Type`, or an empty string when absent or not a string.
   *
   * @jsii suppress JSII5018 (`type` is reserved in Go: not a target)
   */
  readonly type: string;
  /** `Properties`, or an empty object when absent or not an object. */
  readonly properties: Readonly<Record<string, unknown>>;
  /** `Metadata`, or an empty object when absent or not an object. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * `DeletionPolicy`, as written.
   * @default undefined: the template sets none
   */
  readonly deletionPolicy?: unknown;
  /**
   * `UpdateReplacePolicy`, as written.
   * @default undefined: the template sets none
   */
  readonly updateReplacePolicy?: unknown;
}

/** Reads a value as an object's fields, or an empty object when it is anything else. */
export function fieldsOf(value: unknown): Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Reads a value as a list; anything else (an intrinsic that builds a list included) is an empty list. */
export function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The logical id a `Ref` or `Fn::GetAtt` points at, when the value is one. */
export function referencedLogicalId(value: unknown): string | undefined {
  const fields = fieldsOf(value);
  if (typeof fields.Ref === 'string') return fields.Ref;
  const getAtt = fields['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

/**
 * What a rule written in any jsii language ({@link IRegistryGuardRule}) can ask of the template around the
 * resource it judges. {@link TemplateIndex} is the TypeScript view, with maps and readonly arrays.
 */
export interface ITemplateIndex {
  /** Whether this template deploys a PublicAccessGuard: its Config rule carries the guard's marker. */
  readonly deploysPublicAccessGuard: boolean;
  /**
   * The type of the resource with this logical id, or undefined when the template has none.
   *
   * @param logicalId a logical id of the template
   */
  resourceTypeOf(logicalId: string): string | undefined;
  /**
   * The logical id of a bucket in this template named by `Ref`, `Fn::GetAtt`, `Fn::Sub: "${Bucket}"`, or the
   * same `BucketName` expression the bucket declares. Undefined when the reference cannot be tied to a bucket
   * of this template.
   *
   * @param reference a property value that names a bucket (`{ Ref: 'Roll' }`)
   */
  bucketLogicalId(reference: unknown): string | undefined;
  /**
   * Whether a `Custom::S3AutoDeleteObjects` empties the bucket when its stack is deleted.
   *
   * @param bucketLogicalId the bucket's logical id
   */
  isAutoDeleted(bucketLogicalId: string): boolean;
}

/**
 * The template, indexed once.
 *
 * @jsii ignore TypeScript only (maps and readonly arrays): see ITemplateIndex
 */
export class TemplateIndex implements TemplateContext, ITemplateIndex {
  /** Builds the index from a parsed template: `{ Resources, Parameters, ... }`. */
  static fromTemplate(template: unknown): TemplateIndex {
    const fields = fieldsOf(template);
    const resources = new Map<string, TemplateResource>();
    for (const [logicalId, definition] of Object.entries(fieldsOf(fields.Resources))) {
      const resource = fieldsOf(definition);
      resources.set(logicalId, {
        logicalId,
        type: typeof resource.Type === 'string' ? resource.Type : '',
        properties: fieldsOf(resource.Properties),
        metadata: fieldsOf(resource.Metadata),
        deletionPolicy: resource.DeletionPolicy,
        updateReplacePolicy: resource.UpdateReplacePolicy,
      });
    }
    const parameters = fieldsOf(fields.Parameters);
    const allowedValues = new Map<string, readonly unknown[]>();
    for (const [name, parameter] of Object.entries(parameters)) {
      const { AllowedValues: allowed, Type: type } = fieldsOf(parameter);
      // For an SSM parameter type, AllowedValues constrain the parameter's name, not the value it resolves to.
      const resolvedElsewhere = typeof type === 'string' && type.startsWith('AWS::SSM::Parameter::Value');
      if (Array.isArray(allowed) && !resolvedElsewhere) allowedValues.set(name, allowed);
    }
    return new TemplateIndex(
      resources,
      new Set(Object.keys(parameters)),
      allowedValues,
      fieldsOf(fields.Mappings),
    );
  }

  private readonly policiesByBucket = new Map<string, TemplateResource[]>();
  private readonly autoDeletedBuckets = new Set<string>();
  /**
   * Buckets by their `BucketName` as written (JSON text), so a policy naming the same expression finds them.
   * Several buckets may share one (each behind its own Condition): a policy is then attached to all of them.
   */
  private readonly bucketsByName = new Map<string, string[]>();
  private readonly resourcesByType = new Map<string, TemplateResource[]>();

  constructor(
    readonly resources: ReadonlyMap<string, TemplateResource>,
    readonly parameterNames: ReadonlySet<string>,
    readonly parameterAllowedValues: ReadonlyMap<string, readonly unknown[]> = new Map(),
    readonly mappings: Readonly<Record<string, unknown>> = {},
  ) {
    for (const resource of resources.values()) {
      const sameType = this.resourcesByType.get(resource.type) ?? [];
      sameType.push(resource);
      this.resourcesByType.set(resource.type, sameType);
      if (resource.type === 'AWS::S3::Bucket' && resource.properties.BucketName !== undefined) {
        const name = JSON.stringify(resource.properties.BucketName);
        this.bucketsByName.set(name, [...(this.bucketsByName.get(name) ?? []), resource.logicalId]);
      }
    }
    for (const policy of this.ofType('AWS::S3::BucketPolicy')) {
      for (const bucketId of this.bucketLogicalIds(policy.properties.Bucket)) {
        const policies = this.policiesByBucket.get(bucketId) ?? [];
        policies.push(policy);
        this.policiesByBucket.set(bucketId, policies);
      }
    }
    for (const autoDelete of this.ofType('Custom::S3AutoDeleteObjects')) {
      const bucketId = this.bucketLogicalId(autoDelete.properties.BucketName);
      if (bucketId !== undefined) this.autoDeletedBuckets.add(bucketId);
    }
  }

  /** Whether this template deploys a PublicAccessGuard: its Config rule carries the guard's marker. */
  get deploysPublicAccessGuard(): boolean {
    return this.ofType('AWS::Config::ConfigRule').some(
      (rule) => rule.metadata[GUARD_MARKER_METADATA_KEY] === GUARD_MARKER_METADATA_VALUE,
    );
  }

  /** Every resource of one type. */
  ofType(type: string): readonly TemplateResource[] {
    return this.resourcesByType.get(type) ?? [];
  }

  /** The type of the resource with this logical id, or undefined when the template has none. */
  resourceTypeOf(logicalId: string): string | undefined {
    return this.resources.get(logicalId)?.type;
  }

  /**
   * The logical id of a bucket in this template named by `Ref`, `Fn::GetAtt`, `Fn::Sub: "${Bucket}"`, or the
   * same `BucketName` expression the bucket declares (a literal name, or e.g. the same `Fn::Sub`). Undefined
   * when the reference cannot be tied to a bucket of this template.
   */
  bucketLogicalId(reference: unknown): string | undefined {
    return this.bucketLogicalIds(reference)[0];
  }

  /** Every bucket of this template a reference may name (several share a name behind exclusive Conditions). */
  bucketLogicalIds(reference: unknown): readonly string[] {
    const byName = this.bucketsByName.get(JSON.stringify(reference));
    if (byName !== undefined) return byName;
    const logicalId = referencedLogicalId(reference) ?? wholeSubstitution(reference);
    return logicalId !== undefined && this.resources.get(logicalId)?.type === 'AWS::S3::Bucket'
      ? [logicalId]
      : [];
  }

  /** The `AWS::S3::BucketPolicy` resources attached to a bucket. */
  bucketPolicies(bucketLogicalId: string): readonly TemplateResource[] {
    return this.policiesByBucket.get(bucketLogicalId) ?? [];
  }

  /** Whether a `Custom::S3AutoDeleteObjects` empties the bucket when its stack is deleted. */
  isAutoDeleted(bucketLogicalId: string): boolean {
    return this.autoDeletedBuckets.has(bucketLogicalId);
  }
}

/** `Fn::Sub: "${Name}"` (and `Fn::Join` of one `Ref`): the whole value is one resource's `Ref`. */
function wholeSubstitution(value: unknown): string | undefined {
  const fields = fieldsOf(value);
  const sub = fields['Fn::Sub'];
  const template = Array.isArray(sub) && sub.length === 1 ? sub[0] : sub;
  if (typeof template === 'string' && template.startsWith('${') && template.endsWith('}')) {
    const name = template.slice(2, -1);
    if (/^[A-Za-z0-9]+$/.test(name)) return name;
  }
  const join = fields['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1]) && join[1].length === 1)
    return referencedLogicalId(join[1][0]);
  return undefined;
}

/**
 * Whether a bucket carries the registry classification tag. Fails closed: the value in any case, and a
 * value chosen at deploy time (a parameter, an intrinsic), count as a registry.
 */
export function isRegistryBucket(bucket: TemplateResource): boolean {
  return listOf(bucket.properties.Tags).some((tag) => {
    const fields = fieldsOf(tag);
    if (typeof fields.Key !== 'string') return false;
    if (typeof fields.Value !== 'string') {
      return fields.Key.trim().toLowerCase() === REGISTRY_CLASSIFICATION_TAG_KEY;
    }
    return isRegistryClassificationTag(fields.Key, fields.Value);
  });
}
