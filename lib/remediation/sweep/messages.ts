/**
 * The messages a sweep hands itself through its SQS queue, and their strict parsing. A body that is not
 * exactly one of these is refused before anything is read or changed: the queue is a way in for whoever may
 * send to it, so nothing in a body is trusted beyond its shape (see sweep-authority.ts for what is checked
 * against the guard's own records).
 */
import { InvalidEventError } from '../errors';

/** The `schema` field of every sweep message; a new incompatible shape gets a new version. */
export const SWEEP_MESSAGE_SCHEMA = 'registry-guard/sweep-message/v1';

/**
 * Most buckets one batch message may name. The consumer refuses more, so a forged message cannot make one
 * invocation judge thousands of buckets and run into its timeout.
 */
export const MAX_BUCKETS_PER_BATCH_MESSAGE = 100;

/** Pages a sweep may list before it is taken for a listing that does not end (1,000 buckets a page). */
export const MAX_SWEEP_PAGES = 10_000;

/** What every message of one sweep carries: which sweep, and what Config needs with its evaluations. */
export interface SweepIdentity {
  /** `<notification time>-<8 hex>`: sortable, and the same for a Config event delivered twice. */
  readonly sweepId: string;
  /** The ScheduledNotification's result token, for PutEvaluations. */
  readonly resultToken: string;
  /** The notification's creation time: every evaluation of the sweep is ordered by it. */
  readonly orderingTimestamp: Date;
  /** The Region swept (AWS_REGION of the function that started it); undefined means every Region. */
  readonly region?: string;
  readonly configRuleName?: string;
}

/** List one page of buckets and hand them out as batches; then the next page, or the finish. */
export interface PageMessage extends SweepIdentity {
  readonly kind: 'page';
  /** 0 for the first page. */
  readonly pageIndex: number;
  /** ListBuckets' continuation token for this page; undefined for the first. */
  readonly continuationToken?: string;
  /** Batches the pages before this one handed out: the last page adds its own to tell the total. */
  readonly batchesBefore: number;
}

/** Judge these buckets and send their evaluations. */
export interface BatchMessage extends SweepIdentity {
  readonly kind: 'batch';
  /** `p<page>-b<batch>`: the same for a batch sent twice, so its completion record is one object. */
  readonly batchId: string;
  readonly buckets: readonly string[];
}

/** Wait for every batch, then send the sweep's one could-not-verify digest. */
export interface FinishMessage extends SweepIdentity {
  readonly kind: 'finish';
  /** How many times the finish has looked already. */
  readonly checks: number;
  /** Checks in a row that found no batch newly done. */
  readonly stalledChecks: number;
  /** Batches found done at the last check. */
  readonly doneAtLastCheck: number;
}

/** Every message a sweep queue carries. */
/** Which access points an {@link AccessPointPageMessage} lists. */
export type AccessPointScope = 'regional' | 'multi-region';

/**
 * One page of the account's access points (`regional`: ListAccessPoints in the guard's Region) or
 * Multi-Region Access Points (`multi-region`: ListMultiRegionAccessPoints, from the guard in us-west-2
 * only, where S3 routes their control calls), judged in the same invocation, then the next page queued.
 */
export interface AccessPointPageMessage extends SweepIdentity {
  readonly kind: 'access-points';
  readonly scope: AccessPointScope;
  /** 0 for the first page. */
  readonly pageIndex: number;
  /** The listing's NextToken for this page; undefined for the first. */
  readonly nextToken?: string;
}

export type SweepMessage = PageMessage | BatchMessage | FinishMessage | AccessPointPageMessage;

/**
 * The sweep id for a notification: its time, then a hash of the rule, account, Region and token, so two
 * deliveries of one ScheduledNotification make one sweep and two rules never share one.
 *
 * @example
 * sweepIdOf(new Date('2026-11-25T03:00:00Z'), 'a1b2c3d4'); // '20261125T030000Z-a1b2c3d4'
 */
export function sweepIdOf(orderingTimestamp: Date, hash: string): string {
  const time = orderingTimestamp
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return `${time}-${hash.slice(0, 8)}`;
}

const SWEEP_ID = /^\d{8}T\d{6}Z-[0-9a-f]{8}$/;
const BATCH_ID = /^p\d{1,6}-b\d{1,6}$/;

/**
 * The message's body: JSON with the schema first, dates as ISO text.
 *
 * @example
 * encodeSweepMessage({ kind: 'batch', sweepId, resultToken, orderingTimestamp, batchId: 'p0-b0', buckets: ['roll'] });
 */
export function encodeSweepMessage(message: SweepMessage): string {
  const { orderingTimestamp, ...rest } = message;
  return JSON.stringify({
    schema: SWEEP_MESSAGE_SCHEMA,
    ...rest,
    orderingTimestamp: orderingTimestamp.toISOString(),
  });
}

/**
 * Parses one message body, strictly: the schema, the kind, every field typed, no field it does not know.
 *
 * @throws InvalidEventError naming the first problem; nothing has been read or changed.
 * @example
 * const message = parseSweepMessage(record.body);
 * if (message.kind === 'batch') console.log(message.buckets.length);
 */
export function parseSweepMessage(body: string): SweepMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw sweepMessageError(`the body is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw sweepMessageError('the body is not a JSON object');
  }
  const fields = parsed as Record<string, unknown>;
  if (fields.schema !== SWEEP_MESSAGE_SCHEMA) {
    throw sweepMessageError(
      `schema ${JSON.stringify(fields.schema)} is not ${SWEEP_MESSAGE_SCHEMA}: a message from another version or sender`,
    );
  }
  const identity = parseIdentity(fields);
  switch (fields.kind) {
    case 'page':
      onlyFields(fields, ['pageIndex', 'continuationToken', 'batchesBefore']);
      return {
        ...identity,
        kind: 'page',
        pageIndex: wholeNumber(fields.pageIndex, 'pageIndex', MAX_SWEEP_PAGES),
        continuationToken: optionalText(fields.continuationToken, 'continuationToken', 2048),
        batchesBefore: wholeNumber(fields.batchesBefore, 'batchesBefore', 10_000_000),
      };
    case 'batch': {
      onlyFields(fields, ['batchId', 'buckets']);
      const batchId = fields.batchId;
      if (typeof batchId !== 'string' || !BATCH_ID.test(batchId)) {
        throw sweepMessageError(`batchId ${JSON.stringify(batchId)} is not p<page>-b<batch>`);
      }
      return { ...identity, kind: 'batch', batchId, buckets: bucketNames(fields.buckets) };
    }
    case 'finish':
      onlyFields(fields, ['checks', 'stalledChecks', 'doneAtLastCheck']);
      return {
        ...identity,
        kind: 'finish',
        checks: wholeNumber(fields.checks, 'checks', 100_000),
        stalledChecks: wholeNumber(fields.stalledChecks, 'stalledChecks', 100_000),
        doneAtLastCheck: wholeNumber(fields.doneAtLastCheck, 'doneAtLastCheck', 10_000_000),
      };
    case 'access-points': {
      onlyFields(fields, ['scope', 'pageIndex', 'nextToken']);
      const scope = fields.scope;
      if (scope !== 'regional' && scope !== 'multi-region') {
        throw sweepMessageError(`scope ${JSON.stringify(scope)} is not regional or multi-region`);
      }
      return {
        ...identity,
        kind: 'access-points',
        scope,
        pageIndex: wholeNumber(fields.pageIndex, 'pageIndex', MAX_SWEEP_PAGES),
        nextToken: optionalText(fields.nextToken, 'nextToken', 2048),
      };
    }
    default:
      throw sweepMessageError(
        `kind ${JSON.stringify(fields.kind)} is not page, batch, finish or access-points`,
      );
  }
}

/** Fields every kind has. */
const IDENTITY_FIELDS = [
  'schema',
  'kind',
  'sweepId',
  'resultToken',
  'orderingTimestamp',
  'region',
  'configRuleName',
];

function parseIdentity(fields: Record<string, unknown>): SweepIdentity {
  const sweepId = fields.sweepId;
  if (typeof sweepId !== 'string' || !SWEEP_ID.test(sweepId)) {
    throw sweepMessageError(`sweepId ${JSON.stringify(sweepId)} is not <yyyymmddThhmmssZ>-<8 hex>`);
  }
  const resultToken = optionalText(fields.resultToken, 'resultToken', 16_384);
  if (resultToken === undefined) throw sweepMessageError('resultToken is missing');
  const time = optionalText(fields.orderingTimestamp, 'orderingTimestamp', 64);
  const orderingTimestamp = new Date(time ?? '');
  if (time === undefined || Number.isNaN(orderingTimestamp.getTime())) {
    throw sweepMessageError(`orderingTimestamp ${JSON.stringify(fields.orderingTimestamp)} is not a time`);
  }
  const region = optionalText(fields.region, 'region', 32);
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw sweepMessageError(`region ${JSON.stringify(region)} is not a Region name`);
  }
  return {
    sweepId,
    resultToken,
    orderingTimestamp,
    region,
    configRuleName: optionalText(fields.configRuleName, 'configRuleName', 128),
  };
}

function onlyFields(fields: Record<string, unknown>, kindFields: readonly string[]): void {
  const unknown = Object.keys(fields).filter(
    (key) => !IDENTITY_FIELDS.includes(key) && !kindFields.includes(key),
  );
  if (unknown.length > 0) throw sweepMessageError(`unexpected field ${unknown.join(', ')}`);
}

function bucketNames(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw sweepMessageError('buckets is not a non-empty list');
  if (value.length > MAX_BUCKETS_PER_BATCH_MESSAGE) {
    throw sweepMessageError(
      `buckets names ${value.length} buckets, more than the ${MAX_BUCKETS_PER_BATCH_MESSAGE} a batch may hold`,
    );
  }
  return value.map((bucket, index) => {
    // As the Config and CloudTrail parsers: refuse only what would break an evidence key or an API path.
    if (typeof bucket !== 'string' || bucket.trim() === '' || bucket.length > 255 || /[/\s]/.test(bucket)) {
      throw sweepMessageError(`buckets[${index}] ${JSON.stringify(bucket)} is not a bucket name`);
    }
    return bucket;
  });
}

function optionalText(value: unknown, name: string, maxLength: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > maxLength) {
    throw sweepMessageError(`${name} is not a non-empty string of at most ${maxLength} characters`);
  }
  return value;
}

function wholeNumber(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw sweepMessageError(`${name} ${JSON.stringify(value)} is not a whole number from 0 to ${max}`);
  }
  return value;
}

function sweepMessageError(problem: string): InvalidEventError {
  return new InvalidEventError(
    `sweep message: ${problem}`,
    'Only registry-guard sends to its sweep queue: find who else may (sqs:SendMessage) and remove that permission; the message ends in the sweep dead-letter queue.',
  );
}
