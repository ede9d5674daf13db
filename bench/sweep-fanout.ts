/**
 * The fanned-out sweep at 100,000 buckets (issue 15, part 3): an in-memory S3 answering every call after a
 * fixed 50 ms, an in-memory SQS queue and Config, and the handler consumed as Lambda's event source mapping
 * would, at most 20 invocations at once (its maximum concurrency), one message each, each "container"
 * (handler) reused across invocations. Real timers: the wall time is measured, not modelled.
 *
 * Reports the wall time, the longest invocation against the function's 5-minute timeout (target: none above
 * half), calls per bucket, peak RSS, and whether every bucket was judged exactly once; prints PASS or FAIL.
 * Run: `npx tsx bench/sweep-fanout.ts` (BENCH_FANOUT_BUCKETS, BENCH_FANOUT_LATENCY_MS,
 * BENCH_FANOUT_CONSUMERS to change the sizes).
 */
import { performance } from 'perf_hooks';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { createHandler, GuardHandler } from '../lib/remediation/handler';
import { GuardLogger, InvocationContext } from '../lib/remediation/run-context';
import { DEFAULT_SWEEP_TUNING } from '../lib/remediation/sweep/fan-out';

const BUCKETS = Number(process.env.BENCH_FANOUT_BUCKETS ?? 100_000);
const LATENCY_MS = Number(process.env.BENCH_FANOUT_LATENCY_MS ?? 50);
const CONSUMERS = Number(process.env.BENCH_FANOUT_CONSUMERS ?? 20);
/** Public buckets the sweep must close, one notice each. */
const DRIFTED = 10;
/** Buckets whose ACL read keeps failing: one digest for all of them. */
const UNVERIFIABLE = 5;
const TIMEOUT_MS = 5 * 60 * 1000;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const EVIDENCE_BUCKET = 'registry-guard-evidence';
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/registry-guard-sweep`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:registry-guard-sweep`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:registry-guard-on-call`;
const OWNER = { ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a' };
const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

type Input = Record<string, unknown> & { Bucket?: string; Key?: string };
type Command = { constructor: { name: string }; input: Input };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

const calls = new Map<string, number>();
function count(service: string, command: Command): void {
  const name = `${service}:${command.constructor.name.replace(/Command$/, '')}`;
  calls.set(name, (calls.get(name) ?? 0) + 1);
}

/** One bucket as the fake holds it: only what differs from a private bucket with Block Public Access on. */
interface Bucket {
  policy?: string;
  blockPublicAccess?: typeof ALL_ON;
}

const names: string[] = [];
const buckets = new Map<string, Bucket>();
for (let index = 0; index < BUCKETS; index += 1) {
  const name = `bucket-${String(index).padStart(6, '0')}`;
  names.push(name);
  buckets.set(name, { blockPublicAccess: ALL_ON });
}
// Spread through the listing, so they fall in different pages and batches.
const drifted = Array.from(
  { length: DRIFTED },
  (_, index) => names[Math.floor(((index + 0.5) * BUCKETS) / DRIFTED)],
);
for (const name of drifted) {
  buckets.set(name, {
    policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${name}/*` },
      ],
    }),
  });
}
const unverifiable = new Set(
  Array.from(
    { length: UNVERIFIABLE },
    (_, index) => names[Math.floor(((index + 0.3) * BUCKETS) / UNVERIFIABLE)],
  ),
);
names.push(EVIDENCE_BUCKET);
buckets.set(EVIDENCE_BUCKET, { blockPublicAccess: ALL_ON });
names.sort();
const objects = new Map<string, string>();

const s3 = {
  async send(command: Command): Promise<unknown> {
    count('s3', command);
    await sleep(LATENCY_MS);
    const input = command.input;
    const bucket = input.Bucket === undefined ? undefined : buckets.get(input.Bucket);
    switch (command.constructor.name) {
      case 'ListBucketsCommand': {
        const start = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
        const end = Math.min(names.length, start + Number(input.MaxBuckets ?? 10_000));
        return {
          Buckets: names.slice(start, end).map((Name) => ({ Name, BucketRegion: REGION })),
          ContinuationToken: end < names.length ? String(end) : undefined,
        };
      }
      case 'PutObjectCommand': {
        const key = `${input.Bucket}/${input.Key}`;
        if (input.IfNoneMatch === '*' && objects.has(key)) throw awsError('PreconditionFailed', 412);
        objects.set(key, String(input.Body));
        return { ETag: '"e"' };
      }
      case 'GetObjectCommand': {
        const body = objects.get(`${input.Bucket}/${input.Key}`);
        if (body === undefined) throw awsError('NoSuchKey', 404);
        return { Body: { transformToString: async () => body } };
      }
      case 'DeleteObjectCommand':
        objects.delete(`${input.Bucket}/${input.Key}`);
        return {};
      case 'ListObjectsV2Command': {
        const prefix = `${input.Bucket}/${String(input.Prefix ?? '')}`;
        const after = input.ContinuationToken === undefined ? '' : String(input.ContinuationToken);
        const keys = [...objects.keys()]
          .filter((key) => key.startsWith(prefix) && key > after)
          .sort()
          .slice(0, 1001);
        const page = keys.slice(0, 1000);
        return {
          Contents: page.map((key) => ({
            Key: key.slice(String(input.Bucket).length + 1),
            LastModified: new Date(),
          })),
          IsTruncated: keys.length > 1000,
          NextContinuationToken: keys.length > 1000 ? page[page.length - 1] : undefined,
        };
      }
    }
    if (bucket === undefined) throw awsError('NoSuchBucket', 404);
    switch (command.constructor.name) {
      case 'GetBucketTaggingCommand':
        throw awsError('NoSuchTagSet', 404);
      case 'GetBucketPolicyCommand':
        if (bucket.policy === undefined) throw awsError('NoSuchBucketPolicy', 404);
        return { Policy: bucket.policy };
      case 'GetBucketAclCommand':
        if (unverifiable.has(String(input.Bucket))) throw awsError('SlowDown', 503);
        return {
          Owner: OWNER,
          Grants: [{ Grantee: { Type: 'CanonicalUser', ID: OWNER.ID }, Permission: 'FULL_CONTROL' }],
        };
      case 'GetPublicAccessBlockCommand':
        if (bucket.blockPublicAccess === undefined)
          throw awsError('NoSuchPublicAccessBlockConfiguration', 404);
        return { PublicAccessBlockConfiguration: { ...bucket.blockPublicAccess } };
      case 'PutPublicAccessBlockCommand':
        bucket.blockPublicAccess = { ...(input.PublicAccessBlockConfiguration as typeof ALL_ON) };
        return {};
      case 'GetBucketOwnershipControlsCommand':
        return { OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] } };
      case 'PutBucketPolicyCommand':
        bucket.policy = String(input.Policy);
        return {};
      case 'DeleteBucketPolicyCommand':
        bucket.policy = undefined;
        return {};
    }
    throw new Error(`bench S3 does not answer ${command.constructor.name}`);
  },
};

const s3Control = {
  async send(command: Command): Promise<unknown> {
    count('s3control', command);
    await sleep(LATENCY_MS);
    // No account-level Block Public Access: a public bucket policy does open its bucket.
    throw awsError('NoSuchPublicAccessBlockConfiguration', 404);
  },
};

/** Evaluations per bucket: each must be 1 at the end. */
const evaluated = new Map<string, number>();
const config = {
  async send(command: Command): Promise<unknown> {
    count('config', command);
    await sleep(LATENCY_MS);
    for (const evaluation of (command.input.Evaluations ?? []) as { ComplianceResourceId: string }[]) {
      evaluated.set(
        evaluation.ComplianceResourceId,
        (evaluated.get(evaluation.ComplianceResourceId) ?? 0) + 1,
      );
    }
    return { FailedEvaluations: [] };
  },
};

const published: string[] = [];
const sns = {
  async send(command: Command): Promise<unknown> {
    count('sns', command);
    await sleep(LATENCY_MS);
    published.push(String(command.input.Subject));
    return { MessageId: `n${published.length}` };
  },
};

interface Queued {
  readonly messageId: string;
  readonly body: string;
  visibleAt: number;
  receives: number;
}
const queue: Queued[] = [];
let sequence = 0;
const kinds = new Map<string, number>();
const sqs = {
  async send(command: Command): Promise<unknown> {
    count('sqs', command);
    await sleep(LATENCY_MS);
    for (const entry of (command.input.Entries ?? []) as { MessageBody: string; DelaySeconds?: number }[]) {
      sequence += 1;
      queue.push({
        messageId: `m${sequence}`,
        body: entry.MessageBody,
        // Delays honoured in real time (the bench tunes the finish to wait 1 s, not 5 minutes).
        visibleAt: performance.now() + (entry.DelaySeconds ?? 0) * 1000,
        receives: 0,
      });
      const kind = (JSON.parse(entry.MessageBody) as { kind: string }).kind;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    return { Successful: [], Failed: [] };
  },
};

const errors: string[] = [];
const logger: GuardLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: (message) => {
    if (errors.length < 20) errors.push(message);
  },
};

function container(): GuardHandler {
  return createHandler({
    s3: s3 as unknown as S3Client,
    s3Control: s3Control as unknown as S3ControlClient,
    config: config as unknown as ConfigServiceClient,
    sns: sns as unknown as SNSClient,
    sts: {} as STSClient,
    sqs: sqs as unknown as SQSClient,
    logger,
    env: {
      AWS_REGION: REGION,
      EVIDENCE_BUCKET,
      NOTIFY_TOPIC_ARN: TOPIC_ARN,
      SWEEP_QUEUE_URL: QUEUE_URL,
    },
    sweepTuning: { finishDelaySeconds: 1 },
  });
}

function lambdaContext(startedAt: number): InvocationContext {
  return {
    getRemainingTimeInMillis: () => TIMEOUT_MS - (performance.now() - startedAt),
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:registry-guard`,
  };
}

async function main(): Promise<void> {
  console.log(
    `sweep-fanout: ${BUCKETS.toLocaleString('en')} buckets, ${LATENCY_MS} ms a call, ${CONSUMERS} consumers, batches of ${DEFAULT_SWEEP_TUNING.batchSize} (concurrency ${DEFAULT_SWEEP_TUNING.concurrency}), pages of ${DEFAULT_SWEEP_TUNING.pageSize}`,
  );
  const started = performance.now();
  const durations: { kind: string; ms: number }[] = [];
  let failedReceives = 0;
  let deadLetters = 0;

  const scheduled = {
    version: '1.0',
    invokingEvent: JSON.stringify({
      awsAccountId: ACCOUNT,
      notificationCreationTime: new Date().toISOString(),
      messageType: 'ScheduledNotification',
      recordVersion: '1.0',
    }),
    ruleParameters: '',
    resultToken: 'eyJlbmNyeXB0ZWREYXRhIjpbOTksMTAwXX0=',
    eventLeftScope: false,
    configRuleName: 'registry-guard-public-access',
    accountId: ACCOUNT,
  };
  const first = performance.now();
  await container()(scheduled, lambdaContext(first));
  durations.push({ kind: 'scheduled', ms: performance.now() - first });

  let busy = 0;
  const consumer = async (): Promise<void> => {
    const handler = container();
    for (;;) {
      const now = performance.now();
      const index = queue.findIndex((message) => message.visibleAt <= now);
      if (index < 0) {
        if (queue.length === 0 && busy === 0) return;
        await sleep(10);
        continue;
      }
      const [message] = queue.splice(index, 1);
      message.receives += 1;
      busy += 1;
      const invocationStart = performance.now();
      const result = await handler(
        {
          Records: [
            {
              messageId: message.messageId,
              body: message.body,
              attributes: { ApproximateReceiveCount: String(message.receives) },
              eventSource: 'aws:sqs',
              eventSourceARN: QUEUE_ARN,
              awsRegion: REGION,
            },
          ],
        },
        lambdaContext(invocationStart),
      );
      durations.push({
        kind: (JSON.parse(message.body) as { kind: string }).kind,
        ms: performance.now() - invocationStart,
      });
      busy -= 1;
      if ((result.batchItemFailures ?? []).length > 0) {
        failedReceives += 1;
        if (message.receives >= 3) deadLetters += 1;
        else queue.push({ ...message, visibleAt: performance.now() + 1000 });
      }
    }
  };
  await Promise.all(Array.from({ length: CONSUMERS }, () => consumer()));
  const wallMs = performance.now() - started;

  const totalCalls = [...calls.values()].reduce((sum, value) => sum + value, 0);
  const judgedOnce = names.every((name) => evaluated.get(name) === 1);
  const judgedTwice = names.filter((name) => (evaluated.get(name) ?? 0) > 1).length;
  const missing = names.filter((name) => evaluated.get(name) === undefined).length;
  const longest = durations.reduce((max, entry) => (entry.ms > max.ms ? entry : max), {
    kind: 'none',
    ms: 0,
  });
  const byKind = (kind: string): number[] =>
    durations.filter((entry) => entry.kind === kind).map((entry) => entry.ms);
  const median = (values: number[]): number =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const closed = drifted.filter(
    (name) => buckets.get(name)?.blockPublicAccess?.BlockPublicPolicy === true,
  ).length;
  const digests = published.filter((subject) => /COULD NOT VERIFY/.test(subject));
  const closedNotices = published.filter((subject) => /closed non-compliant/.test(subject));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  console.log('');
  console.log(`wall time (measured, real timers):     ${(wallMs / 1000).toFixed(1)} s`);
  console.log(
    `invocations:                           ${durations.length} (${[...kinds.entries()].map(([kind, n]) => `${n} ${kind}`).join(', ')} messages sent)`,
  );
  console.log(
    `longest invocation:                    ${(longest.ms / 1000).toFixed(2)} s (${longest.kind}) of a ${TIMEOUT_MS / 1000} s timeout = ${((100 * longest.ms) / TIMEOUT_MS).toFixed(2)}% (target < 50%)`,
  );
  console.log(
    `median batch / page / scheduled:       ${(median(byKind('batch')) / 1000).toFixed(2)} s / ${(median(byKind('page')) / 1000).toFixed(2)} s / ${(median(byKind('scheduled')) / 1000).toFixed(2)} s`,
  );
  console.log(
    `calls per bucket (all services):       ${(totalCalls / names.length).toFixed(2)} (${totalCalls.toLocaleString('en')} calls)`,
  );
  console.log(
    `  ${[...calls.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
  );
  console.log(`peak RSS:                              ${peakRssMb.toFixed(0)} MB`);
  console.log(
    `judged exactly once:                   ${judgedOnce ? 'yes' : 'NO'} (${evaluated.size.toLocaleString('en')} of ${names.length.toLocaleString('en')} evaluated; ${judgedTwice} twice, ${missing} never)`,
  );
  console.log(`failed receives / dead letters:        ${failedReceives} / ${deadLetters}`);
  console.log(
    `drifted closed:                        ${closed} of ${DRIFTED} (${closedNotices.length} notices)`,
  );
  console.log(`could-not-verify digests:              ${digests.length} (${digests.join('; ')})`);
  if (errors.length > 0)
    console.log(`errors logged (first ${errors.length}): ${[...new Set(errors)].join(' | ')}`);

  const pass =
    judgedOnce &&
    longest.ms < TIMEOUT_MS / 2 &&
    deadLetters === 0 &&
    closed === DRIFTED &&
    closedNotices.length === DRIFTED &&
    digests.length === 1;
  console.log(pass ? 'PASS' : 'FAIL');
  if (!pass) process.exitCode = 1;
}

void main();
