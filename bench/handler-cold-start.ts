/**
 * What a cold start of the shipped handler (dist/handler/index.js) costs, measured in fresh processes on a
 * copy of the file in a directory with no node_modules above it, as Lambda loads it:
 * - the cold `require` beside a bare `node -e 0` (both whole processes, start to exit), against the target
 *   of issue 14: at most twice bare node;
 * - the first invocation after that require, for a Config change notification and for a CloudTrail API-call
 *   event. The handler is the real one with its real SDK clients, so AWS is a local stub on loopback that
 *   answers at once: the bucket no longer exists (NoSuchBucket), the account's Block Public Access is on,
 *   evaluations are accepted. Every module an event needs is loaded and every client it needs is built; the
 *   time is loading and building, not AWS.
 *
 * Run alone: `npm run build && npx tsx bench/handler-cold-start.ts` (BENCH_RUNS to change the runs).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

const REPO = path.resolve(__dirname, '..');
const ACCOUNT = '123456789012';
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:registry-guard`;

/** The issue's budget for the cold require: this many times a bare `node -e 0`. */
export const COLD_REQUIRE_TARGET = 2;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** The shipped handler, copied where no node_modules can help it load. */
export function shippedBundle(outDir: string): { file: string; bytes: number; gzipBytes: number } {
  const shipped = path.join(REPO, 'dist/handler/index.js');
  if (!fs.existsSync(shipped)) throw new Error(`bench: ${shipped} is missing; run npm run build first`);
  const file = path.join(outDir, 'index.js');
  fs.copyFileSync(shipped, file);
  const contents = fs.readFileSync(file);
  return { file, bytes: contents.length, gzipBytes: zlib.gzipSync(contents).length };
}

function timeNode(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`bench: node ${args.join(' ')} failed: ${result.stderr}`);
  return elapsed;
}

export interface ColdRequire {
  readonly bareMs: number;
  readonly requireMs: number;
  readonly ratio: number;
}

/** Medians of `runs` fresh processes, bare node and the require taking turns so load on the machine hits both. */
export function coldRequire(file: string, runs: number): ColdRequire {
  const bare: number[] = [];
  const required: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    bare.push(timeNode(['-e', '0']));
    required.push(timeNode(['-e', `require(${JSON.stringify(file)})`]));
  }
  return { bareMs: median(bare), requireMs: median(required), ratio: median(required) / median(bare) };
}

/** AWS as the handler meets it here: one Region, one account, and the event's bucket gone. */
function startStubAws(): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const reply = (status: number, contentType: string, body: string): void => {
        response.writeHead(status, { 'content-type': contentType, connection: 'close' });
        response.end(body);
      };
      const target = String(request.headers['x-amz-target'] ?? '');
      if (target.endsWith('.PutEvaluations')) {
        reply(200, 'application/x-amz-json-1.1', '{"FailedEvaluations":[]}');
      } else if (request.url?.startsWith('/v20180820/configuration/publicAccessBlock')) {
        reply(
          200,
          'application/xml',
          '<GetPublicAccessBlockOutput><PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>' +
            '<IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy>' +
            '<RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>' +
            '</GetPublicAccessBlockOutput>',
        );
      } else {
        reply(404, 'application/xml', '<Error><Code>NoSuchBucket</Code><Message>stub</Message></Error>');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Runs in the fresh process: S3 Control puts the account id in front of the host, so `<account>.localhost`
 * must resolve to the stub; then require, invoke once, and report both times.
 */
const CHILD_SCRIPT = `
const dns = require('dns');
const lookup = dns.lookup;
dns.lookup = (host, options, callback) =>
  lookup(host.endsWith('.localhost') ? '127.0.0.1' : host, options, callback);
const { performance } = require('perf_hooks');
const [file, eventJson, functionArn] = process.argv.slice(1);
const event = JSON.parse(eventJson);
const cpuMs = () => { const usage = process.cpuUsage(); return (usage.user + usage.system) / 1000; };
const started = performance.now();
const startedCpu = cpuMs();
const { handler } = require(file);
const loaded = performance.now();
const loadedCpu = cpuMs();
const context = { invokedFunctionArn: functionArn, awsRequestId: 'bench', getRemainingTimeInMillis: () => 60000 };
handler(event, context).then(
  () => undefined,
  (error) => String(error && error.name),
).then((error) => {
  const requireMs = loaded - started;
  const firstMs = performance.now() - loaded;
  const requireCpuMs = loadedCpu - startedCpu;
  const firstCpuMs = cpuMs() - loadedCpu;
  process.stdout.write('\\nBENCH ' + JSON.stringify({ requireMs, firstMs, requireCpuMs, firstCpuMs, error }) + '\\n');
  process.exit(0);
});
`;

/** One fresh process: wall and CPU milliseconds of the require and of the first invocation. */
interface ChildTimes {
  readonly requireMs: number;
  readonly firstMs: number;
  readonly requireCpuMs: number;
  readonly firstCpuMs: number;
  readonly error?: string;
}

function runChild(file: string, event: unknown, port: number): Promise<ChildTimes> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ENDPOINT_URL_S3_CONTROL: `http://localhost:${port}`,
    EVIDENCE_BUCKET: 'registry-guard-evidence',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT, file, JSON.stringify(event), FUNCTION_ARN], {
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((text) => text.startsWith('BENCH '));
      if (code !== 0 || line === undefined) {
        reject(new Error(`bench: the first invocation exited with ${code}:\n${stdout}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(line.slice('BENCH '.length)));
    });
  });
}

/**
 * Medians for one kind of event. CPU time beside wall time: on a busy machine wall time mostly measures
 * the neighbours.
 */
export interface FirstInvocation extends ChildTimes {
  readonly label: string;
  /** An error the invocation ended with (the stub is not AWS); undefined when it returned. */
  readonly error?: string;
}

function fixture(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(REPO, 'test/fixtures/remediation', name), 'utf8'));
}

/** Medians over `runs` fresh processes of the require and the first invocation, per kind of event. */
export async function firstInvocations(file: string, runs: number): Promise<FirstInvocation[]> {
  const events: [string, unknown][] = [
    ['AWS Config change notification', fixture('config-item-change.json')],
    ['CloudTrail PutBucketPolicy (EventBridge)', fixture('cloudtrail-put-bucket-policy.json')],
  ];
  const server = await startStubAws();
  try {
    const port = (server.address() as AddressInfo).port;
    const results: FirstInvocation[] = [];
    for (const [label, event] of events) {
      const samples: ChildTimes[] = [];
      for (let run = 0; run < runs; run += 1) samples.push(await runChild(file, event, port));
      const medianOf = (measure: keyof Omit<ChildTimes, 'error'>): number =>
        median(samples.map((sample) => sample[measure]));
      results.push({
        label,
        requireMs: medianOf('requireMs'),
        firstMs: medianOf('firstMs'),
        requireCpuMs: medianOf('requireCpuMs'),
        firstCpuMs: medianOf('firstCpuMs'),
        error: samples.find((sample) => sample.error !== undefined)?.error,
      });
    }
    return results;
  } finally {
    server.close();
  }
}

/** The rows `npm run bench` prints about the shipped handler, target verdict included. */
export async function handlerRows(runs: number): Promise<string[]> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-handler-bench-'));
  try {
    const bundled = shippedBundle(workDir);
    const cold = coldRequire(bundled.file, runs);
    const verdict = cold.ratio <= COLD_REQUIRE_TARGET ? 'PASS' : 'FAIL';
    const rows = [
      `| shipped handler dist/handler/index.js (esbuild: minified, node22, SDK included) | ` +
        `${(bundled.bytes / 1024).toFixed(0)} KB (${(bundled.gzipBytes / 1024).toFixed(0)} KB gzip) |`,
      `| bare node: node -e 0 | ${cold.bareMs.toFixed(0)} ms |`,
      `| cold require of the shipped handler, no node_modules above | ${cold.requireMs.toFixed(0)} ms ` +
        `(${cold.ratio.toFixed(2)}x bare node; target ≤ ${COLD_REQUIRE_TARGET}x: ${verdict}) |`,
    ];
    for (const first of await firstInvocations(bundled.file, runs)) {
      rows.push(
        `| first invocation after the cold require: ${first.label}, AWS stubbed on loopback | ` +
          `${first.firstMs.toFixed(0)} ms, CPU ${first.firstCpuMs.toFixed(0)} ms (the require before it, inside ` +
          `the process: ${first.requireMs.toFixed(0)} ms, CPU ${first.requireCpuMs.toFixed(0)} ms` +
          `${first.error === undefined ? '' : `; ended with ${first.error}`}) |`,
      );
    }
    return rows;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const runs = Number(process.env.BENCH_RUNS ?? 7);
  handlerRows(runs)
    .then((rows) => {
      console.log(`shipped handler cold start (node ${process.version}, medians of ${runs} fresh processes)`);
      console.log('');
      console.log('| measure | value |');
      console.log('| --- | --- |');
      for (const row of rows) console.log(row);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
