/**
 * `npm run bench`: how long `registry-guard check` takes on templates of 100, 1,000 and 5,000 registry
 * buckets, beside the floor: a node process that only reads and JSON.parses the same file.
 * Wall-clock medians of several runs of the built CLI (dist/), each a fresh process.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { registryTemplate } from './generate-template';
import { benchNagPack } from './nag-pack';

const REPO = path.resolve(__dirname, '..');
const CLI = path.join(REPO, 'dist/bin/registry-guard.js');
const SIZES = [100, 1_000, 5_000];
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeProcess(args: string[], expectStatus: number): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== expectStatus) {
    throw new Error(`bench: ${args.join(' ')} exited ${result.status}: ${result.stderr.split('\n')[0]}`);
  }
  return elapsed;
}

function main(): void {
  if (!fs.existsSync(CLI)) execFileSync('npm', ['run', 'build', '--silent'], { cwd: REPO, stdio: 'inherit' });
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'registry-guard-bench-'));
  const floorScript = "JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'))";
  console.log(
    `registry-guard check vs. the parse floor (median of ${RUNS} runs, node ${process.version}, ${os.cpus().length} cores)`,
  );
  console.log('| buckets | template | node + JSON.parse | registry-guard check | ratio | findings |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const size of SIZES) {
    const file = path.join(workDir, `registry-${size}.template.json`);
    fs.writeFileSync(file, JSON.stringify(registryTemplate(size)));
    const megabytes = fs.statSync(file).size / (1024 * 1024);
    const floor: number[] = [];
    const check: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      floor.push(timeProcess(['-e', floorScript, file], 0));
      check.push(
        timeProcess(
          [CLI, 'check', file, '--format', 'json', '--output', path.join(workDir, 'report.json')],
          0,
        ),
      );
    }
    const findings = JSON.parse(fs.readFileSync(path.join(workDir, 'report.json'), 'utf8')).summary.findings;
    const ratio = median(check) / median(floor);
    console.log(
      `| ${size.toLocaleString('en')} | ${megabytes.toFixed(1)} MB | ${median(floor).toFixed(0)} ms | ` +
        `${median(check).toFixed(0)} ms | ${ratio.toFixed(2)}× | ${findings} |`,
    );
  }
  fs.rmSync(workDir, { recursive: true, force: true });
}

main();
benchNagPack([100, 200, 400, 800]);
