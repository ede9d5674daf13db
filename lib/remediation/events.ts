/**
 * Turns the raw Lambda event into one of the five things the guard acts on, or rejects it. Nothing here
 * calls AWS: a malformed event must leave every bucket untouched.
 */
import { ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE } from '../classification';
import {
  ACCESS_POINT_EVENT_NAMES,
  AccessPointEventName,
  ACCOUNT_EVENT_NAMES,
  AccountEventName,
  BUCKET_EVENT_NAMES,
  BucketEventName,
  GROUP_GRANTEE_MARK,
  MULTI_REGION_ACCESS_POINT_EVENT_NAMES,
  MultiRegionAccessPointEventName,
  OBJECT_ACL_EVENT_NAMES,
  ObjectAclEventName,
  OBJECT_GRANT_HEADERS,
  PUBLIC_CANNED_ACLS,
} from '../guard-facts';
import { CloudFormationRequestIds } from './answer/cloudformation-response';
import { InvalidCustomResourceRequestError, InvalidEventError } from './errors';

export { ACCOUNT_EVENT_NAMES, BUCKET_EVENT_NAMES } from '../guard-facts';
export type { AccountEventName, BucketEventName } from '../guard-facts';

/** Configuration item statuses for which the rule reports NOT_APPLICABLE. */
const STATUSES_OUT_OF_SCOPE: ReadonlySet<string> = new Set([
  'ResourceDeleted',
  'ResourceDeletedNotRecorded',
  'ResourceNotRecorded',
]);

/** Fields every AWS Config custom-rule event carries. */
export interface ConfigRuleEventFields {
  /** Token PutEvaluations needs to attach evaluations to this rule run. */
  readonly resultToken: string;
  /** The account the rule runs in, when the event names it. */
  readonly accountId?: string;
  readonly configRuleName?: string;
}

/** A configuration item change (full or oversized) for one bucket. */
export interface ConfigChangeEvent extends ConfigRuleEventFields {
  readonly kind: 'config-change';
  readonly messageType:
    'ConfigurationItemChangeNotification' | 'OversizedConfigurationItemChangeNotification';
  readonly bucket: string;
  /** The bucket's region as the configuration item records it. */
  readonly region?: string;
  /** The item's capture time: PutEvaluations' OrderingTimestamp. */
  readonly orderingTimestamp: Date;
  /** Set when Config says the bucket is out of scope or deleted: the rule reports NOT_APPLICABLE unread. */
  readonly notApplicableReason?: string;
}

/** A periodic run: sweep every bucket. */
export interface ConfigScheduledEvent extends ConfigRuleEventFields {
  readonly kind: 'config-scheduled';
  /** The notification's creation time: PutEvaluations' OrderingTimestamp. */
  readonly orderingTimestamp: Date;
}

/** Fields of an EventBridge "AWS API Call via CloudTrail" event the guard uses. */
export interface ApiCallEventFields {
  readonly accountId: string;
  readonly region: string;
  /** `detail.userIdentity.arn`: who made the call, when CloudTrail names them. */
  readonly callerArn?: string;
  readonly eventTime?: string;
  /** Set when the call failed (`detail.errorCode`): nothing changed, so the guard does nothing. */
  readonly errorCode?: string;
}

/** An API call that may have opened one bucket. */
export interface BucketApiCallEvent extends ApiCallEventFields {
  readonly kind: 'bucket-api-call';
  readonly eventName: BucketEventName;
  readonly bucket: string;
}

/** An API call that changed the account's Block Public Access. */
export interface AccountApiCallEvent extends ApiCallEventFields {
  readonly kind: 'account-api-call';
  readonly eventName: AccountEventName;
}

/** An S3 Control call that may have opened a bucket through one of its access points. */
export interface AccessPointApiCallEvent extends ApiCallEventFields {
  readonly kind: 'access-point-api-call';
  readonly eventName: AccessPointEventName;
  /** The access point's name (an ARN in the request is reduced to its name, its account checked). */
  readonly accessPoint: string;
}

/** An S3 Control call that may have opened buckets through a Multi-Region Access Point. */
export interface MultiRegionAccessPointApiCallEvent extends ApiCallEventFields {
  readonly kind: 'multi-region-access-point-api-call';
  readonly eventName: MultiRegionAccessPointEventName;
  readonly multiRegionAccessPoint: string;
}

/** A data event that may have made one object public through its ACL. */
export interface ObjectAclApiCallEvent extends ApiCallEventFields {
  readonly kind: 'object-acl-api-call';
  readonly eventName: ObjectAclEventName;
  readonly bucket: string;
  readonly key: string;
  /** The version the call wrote or named, when the bucket is versioned. */
  readonly versionId?: string;
}

/** The request types of a CloudFormation custom resource. */
export const CUSTOM_RESOURCE_REQUEST_TYPES = ['Create', 'Update', 'Delete'] as const;

/** Create, Update or Delete. */
export type CustomResourceRequestType = (typeof CUSTOM_RESOURCE_REQUEST_TYPES)[number];

/**
 * CloudFormation asks the guard, at deploy time, to turn on the account's Block Public Access (the custom
 * resource of type {@link ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}). It must be answered, whatever happens.
 */
export interface AccountBlockPublicAccessRequestEvent extends CloudFormationRequestIds {
  readonly kind: 'account-block-public-access-request';
  readonly requestType: CustomResourceRequestType;
  /** Set on Update and Delete: the id this resource was given on Create. */
  readonly physicalResourceId?: string;
  /** The stack's account, from the StackId ARN: the account whose setting is turned on. */
  readonly accountId: string;
  /** The stack's region, from the StackId ARN. */
  readonly region: string;
}

/** Every event the guard acts on. */
export type GuardEvent =
  | ConfigChangeEvent
  | ConfigScheduledEvent
  | BucketApiCallEvent
  | AccountApiCallEvent
  | AccessPointApiCallEvent
  | MultiRegionAccessPointApiCallEvent
  | ObjectAclApiCallEvent
  | AccountBlockPublicAccessRequestEvent;

type Fields = Record<string, unknown>;

/** How {@link parseGuardEvent} checks what it cannot check from the event alone. */
export interface ParseOptions {
  /**
   * Whether a custom resource's ResponseURL may be answered. The answer holds ids and a reason: sent to
   * an arbitrary URL it is a request the guard makes for whoever forged the event.
   * @default {@link isCloudFormationResponseUrl}
   */
  readonly isTrustedResponseUrl?: (url: URL, stackRegion?: string) => boolean;
}

/** CloudFormation's response buckets are named this, one per Region (`...-useast1`). */
const RESPONSE_BUCKET_PREFIX = 'cloudformation-custom-resource-response-';

/**
 * True for a URL CloudFormation could have pre-signed for a custom resource's answer: https, the default
 * port, no credentials in it, on an Amazon S3 host of an AWS partition (`*.amazonaws.com`,
 * `*.amazonaws.com.cn`, with an `s3` or `s3-<region>` label), in one of CloudFormation's response buckets
 * (virtual-hosted or path style), the one of the stack's Region when it is known. Anything else would make
 * the guard send a request for whoever forged it.
 *
 * @example
 * isCloudFormationResponseUrl(new URL('https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?X-Amz-Signature=1')); // true
 * isCloudFormationResponseUrl(new URL('https://my-bucket.s3.amazonaws.com/x')); // false
 */
export function isCloudFormationResponseUrl(url: URL, stackRegion?: string): boolean {
  if (url.protocol !== 'https:' || url.port !== '' || url.username !== '' || url.password !== '')
    return false;
  const host = url.hostname.toLowerCase();
  const suffix = ['.amazonaws.com', '.amazonaws.com.cn'].find((candidate) => host.endsWith(candidate));
  if (suffix === undefined) return false;
  const labels = host.slice(0, -suffix.length).split('.');
  const s3Label = labels.findIndex((label) => label === 's3' || /^s3-[a-z0-9-]+$/.test(label));
  if (s3Label < 0) return false;
  const bucket = s3Label === 0 ? (url.pathname.split('/')[1] ?? '') : labels.slice(0, s3Label).join('.');
  if (!bucket.startsWith(RESPONSE_BUCKET_PREFIX)) return false;
  const regionCode = bucket.slice(RESPONSE_BUCKET_PREFIX.length);
  // The bucket is CloudFormation's own for the stack's Region (`us-east-1` → `useast1`): anyone may create
  // `cloudformation-custom-resource-response-attacker`, nobody but CloudFormation owns the Region's name.
  return stackRegion === undefined
    ? /^[a-z]+[0-9]+$/.test(regionCode)
    : regionCode === stackRegion.replace(/-/g, '');
}

/**
 * Validates and normalises a Lambda event.
 *
 * @throws InvalidEventError for anything else: null, a missing or mistyped field, an `invokingEvent` that
 *   is not JSON, an unknown `messageType`, `detail-type` or `eventName`, a ResponseURL that is not
 *   CloudFormation's.
 * @throws InvalidCustomResourceRequestError (an InvalidEventError) for a CloudFormation request the guard
 *   does not serve but can still answer: it carries the ResponseURL and ids to answer it with.
 * @example
 * const event = parseGuardEvent({
 *   invokingEvent: JSON.stringify({ messageType: 'ScheduledNotification', notificationCreationTime: '2026-11-25T00:00:00.000Z' }),
 *   resultToken: 'token',
 *   accountId: '123456789012',
 * });
 * event.kind; // 'config-scheduled'
 */
export function parseGuardEvent(event: unknown, options: ParseOptions = {}): GuardEvent {
  const fields = objectOrReject(event, 'the event');
  if ('invokingEvent' in fields) return parseConfigRuleEvent(fields);
  if ('detail-type' in fields) return parseApiCallEvent(fields);
  if ('RequestType' in fields || 'ResponseURL' in fields) {
    return parseCustomResourceRequest(fields, options.isTrustedResponseUrl ?? isCloudFormationResponseUrl);
  }
  if ('Records' in fields) {
    // SQS events are the sweep queue's, taken by the handler before this (triggers/sweep-queue.ts).
    throw new InvalidEventError(
      'Records holds no aws:sqs record: of record-shaped events the guard takes only its sweep queue’s',
    );
  }
  throw new InvalidEventError(
    'the event has neither invokingEvent (AWS Config), detail-type (EventBridge) nor RequestType (CloudFormation)',
  );
}

/**
 * Says in a few words what triggered the guard, for evidence and notices.
 *
 * @example
 * describeEvent({ kind: 'bucket-api-call', eventName: 'PutBucketPolicy', bucket: 'roll', accountId: '123456789012', region: 'eu-west-1' });
 * // 'CloudTrail PutBucketPolicy'
 */
export function describeEvent(event: GuardEvent): string {
  switch (event.kind) {
    case 'config-change':
    case 'config-scheduled': {
      const rule = event.configRuleName === undefined ? '' : ` (rule ${event.configRuleName})`;
      const messageType = event.kind === 'config-change' ? event.messageType : 'ScheduledNotification';
      return `AWS Config ${messageType}${rule}`;
    }
    case 'bucket-api-call':
    case 'account-api-call':
    case 'access-point-api-call':
    case 'multi-region-access-point-api-call':
    case 'object-acl-api-call': {
      const time = event.eventTime === undefined ? '' : ` at ${event.eventTime}`;
      return `CloudTrail ${event.eventName}${time}`;
    }
    case 'account-block-public-access-request':
      return `CloudFormation ${event.requestType} of ${ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}`;
  }
}

/** What the stack's ResourceProperties may hold: CloudFormation's own keys, nothing of ours. */
const CUSTOM_RESOURCE_PROPERTIES: ReadonlySet<string> = new Set(['ServiceToken', 'ServiceTimeout']);

/**
 * Two stages: without a usable ResponseURL and ids nobody can be answered, so the event is rejected like
 * any other; with them, every other problem is answered (by the handler) rather than thrown, because a
 * request left unanswered holds the stack for an hour.
 */
function parseCustomResourceRequest(
  fields: Fields,
  isTrustedResponseUrl: (url: URL, stackRegion?: string) => boolean,
): AccountBlockPublicAccessRequestEvent {
  const stackRegion =
    typeof fields.StackId === 'string'
      ? /^arn:[a-z0-9-]+:cloudformation:([a-z0-9-]+):/.exec(fields.StackId)?.[1]
      : undefined;
  const ids: CloudFormationRequestIds = {
    responseUrl: responseUrl(fields.ResponseURL, (url) => isTrustedResponseUrl(url, stackRegion)),
    stackId: nonEmptyString(fields.StackId, 'StackId'),
    requestId: nonEmptyString(fields.RequestId, 'RequestId'),
    logicalResourceId: nonEmptyString(fields.LogicalResourceId, 'LogicalResourceId'),
  };
  const requestType = typeof fields.RequestType === 'string' ? fields.RequestType : undefined;
  const physicalResourceId =
    typeof fields.PhysicalResourceId === 'string' && fields.PhysicalResourceId.trim() !== ''
      ? fields.PhysicalResourceId
      : undefined;
  const stack = /^arn:[a-z0-9-]+:cloudformation:([a-z0-9-]+):(\d{12}):stack\/./.exec(ids.stackId);
  const reject = (problem: string): never => {
    throw new InvalidCustomResourceRequestError(problem, {
      ...ids,
      requestType,
      resourceType: typeof fields.ResourceType === 'string' ? fields.ResourceType : undefined,
      physicalResourceId,
      accountId: stack?.[2],
    });
  };
  if (!isOneOf(requestType, CUSTOM_RESOURCE_REQUEST_TYPES)) {
    return reject(`RequestType ${JSON.stringify(fields.RequestType)} is not Create, Update or Delete`);
  }
  if (fields.ResourceType !== ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE) {
    return reject(
      `ResourceType ${JSON.stringify(fields.ResourceType)} is not ${ACCOUNT_BLOCK_PUBLIC_ACCESS_RESOURCE_TYPE}`,
    );
  }
  if (stack === null) {
    return reject(`StackId ${JSON.stringify(ids.stackId)} is not a CloudFormation stack ARN`);
  }
  if (requestType !== 'Create' && physicalResourceId === undefined) {
    return reject(`PhysicalResourceId is missing: CloudFormation sends it with every ${requestType}`);
  }
  const properties = fields.ResourceProperties;
  if (
    properties !== undefined &&
    (properties === null || typeof properties !== 'object' || Array.isArray(properties))
  ) {
    return reject('ResourceProperties is not an object');
  }
  const unexpected = Object.keys((properties as Fields | undefined) ?? {}).filter(
    (key) => !CUSTOM_RESOURCE_PROPERTIES.has(key),
  );
  if (unexpected.length > 0) {
    // A property such as RestrictPublicBuckets: false must not be silently ignored: the guard turns all four on.
    return reject(`ResourceProperties ${unexpected.join(', ')} not supported: the resource takes none`);
  }
  return {
    ...ids,
    kind: 'account-block-public-access-request',
    requestType,
    physicalResourceId,
    region: stack[1],
    accountId: stack[2],
  };
}

function parseConfigRuleEvent(fields: Fields): ConfigChangeEvent | ConfigScheduledEvent {
  if (typeof fields.invokingEvent !== 'string') {
    throw new InvalidEventError('invokingEvent is not a string: AWS Config sends it as JSON text');
  }
  let invoking: unknown;
  try {
    invoking = JSON.parse(fields.invokingEvent);
  } catch (error) {
    throw new InvalidEventError(`invokingEvent is not JSON (${(error as Error).message})`);
  }
  const invokingFields = objectOrReject(invoking, 'invokingEvent');
  checkRuleParameters(fields.ruleParameters);
  const common: ConfigRuleEventFields = {
    resultToken: nonEmptyString(fields.resultToken, 'resultToken'),
    accountId: optionalAccountId(fields.accountId, 'accountId'),
    configRuleName: optionalString(fields.configRuleName, 'configRuleName'),
  };
  const eventLeftScope = fields.eventLeftScope;
  if (eventLeftScope !== undefined && typeof eventLeftScope !== 'boolean') {
    throw new InvalidEventError('eventLeftScope is not true or false');
  }
  const messageType = invokingFields.messageType;
  switch (messageType) {
    case 'ConfigurationItemChangeNotification':
    case 'OversizedConfigurationItemChangeNotification': {
      const itemField =
        messageType === 'ConfigurationItemChangeNotification'
          ? 'configurationItem'
          : 'configurationItemSummary';
      const item = objectOrReject(invokingFields[itemField], `invokingEvent.${itemField}`);
      if (item.resourceType !== 'AWS::S3::Bucket') {
        throw new InvalidEventError(
          `invokingEvent.${itemField}.resourceType is ${JSON.stringify(item.resourceType)}, not AWS::S3::Bucket: ` +
            'scope the Config rule to AWS::S3::Bucket',
        );
      }
      const bucket = bucketName(
        item.resourceName ?? item.resourceId,
        `invokingEvent.${itemField}.resourceName`,
      );
      const status = optionalString(
        item.configurationItemStatus,
        `invokingEvent.${itemField}.configurationItemStatus`,
      );
      let notApplicableReason: string | undefined;
      if (eventLeftScope === true) notApplicableReason = 'the bucket left the rule’s scope';
      else if (status !== undefined && STATUSES_OUT_OF_SCOPE.has(status)) {
        notApplicableReason = `the configuration item status is ${status}`;
      }
      return {
        ...common,
        accountId:
          common.accountId ?? optionalAccountId(item.awsAccountId, `invokingEvent.${itemField}.awsAccountId`),
        kind: 'config-change',
        messageType,
        bucket,
        region: optionalString(item.awsRegion, `invokingEvent.${itemField}.awsRegion`),
        orderingTimestamp: timestamp(
          item.configurationItemCaptureTime,
          `invokingEvent.${itemField}.configurationItemCaptureTime`,
        ),
        notApplicableReason,
      };
    }
    case 'ScheduledNotification':
      return {
        ...common,
        kind: 'config-scheduled',
        orderingTimestamp: timestamp(
          invokingFields.notificationCreationTime,
          'invokingEvent.notificationCreationTime',
        ),
      };
    default:
      throw new InvalidEventError(
        `invokingEvent.messageType ${JSON.stringify(messageType)} is not ConfigurationItemChangeNotification, ` +
          'OversizedConfigurationItemChangeNotification or ScheduledNotification',
      );
  }
}

function parseApiCallEvent(
  fields: Fields,
):
  | BucketApiCallEvent
  | AccountApiCallEvent
  | AccessPointApiCallEvent
  | MultiRegionAccessPointApiCallEvent
  | ObjectAclApiCallEvent {
  if (fields['detail-type'] !== 'AWS API Call via CloudTrail') {
    throw new InvalidEventError(
      `detail-type ${JSON.stringify(fields['detail-type'])} is not "AWS API Call via CloudTrail"`,
    );
  }
  if (fields.source !== undefined && fields.source !== 'aws.s3') {
    throw new InvalidEventError(`source ${JSON.stringify(fields.source)} is not aws.s3`);
  }
  const detail = objectOrReject(fields.detail, 'detail');
  const eventName = detail.eventName;
  const userIdentity = detail.userIdentity;
  const callerArn =
    userIdentity !== null && typeof userIdentity === 'object'
      ? optionalString((userIdentity as Fields).arn, 'detail.userIdentity.arn')
      : undefined;
  const common: ApiCallEventFields = {
    accountId: accountId(fields.account, 'account'),
    region: nonEmptyString(fields.region ?? detail.awsRegion, 'region'),
    callerArn,
    eventTime: optionalString(detail.eventTime, 'detail.eventTime'),
    errorCode: optionalString(detail.errorCode, 'detail.errorCode'),
  };
  if (isOneOf(eventName, BUCKET_EVENT_NAMES)) {
    const requestParameters = objectOrReject(detail.requestParameters, 'detail.requestParameters');
    return {
      ...common,
      kind: 'bucket-api-call',
      eventName,
      bucket: bucketName(requestParameters.bucketName, 'detail.requestParameters.bucketName'),
    };
  }
  if (isOneOf(eventName, ACCOUNT_EVENT_NAMES)) return { ...common, kind: 'account-api-call', eventName };
  if (isOneOf(eventName, ACCESS_POINT_EVENT_NAMES)) {
    const requestParameters = objectOrReject(detail.requestParameters, 'detail.requestParameters');
    // The path parameter, or the access point CloudTrail names among the event's resources: whichever the
    // record carries (the guard has no real record of every call to check the shape against).
    const named =
      requestParameters.name !== undefined
        ? accessPointNamed(requestParameters.name, 'detail.requestParameters.name', common)
        : accessPointNamed(accessPointResourceArn(detail.resources), 'detail.resources[].ARN', common);
    checkControlAccount(requestParameters, common);
    return { ...common, kind: 'access-point-api-call', eventName, accessPoint: named };
  }
  if (isOneOf(eventName, MULTI_REGION_ACCESS_POINT_EVENT_NAMES)) {
    const requestParameters = objectOrReject(detail.requestParameters, 'detail.requestParameters');
    checkControlAccount(requestParameters, common);
    return {
      ...common,
      kind: 'multi-region-access-point-api-call',
      eventName,
      multiRegionAccessPoint: multiRegionAccessPointNamed(requestParameters, eventName),
    };
  }
  if (isOneOf(eventName, OBJECT_ACL_EVENT_NAMES)) {
    return { ...common, kind: 'object-acl-api-call', eventName, ...objectNamed(detail, eventName) };
  }
  throw new InvalidEventError(
    `detail.eventName ${JSON.stringify(eventName)} is not one of ${[
      ...BUCKET_EVENT_NAMES,
      ...ACCOUNT_EVENT_NAMES,
      ...ACCESS_POINT_EVENT_NAMES,
      ...MULTI_REGION_ACCESS_POINT_EVENT_NAMES,
      ...OBJECT_ACL_EVENT_NAMES,
    ].join(', ')}`,
  );
}

/**
 * The object a data event names. An upload is guarded only with a public canned ACL or a grant header
 * naming a group: the EventBridge rule matches no other, so one without either is not CloudTrail's (or the
 * rule was changed by hand). Whether the grant is public is judged on the ACL read back, not here.
 */
function objectNamed(
  detail: Fields,
  eventName: ObjectAclEventName,
): { bucket: string; key: string; versionId?: string } {
  const requestParameters = objectOrReject(detail.requestParameters, 'detail.requestParameters');
  if (
    eventName !== 'PutObjectAcl' &&
    !isOneOf(requestParameters['x-amz-acl'], PUBLIC_CANNED_ACLS) &&
    !namesGroupGrantee(requestParameters)
  ) {
    throw new InvalidEventError(
      `detail.requestParameters.x-amz-acl ${JSON.stringify(requestParameters['x-amz-acl'])} is not one of ${PUBLIC_CANNED_ACLS.join(', ')}, and no ${OBJECT_GRANT_HEADERS.join(', ')} names a group: a ${eventName} without a public canned ACL or a grant to a group is not a guarded event`,
    );
  }
  const key = nonEmptyString(requestParameters.key, 'detail.requestParameters.key');
  if (key.length > 1024) throw new InvalidEventError('detail.requestParameters.key is longer than an S3 key');
  const responseElements =
    detail.responseElements !== null && typeof detail.responseElements === 'object'
      ? (detail.responseElements as Fields)
      : {};
  return {
    bucket: bucketName(requestParameters.bucketName, 'detail.requestParameters.bucketName'),
    key,
    versionId:
      optionalString(requestParameters.versionId, 'detail.requestParameters.versionId') ??
      optionalString(responseElements['x-amz-version-id'], 'detail.responseElements.x-amz-version-id'),
  };
}

/**
 * True when an `x-amz-grant-*` header names a group (a URI grantee), in any case or scheme: the same test as
 * the EventBridge rule's wildcard on {@link GROUP_GRANTEE_MARK}, so every upload the rule delivers is taken.
 */
function namesGroupGrantee(requestParameters: Fields): boolean {
  return OBJECT_GRANT_HEADERS.some((header) => {
    const grantees = requestParameters[header];
    return typeof grantees === 'string' && grantees.includes(GROUP_GRANTEE_MARK);
  });
}

/** S3's rule for access point names: 3 to 50 lowercase letters, digits and hyphens. */
const ACCESS_POINT_NAME = /^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$/;

/**
 * The access point a request names, by name or ARN. An ARN of another account or Region is refused here:
 * the guard would otherwise read (and change) an access point of its own account of the same name.
 */
function accessPointNamed(value: unknown, name: string, envelope: ApiCallEventFields): string {
  const text = nonEmptyString(value, name);
  const arn = /^arn:[a-z-]+:s3:([a-z0-9-]+):(\d{12}):accesspoint\/(.+)$/.exec(text);
  const accessPoint = arn === null ? text : arn[3];
  if (arn !== null && (arn[1] !== envelope.region || arn[2] !== envelope.accountId)) {
    throw new InvalidEventError(
      `${name} ${JSON.stringify(text)} is an access point of another account or Region than the event's`,
    );
  }
  if (!ACCESS_POINT_NAME.test(accessPoint)) {
    throw new InvalidEventError(`${name} ${JSON.stringify(accessPoint)} is not an access point name`);
  }
  return accessPoint;
}

/** The ARN of the one `AWS::S3::AccessPoint` among the event's resources; undefined when not exactly one. */
function accessPointResourceArn(resources: unknown): unknown {
  if (!Array.isArray(resources)) return undefined;
  const arns = resources
    .filter(
      (resource): resource is Fields =>
        resource !== null &&
        typeof resource === 'object' &&
        (resource as Fields).type === 'AWS::S3::AccessPoint',
    )
    .map((resource) => resource.ARN);
  return arns.length === 1 ? arns[0] : undefined;
}

/** S3 Control calls name their account in a header CloudTrail keeps: it must be the event's own. */
function checkControlAccount(requestParameters: Fields, envelope: ApiCallEventFields): void {
  const named = optionalAccountId(
    requestParameters['x-amz-account-id'],
    'detail.requestParameters.x-amz-account-id',
  );
  if (named !== undefined && named !== envelope.accountId) {
    throw new InvalidEventError(
      `detail.requestParameters.x-amz-account-id ${named} is not the event's account ${envelope.accountId}`,
    );
  }
}

/**
 * A Multi-Region Access Point's name: in the request body (`<EventName>Request.Details.Name`) for the calls
 * the guard listens to, or `name` when CloudTrail records it as a path parameter.
 */
function multiRegionAccessPointNamed(requestParameters: Fields, eventName: string): string {
  const body = requestParameters[`${eventName}Request`];
  const details =
    body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Fields).Details : undefined;
  const fromBody =
    details !== null && typeof details === 'object' && !Array.isArray(details)
      ? (details as Fields).Name
      : undefined;
  const where =
    fromBody === undefined
      ? 'detail.requestParameters.name'
      : `detail.requestParameters.${eventName}Request.Details.Name`;
  const name = nonEmptyString(fromBody ?? requestParameters.name, where);
  if (!ACCESS_POINT_NAME.test(name)) {
    throw new InvalidEventError(`${where} ${JSON.stringify(name)} is not a Multi-Region Access Point name`);
  }
  return name;
}

/** An absolute URL the request may be answered at (see {@link isCloudFormationResponseUrl}). */
function responseUrl(value: unknown, isTrusted: (url: URL) => boolean): string {
  const text = nonEmptyString(value, 'ResponseURL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidEventError('ResponseURL is not a URL');
  }
  if (!isTrusted(url)) {
    throw new InvalidEventError(
      `ResponseURL ${JSON.stringify(`${url.protocol}//${url.host}`)} is not an https CloudFormation response URL on an Amazon S3 host, so it is not answered`,
    );
  }
  return text;
}

/** The guard takes no parameters, but a rule that sends broken ones is misconfigured: say so. */
function checkRuleParameters(ruleParameters: unknown): void {
  if (ruleParameters === undefined || ruleParameters === null || ruleParameters === '') return;
  if (typeof ruleParameters !== 'string') throw new InvalidEventError('ruleParameters is not a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(ruleParameters);
  } catch {
    throw new InvalidEventError('ruleParameters is not JSON');
  }
  objectOrReject(parsed, 'ruleParameters');
}

function objectOrReject(value: unknown, name: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidEventError(
      `${name} is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `missing or not an object`}`,
    );
  }
  return value as Fields;
}

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new InvalidEventError(`${name} is missing or empty`);
  return value;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidEventError(`${name} is not a string`);
  return value;
}

function accountId(value: unknown, name: string): string {
  const id = optionalAccountId(value, name);
  if (id === undefined) throw new InvalidEventError(`${name} is missing`);
  return id;
}

function optionalAccountId(value: unknown, name: string): string | undefined {
  const id = optionalString(value, name);
  if (id !== undefined && !/^\d{12}$/.test(id)) {
    throw new InvalidEventError(`${name} ${JSON.stringify(id)} is not a 12-digit account id`);
  }
  return id;
}

/**
 * Legacy us-east-1 buckets may have capitals and underscores, so only what would break an evidence key
 * or an API path is refused.
 */
function bucketName(value: unknown, name: string): string {
  const bucket = nonEmptyString(value, name);
  if (bucket.length > 255 || /[/\s]/.test(bucket)) {
    throw new InvalidEventError(`${name} ${JSON.stringify(bucket)} is not a bucket name`);
  }
  return bucket;
}

function timestamp(value: unknown, name: string): Date {
  const text = nonEmptyString(value, name);
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw new InvalidEventError(`${name} ${JSON.stringify(text)} is not a time`);
  return date;
}

function isOneOf<T extends string>(value: unknown, names: readonly T[]): value is T {
  return typeof value === 'string' && (names as readonly string[]).includes(value);
}
