/**
 * A sweep under throttling: 300 buckets in moto, behind the fault proxy, with 0%, 5% and 30% of S3 reads
 * (every GET and HEAD: ListBuckets, each bucket's settings, the guard's own records) answered
 * `503 SlowDown`, drawn from a fixed seed. The clients are the production ones' shape with the guard's retry
 * strategy (lib/remediation/retry-strategy.ts); only Config's PutEvaluations is mocked.
 *
 * Reports wall time, its ratio to the unthrottled sweep, buckets left unverifiable, pages (notices SNS took),
 * S3 attempts and throttled answers; checks issue 15's targets: 5% at most 3x the unthrottled time with
 * nothing unverifiable; 30% finishes with one digest at most.
 *
 * Run: `npx tsx bench/sweep-throttling.ts`. BENCH_THROTTLE_BUCKETS (300), BENCH_THROTTLE_RUNS (3, the median is
 * reported), BENCH_THROTTLE_BASELINE=1 adds the SDK's `adaptive` mode with 5 attempts (the clients before
 * issue 15) at 5%: minutes, not seconds.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import {
  CreateBucketCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, GuardDependencies, GuardResult } from '../lib/remediation/handler';
import {
  GUARD_RETRY_DEFAULTS,
  GuardRetryOptions,
  GuardRetryStrategy,
  guardRetrySettings,
} from '../lib/remediation/retry-strategy';
import { FaultProxy, s3ErrorBody, s3Read, seededRandom } from '../test/support/fault-proxy';
import { pagedListBuckets } from '../test/support/list-buckets-paging';
import { motoAvailable, MotoServer, startMotoServer, useLoopbackHost } from '../test/support/moto-server';

const REPO = path.resolve(__dirname, '..');
const BUCKETS = Number(process.env.BENCH_THROTTLE_BUCKETS ?? 300);
const RUNS = Number(process.env.BENCH_THROTTLE_RUNS ?? 3);
const BASELINE = process.env.BENCH_THROTTLE_BASELINE === '1';
const SHARES = [0, 0.05, 0.3] as const;
/** To try other backoff settings than the production ones (reported in the heading). */
const RETRY_OVERRIDES: GuardRetryOptions = {
  ...numberFromEnv('BENCH_THROTTLE_BASE_MS', 'throttlingBaseDelayMs'),
  ...numberFromEnv('BENCH_THROTTLE_CAP_MS', 'maxDelayMs'),
  ...numberFromEnv('BENCH_THROTTLE_TOTAL_MS', 'maxTotalDelayMs'),
  ...numberFromEnv('BENCH_THROTTLE_ATTEMPTS', 'throttlingAttempts'),
};
const RETRY = { ...GUARD_RETRY_DEFAULTS, ...RETRY_OVERRIDES };
const EVIDENCE_BUCKET = 'registry-guard-evidence';
const REGISTRY_TAG = { Key: 'registry-guard:classification', Value: 'sensitive-registry' };
const ALL_ON = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

/** One sweep's figures. */
interface SweepRun {
  readonly ms: number;
  readonly unverifiable: number;
  readonly pages: number;
  readonly digested: number;
  /** Requests S3 received from the guard (attempts, throttled ones included). */
  readonly s3Attempts: number;
  readonly throttled: number;
  /** Reads that gave up on their own retries (the guard's strategy only). */
  readonly exhausted?: number;
  readonly failed?: string;
  /** Why each unverifiable bucket could not be verified. */
  readonly reasons: string[];
}

type ClientKind = 'guard' | 'adaptive';

function scheduledEvent(): Record<string, unknown> {
  return JSON.parse(
    fs.readFileSync(path.join(REPO, 'test/fixtures/remediation/config-scheduled.json'), 'utf8'),
  ) as Record<string, unknown>;
}

function numberFromEnv(name: string, option: keyof GuardRetryOptions): GuardRetryOptions {
  const value = process.env[name];
  return value === undefined || value === '' ? {} : { [option]: Number(value) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The production clients' shape, pointed at the proxy by AWS_ENDPOINT_URL. */
function clients(kind: ClientKind): { deps: GuardDependencies; s3Retries?: GuardRetryStrategy } {
  const settings = (service: Parameters<typeof guardRetrySettings>[0]) =>
    kind === 'guard'
      ? guardRetrySettings(service, RETRY_OVERRIDES)
      : ({ retryMode: 'adaptive', maxAttempts: 5 } as const);
  const s3Settings = settings('s3');
  const s3Control = new S3ControlClient(settings('s3-control'));
  useLoopbackHost(s3Control);
  const config = new ConfigServiceClient(settings('config'));
  mockClient(config).on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  return {
    deps: {
      s3: new S3Client({ ...s3Settings, followRegionRedirects: true }),
      s3Control,
      config,
      sns: new SNSClient(settings('sns')),
      sts: new STSClient(settings('sts')),
    },
    s3Retries: 'retryStrategy' in s3Settings ? s3Settings.retryStrategy : undefined,
  };
}

async function createBuckets(s3: S3Client): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: EVIDENCE_BUCKET }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: EVIDENCE_BUCKET,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  // One in ten a registry (closed, as it should be): its ledger record is one more read per sweep.
  for (let index = 1; index < BUCKETS; index += 1) {
    const bucket = `bucket-${String(index).padStart(4, '0')}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (index % 10 === 0) {
      await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [REGISTRY_TAG] } }));
      await s3.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: ALL_ON }),
      );
    }
  }
}

function isS3Request(request: { method: string; url: string }): boolean {
  return request.method !== 'POST' && !request.url.startsWith('/v20180820/');
}

async function sweep(
  proxy: FaultProxy,
  moto: MotoServer,
  topicArn: string,
  share: number,
  seed: number,
  kind: ClientKind,
): Promise<SweepRun> {
  proxy.clear();
  const throttle = proxy.add({
    matches: s3Read(),
    probability: share,
    random: seededRandom(seed),
    answer: { status: 503, body: s3ErrorBody('SlowDown', 'Please reduce your request rate.') },
  });
  proxy.add(pagedListBuckets(moto.port).rule);
  const { deps, s3Retries } = clients(kind);
  const handler = createHandler({
    ...deps,
    env: { AWS_REGION: 'us-east-1', EVIDENCE_BUCKET, NOTIFY_TOPIC_ARN: topicArn },
  });
  const start = process.hrtime.bigint();
  let result: GuardResult | undefined;
  let failed: string | undefined;
  try {
    result = await handler(scheduledEvent());
  } catch (error) {
    failed = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : String(error);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return {
    ms,
    unverifiable:
      result?.buckets.filter((outcome) => outcome.unverifiable !== undefined).length ?? Number.NaN,
    pages: result?.noticesSent ?? Number.NaN,
    digested: result?.digested ?? 0,
    s3Attempts: proxy.seen.filter(isS3Request).length,
    throttled: throttle.applied ?? 0,
    exhausted: s3Retries?.stats().exhausted,
    failed,
    reasons: (result?.buckets ?? []).flatMap((outcome) =>
      outcome.unverifiable === undefined ? [] : [`${outcome.bucket}: ${outcome.unverifiable}`],
    ),
  };
}

async function main(): Promise<void> {
  if (!motoAvailable()) {
    console.log('sweep-throttling: moto is not installed; skipped');
    return;
  }
  const moto = await startMotoServer();
  const proxy = await new FaultProxy(moto.port).start();
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.endpoint,
    AWS_ENDPOINT_URL_S3_CONTROL: `http://localhost:${proxy.port}`,
  });
  let allPass = true;
  try {
    const owner = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
    await createBuckets(owner);
    const topicArn =
      (await new SNSClient({ endpoint: moto.endpoint }).send(new CreateTopicCommand({ Name: 'on-call' })))
        .TopicArn ?? '';
    const { throttlingBaseDelayMs, maxDelayMs, throttlingAttempts, maxTotalDelayMs } = RETRY;
    console.log(
      `Sweep of ${BUCKETS} buckets against moto through the fault proxy, S3 reads answered SlowDown at random ` +
        `(median of ${RUNS} runs, node ${process.version}, ${os.cpus().length} cores). Retry strategy: up to ` +
        `${throttlingAttempts} attempts when throttled, full-jitter backoff from ${throttlingBaseDelayMs} ms capped at ` +
        `${maxDelayMs / 1000} s, at most ${maxTotalDelayMs / 1000} s of waiting per request; sweep concurrency 8.`,
    );

    console.log(
      '| clients | SlowDown share | wall time (median) | vs. unthrottled | unverifiable (worst run) | pages (worst run) | S3 attempts | throttled answers | reads out of retries (all runs) |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    // Runs interleaved (0%, 5%, 30%, 0%, ...), so a machine busy with something else slows every share alike.
    // Each round starts with an unmeasured sweep: here, the sweep that follows a heavily throttled one (or
    // none, at the start) runs a quarter to a half slower, whatever its own share.
    const runsByShare = new Map<number, SweepRun[]>(SHARES.map((share) => [share, []]));
    for (let run = 0; run < RUNS; run += 1) {
      await sweep(proxy, moto, topicArn, 0, 1, 'guard');
      for (const share of SHARES) {
        runsByShare.get(share)?.push(await sweep(proxy, moto, topicArn, share, 1_000 + run, 'guard'));
      }
    }
    const summaries = new Map<number, ShareSummary>();
    for (const share of SHARES) summaries.set(share, summarise(runsByShare.get(share) ?? []));
    const baseMs = summaries.get(0)?.ms ?? Number.NaN;
    for (const share of SHARES) {
      const summary = summaries.get(share);
      if (summary !== undefined) console.log(row('guard strategy', share, summary, baseMs));
    }
    if (BASELINE) {
      const adaptive = summarise([await sweep(proxy, moto, topicArn, 0.05, 1_000, 'adaptive')]);
      console.log(row('SDK adaptive, 5 attempts', 0.05, adaptive, baseMs));
    }
    for (const [share, summary] of summaries) {
      for (const reason of summary.reasons)
        console.log(`  unverifiable at ${Math.round(share * 100)}%: ${reason}`);
      if (summary.failed !== undefined)
        console.log(`  failed at ${Math.round(share * 100)}%: ${summary.failed}`);
    }

    const unthrottled = summaries.get(0);
    const light = summaries.get(0.05);
    const heavy = summaries.get(0.3);
    const checks: [string, boolean][] = [
      [
        'unthrottled sweep: nothing unverifiable, no page',
        unthrottled !== undefined && unthrottled.unverifiable === 0 && unthrottled.pages === 0,
      ],
      [
        `5% SlowDown: at most 3x the unthrottled time (${ratio(light?.ms, unthrottled?.ms)}) with nothing unverifiable`,
        light !== undefined &&
          unthrottled !== undefined &&
          light.ms <= 3 * unthrottled.ms &&
          light.unverifiable === 0 &&
          light.failed === undefined,
      ],
      [
        `30% SlowDown: every run finishes with one digest at most (at most ${heavy?.pages ?? '?'} pages, ${heavy?.unverifiable ?? '?'} unverifiable)`,
        heavy !== undefined && heavy.failed === undefined && heavy.oneDigestAtMost,
      ],
    ];
    for (const [what, pass] of checks) {
      console.log(`${pass ? 'PASS' : 'FAIL'} ${what}`);
      allPass &&= pass;
    }
  } finally {
    await proxy.close();
    await moto.stop();
  }
  if (!allPass) process.exitCode = 1;
}

/** A share's runs: the median for time, the worst for what must never happen. */
interface ShareSummary {
  readonly ms: number;
  readonly unverifiable: number;
  readonly pages: number;
  readonly s3Attempts: number;
  readonly throttled: number;
  readonly exhausted?: number;
  readonly failed?: string;
  /** Every run paged at most once, and that page was the digest of every unverifiable bucket. */
  readonly oneDigestAtMost: boolean;
  readonly reasons: string[];
}

function summarise(runs: readonly SweepRun[]): ShareSummary {
  const ms = median(runs.map((run) => run.ms));
  const middle = runs.find((run) => run.ms === ms) ?? runs[0];
  return {
    ms,
    unverifiable: Math.max(...runs.map((run) => run.unverifiable)),
    pages: Math.max(...runs.map((run) => run.pages)),
    s3Attempts: middle.s3Attempts,
    throttled: middle.throttled,
    exhausted: runs.every((run) => run.exhausted === undefined)
      ? undefined
      : runs.reduce((sum, run) => sum + (run.exhausted ?? 0), 0),
    failed: runs.find((run) => run.failed !== undefined)?.failed,
    oneDigestAtMost: runs.every((run) => run.pages <= 1 && run.digested === run.unverifiable),
    reasons: runs.flatMap((run) => run.reasons),
  };
}

function row(clients: string, share: number, run: ShareSummary, baseMs: number): string {
  const outcome = run.failed === undefined ? '' : ` (failed: ${run.failed})`;
  return (
    `| ${clients} | ${Math.round(share * 100)}% | ${(run.ms / 1000).toFixed(1)} s${outcome} | ${ratio(run.ms, baseMs)} | ` +
    `${run.unverifiable} | ${run.pages} | ${run.s3Attempts} | ${run.throttled} | ${run.exhausted ?? 'n/a'} |`
  );
}

function ratio(ms: number | undefined, baseMs: number | undefined): string {
  return ms === undefined || baseMs === undefined || baseMs === 0 ? '?' : `x${(ms / baseMs).toFixed(2)}`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
