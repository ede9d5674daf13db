/**
 * The remediation Lambda's costs: size, cold require time (beside a bare `node -e 0`, against the 2x target)
 * and first-invocation time of the shipped handler bundle (dist/handler/index.js, built by `npm run build`;
 * see handler-cold-start.ts), AWS calls per compliant and per drifted bucket, and sweep throughput over 1,000
 * buckets against moto on loopback.
 * Run: `npm run bench`, or `npm run build && npx tsx bench/remediation.ts` (BENCH_RUNS, BENCH_SWEEP_BUCKETS to
 * change the sizes).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  ListObjectsV2Command,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { defaultDeps } from '../lib/remediation/clients';
import { mapWithConcurrency } from '../lib/remediation/concurrency';
import { createHandler } from '../lib/remediation/handler';
import { FakeAccount } from '../test/remediation/support';
import { COLD_REQUIRE_TARGET, handlerRows } from './handler-cold-start';
import { motoAvailable, MotoServer, startMotoServer, useLoopbackHost } from '../test/support/moto-server';

const REPO = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SWEEP_BUCKETS = Number(process.env.BENCH_SWEEP_BUCKETS ?? 1_000);
const ACCOUNT = '123456789012';
const EVIDENCE_BUCKET = 'registry-guard-evidence';
const REGISTRY_TAG = { Key: 'registry-guard:classification', Value: 'sensitive-registry' };

/** An initialize-step middleware that reports each command before sending it on. */
function countingMiddleware<Args, Output>(record: (commandName: string) => void) {
  return (next: (args: Args) => Promise<Output>, context: { commandName?: string }) =>
    async (args: Args): Promise<Output> => {
      record((context.commandName ?? 'unknown').replace(/Command$/, ''));
      return next(args);
    };
}

const COUNTER = { step: 'initialize', name: 'benchCallCounter' } as const;

/** Calls per client, counted by a middleware on each real client and aws-sdk-client-mock for Config. */
class CallCounter {
  private counts = new Map<string, number>();
  readonly operations: string[] = [];

  record(name: string, operation: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    this.operations.push(`${name}:${operation}`);
  }

  add(name: string, count: number): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + count);
  }

  reset(): void {
    this.counts = new Map();
    this.operations.length = 0;
  }

  total(): number {
    return [...this.counts.values()].reduce((sum, count) => sum + count, 0);
  }

  describe(): string {
    return [...this.counts.entries()].map(([name, count]) => `${name} ${count}`).join(', ');
  }
}

function configChangeEvent(bucket: string): Record<string, unknown> {
  const event = JSON.parse(
    fs.readFileSync(path.join(REPO, 'test/fixtures/remediation/config-item-change.json'), 'utf8'),
  ) as Record<string, unknown>;
  const invoking = JSON.parse(event.invokingEvent as string) as {
    configurationItem: Record<string, unknown>;
  };
  invoking.configurationItem.resourceId = bucket;
  invoking.configurationItem.resourceName = bucket;
  event.invokingEvent = JSON.stringify(invoking);
  return event;
}

function scheduledEvent(): Record<string, unknown> {
  return JSON.parse(
    fs.readFileSync(path.join(REPO, 'test/fixtures/remediation/config-scheduled.json'), 'utf8'),
  );
}

async function openRegistryBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'BucketOwnerPreferred' }));
  await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [REGISTRY_TAG] } }));
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Public',
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
          {
            Sid: 'Auditors',
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/Auditors` },
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
        ],
      }),
    }),
  );
  await s3.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' }));
}

async function againstMoto(moto: MotoServer): Promise<string[]> {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ENDPOINT_URL_S3_CONTROL: `http://localhost:${moto.port}`,
  });
  const rows: string[] = [];
  const counter = new CallCounter();
  const deps = defaultDeps();
  useLoopbackHost(deps.s3Control);
  deps.s3.middlewareStack.add(
    countingMiddleware((operation) => counter.record('S3', operation)),
    COUNTER,
  );
  deps.s3Control.middlewareStack.add(
    countingMiddleware((operation) => counter.record('S3 Control', operation)),
    COUNTER,
  );
  deps.sns.middlewareStack.add(
    countingMiddleware((operation) => counter.record('SNS', operation)),
    COUNTER,
  );
  deps.sts.middlewareStack.add(
    countingMiddleware((operation) => counter.record('STS', operation)),
    COUNTER,
  );
  const config = new ConfigServiceClient({});
  const configMock = mockClient(config);
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  const setup = new S3Client({});
  await setup.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
  const topicArn = (await deps.sns.send(new CreateTopicCommand({ Name: 'on-call' }))).TopicArn ?? '';
  const env = { AWS_REGION: 'us-east-1', EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: topicArn };
  const handler = createHandler({ ...deps, config, logger: undefined, env });

  const countCalls = async (event: Record<string, unknown>): Promise<string> => {
    counter.reset();
    configMock.resetHistory();
    await handler(event);
    counter.add('Config', configMock.calls().length);
    return `${counter.total()} (${counter.describe()})`;
  };

  await setup.send(new CreateBucketCommand({ Bucket: 'compliant-bucket' }));
  rows.push(
    `| API calls: compliant bucket, change notification | ${await countCalls(configChangeEvent('compliant-bucket'))} |`,
  );
  await openRegistryBucket(setup, 'drifted-registry');
  rows.push(
    `| API calls: drifted registry bucket, change notification | ${await countCalls(configChangeEvent('drifted-registry'))} |`,
  );
  const driftedOperations = counter.operations.join(' ');
  rows.push(
    `| API calls: the same bucket once closed | ${await countCalls(configChangeEvent('drifted-registry'))} |`,
  );

  // One drift, twenty near-simultaneous events (a Config change and CloudTrail events): one incident.
  await openRegistryBucket(setup, 'stormy-registry');
  counter.reset();
  configMock.resetHistory();
  const stormStart = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 20 }, () =>
      createHandler({ ...deps, config, logger: undefined, env })(configChangeEvent('stormy-registry')),
    ),
  );
  const stormMs = Number(process.hrtime.bigint() - stormStart) / 1e6;
  const stormEvidence = await setup.send(
    new ListObjectsV2Command({ Bucket: EVIDENCE_BUCKET, Prefix: 'stormy-registry/', Delimiter: '/' }),
  );
  const published = counter.operations.filter((operation) => operation === 'SNS:Publish').length;
  rows.push(
    `| 20 simultaneous events for one drifted registry bucket | ${published} notice, ${stormEvidence.Contents?.length ?? 0} evidence object, ` +
      `${counter.total()} calls in all (${(counter.total() / 20).toFixed(1)} per event), ${stormMs.toFixed(0)} ms |`,
  );

  await moto.reset();
  await setup.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
  await deps.sns.send(new CreateTopicCommand({ Name: 'on-call' }));
  const drifted = Math.max(1, Math.round(SWEEP_BUCKETS / 100));
  const names = Array.from(
    { length: SWEEP_BUCKETS - 1 },
    (_unused, index) => `bucket-${index.toString().padStart(5, '0')}`,
  );
  await mapWithConcurrency(names, 16, async (bucket, index) => {
    if (index < drifted) await openRegistryBucket(setup, bucket);
    else await setup.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  for (const [label, concurrency] of [
    [`first sweep (${drifted} drifted registry buckets)`, 8],
    ['second sweep (all compliant)', 8],
    ['all compliant, concurrency 1', 1],
    ['all compliant, concurrency 16', 16],
  ] as const) {
    const sweep = createHandler({ ...deps, config, logger: undefined, env, concurrency });
    counter.reset();
    const start = process.hrtime.bigint();
    const result = await sweep(scheduledEvent());
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rows.push(
      `| sweep of ${result.buckets.length.toLocaleString('en')} buckets against moto: ${label} | ` +
        `${(result.buckets.length / seconds).toFixed(0)} buckets/s (${seconds.toFixed(1)} s, ${counter.total()} calls) |`,
    );
  }
  rows.push(`| operations for the drifted registry bucket | ${driftedOperations} |`);
  return rows;
}

/** The same sweep with S3 in memory (aws-sdk-client-mock): what the guard itself costs, without moto. */
async function inMemorySweep(): Promise<string> {
  const account = new FakeAccount();
  for (let index = 0; index < SWEEP_BUCKETS - 1; index += 1) {
    account.addBucket(`bucket-${index.toString().padStart(5, '0')}`, {});
  }
  const sweep = account.handler();
  const start = process.hrtime.bigint();
  const result = await sweep(scheduledEvent());
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (
    `| sweep of ${result.buckets.length.toLocaleString('en')} buckets, S3 in memory (the guard’s own cost) | ` +
    `${(result.buckets.length / seconds).toFixed(0)} buckets/s (${(seconds * 1000).toFixed(0)} ms) |`
  );
}

async function main(): Promise<void> {
  console.log(
    `registry-guard remediation Lambda (node ${process.version}, ${os.cpus().length} cores, ` +
      `load average ${os.loadavg()[0].toFixed(1)}, medians of ${RUNS} fresh processes; ` +
      `target: cold require at most ${COLD_REQUIRE_TARGET}x bare node)`,
  );
  console.log('');
  console.log('| measure | value |');
  console.log('| --- | --- |');
  for (const row of await handlerRows(RUNS)) console.log(row);
  console.log(await inMemorySweep());
  if (!motoAvailable()) {
    console.log('| moto | not installed: API calls and sweep throughput skipped |');
    return;
  }
  const moto = await startMotoServer();
  try {
    for (const row of await againstMoto(moto)) console.log(row);
  } finally {
    await moto.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
