/**
 * `registry-guard restore`'s command line: help, usage errors and hostile URIs are answered before any AWS
 * call (no client is ever built), with one line and exit 2; `check` runs exactly as before.
 */
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseEvidenceUri, parseRestoreArgs } from '../../lib/cli/restore-args';
import { RestoreDependencies, runRestore } from '../../lib/cli/restore';
import { RESTORE_EXIT_OK, RESTORE_EXIT_USAGE } from '../../lib/cli/restore-errors';
import { EXIT_FINDINGS, EXIT_USAGE, runCli, runCliAsync } from '../../lib/cli/run-cli';
import { restoreCommandFor } from '../../lib/remediation/report/restore-command';

const REPO = path.resolve(__dirname, '../..');
const URI = 's3://guard-evidence/roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json';
const SHA = 'ab'.repeat(32);

/** Fails the test if the restore ever asks for an AWS client. */
const NO_AWS: RestoreDependencies = {
  clients: () => {
    throw new Error('an AWS client was built for input that should have been refused first');
  },
};

async function restore(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runRestore(
    args,
    { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
    NO_AWS,
  );
  return { code, stdout, stderr };
}

describe('restore --help', () => {
  test('documents the dry run, the verification and every exit code', async () => {
    const result = await restore('--help');
    expect(result.code).toBe(RESTORE_EXIT_OK);
    expect(result.stdout).toMatch(/^Usage: registry-guard restore s3:\/\/EVIDENCE_BUCKET\/KEY --version-id/);
    expect(result.stdout).toMatch(/DRY RUN BY DEFAULT: without --apply .* changes nothing/s);
    expect(result.stdout).toMatch(/--version-id VERSION +the evidence object's version/);
    expect(result.stdout).toMatch(/--exempt-days N +ordinary buckets only/);
    for (const code of ['0 restored', '1 refused', '2 usage', '3 evidence refused', '4 AWS error']) {
      expect(result.stdout.replace(/\s+/g, ' ')).toContain(code);
    }
  });

  test('the real bin prints it with exit 0, and check still runs synchronously through it', () => {
    const tsx = path.join(REPO, 'node_modules/.bin/tsx');
    const help = spawnSync(tsx, [path.join(REPO, 'bin/registry-guard.ts'), 'restore', '--help'], {
      encoding: 'utf8',
    });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/DRY RUN BY DEFAULT/);
    const usage = spawnSync(tsx, [path.join(REPO, 'bin/registry-guard.ts'), 'restore', 'http://example'], {
      encoding: 'utf8',
    });
    expect(usage.status).toBe(RESTORE_EXIT_USAGE);
    expect(usage.stdout).toBe('');
    expect(usage.stderr).toBe(
      'registry-guard: http://example: not an s3:// URI; pass s3://EVIDENCE_BUCKET/KEY\n',
    );
  });
});

describe('restore usage errors: one line, exit 2, no AWS call', () => {
  test.each([
    ['no URI', [], /restore needs the evidence URI/],
    ['two URIs', [URI, URI], /restore takes one evidence URI, got 2/],
    ['an unknown flag', [URI, '--force'], /restore: Unknown option '--force'/],
    ['--apply with --dry-run', [URI, '--apply', '--dry-run'], /--apply and --dry-run contradict/],
    [
      'a short --sha256',
      [URI, '--sha256', 'abc'],
      /--sha256 'abc' is not valid: expected 64 hexadecimal digits/,
    ],
    ['a version id with a space', [URI, '--version-id', 'a b'], /--version-id 'a b' is not valid/],
    ['a region that is no region', [URI, '--region', 'EU West'], /--region 'EU West' is not valid/],
    ['an unknown format', [URI, '--format', 'sarif'], /unknown format 'sarif'; use one of text, json/],
    [
      '--exempt-days that is not a number',
      [URI, '--exempt-days', '1e3'],
      /--exempt-days '1e3' is not a whole number/,
    ],
    [
      '--exempt-days over the maximum',
      [URI, '--exempt-days', '365'],
      /--exempt-days 365 is more than 90 days/,
    ],
    ['--exempt-reason alone', [URI, '--exempt-reason', 'SEC-1'], /--exempt-reason needs --exempt-days/],
    [
      '--exempt-reason S3 would not take as a tag value',
      [URI, '--exempt-days', '3', '--exempt-reason', 'why? "because"'],
      /--exempt-reason must be 1-256 letters/,
    ],
    ['an http URL', ['https://guard-evidence.s3.amazonaws.com/roll/x.json'], /not an s3:\/\/ URI/],
    ['a bucket without a key', ['s3://guard-evidence'], /names no object/],
    ['a bucket and a slash', ['s3://guard-evidence/'], /names no object/],
    ['nothing after s3://', ['s3://'], /names no object/],
    [
      'a bucket name S3 refuses',
      ['s3://Guard_Evidence/roll/x.json'],
      /'Guard_Evidence' is not an S3 bucket name/,
    ],
    ['an IP address as bucket', ['s3://192.168.0.1/x.json'], /'192.168.0.1' is not an S3 bucket name/],
    ['a key with a newline', ['s3://guard-evidence/roll/x\n.json'], /the key holds control characters/],
    ['a key over 1,024 bytes', [`s3://guard-evidence/${'k'.repeat(1025)}`], /longer than S3's 1024 bytes/],
  ])('%s', async (_name, args, pattern) => {
    const result = await restore(...args);
    expect(result.code).toBe(RESTORE_EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(2);
    expect(result.stderr).toMatch(/^registry-guard: /);
    expect(result.stderr).toMatch(pattern);
  });

  test('an escape sequence in the URI reaches the terminal escaped', async () => {
    const result = await restore('\u001b]0;owned\u0007s3://x');
    expect(result.code).toBe(RESTORE_EXIT_USAGE);
    expect(result.stderr).not.toContain('\u001b');
    expect(result.stderr).toContain('\\u001b');
  });

  test('a 100 KB argument is answered at once: every check is linear', async () => {
    const started = Date.now();
    const result = await restore(`s3://${'a'.repeat(100_000)}/k`, '--sha256', 'f'.repeat(100_000));
    expect(result.code).toBe(RESTORE_EXIT_USAGE);
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('restore arguments', () => {
  test('the command the notice prints parses back to the same evidence, version and checksum', () => {
    const ref = {
      bucket: 'guard-evidence',
      key: 'roll/2026-11-25T02:49:00.000Z-1a2b3c4d.json',
      uri: URI,
      versionId: 'Lx.9_aB=',
      sha256: SHA,
    };
    const command = restoreCommandFor(ref);
    expect(command).toBe(`npx registry-guard restore ${URI} --version-id Lx.9_aB= --sha256 ${SHA}`);
    const options = parseRestoreArgs(command.split(' ').slice(3), { maxExemptionDays: 90 });
    expect(options).toMatchObject({
      evidence: { bucket: 'guard-evidence', key: ref.key, uri: URI },
      versionId: ref.versionId,
      sha256: SHA,
      apply: false,
      format: 'text',
    });
  });

  test('a version id a shell would read is quoted in the notice', () => {
    const command = restoreCommandFor({
      bucket: 'guard-evidence',
      key: 'roll/x.json',
      uri: 's3://guard-evidence/roll/x.json',
      versionId: "it's;rm -rf",
      sha256: SHA,
    });
    expect(command).toContain(`--version-id 'it'\\''s;rm -rf'`);
  });

  test('an upper-case --sha256 is accepted and compared in lower case', () => {
    const options = parseRestoreArgs([URI, '--sha256', SHA.toUpperCase()], { maxExemptionDays: 90 });
    expect(options !== 'help' && options.sha256).toBe(SHA);
  });

  test('keys keep every character after the bucket, slashes included', () => {
    expect(parseEvidenceUri('s3://guard-evidence/a/b/c d.json')).toEqual({
      bucket: 'guard-evidence',
      key: 'a/b/c d.json',
      uri: 's3://guard-evidence/a/b/c d.json',
    });
  });
});

describe('the CLI entry with restore wired in', () => {
  const leaky = path.join(REPO, 'test/fixtures/templates/leaky.template.json');
  const io = { stdout: () => undefined, stderr: () => undefined, isTty: false, version: '0.0.0-test' };

  test('check gives the same exit code through runCliAsync as through runCli', async () => {
    expect(runCli(['check', leaky], io)).toBe(EXIT_FINDINGS);
    expect(await runCliAsync(['check', leaky], io)).toBe(EXIT_FINDINGS);
  });

  test('the synchronous runCli refuses restore (it needs AWS) instead of blocking', () => {
    let stderr = '';
    expect(runCli(['restore', URI], { ...io, stderr: (text) => (stderr += text) })).toBe(EXIT_USAGE);
    expect(stderr).toMatch(/'restore' calls AWS: run it through runCliAsync/);
  });

  test('check never loads the AWS SDK; restore loads it on demand', () => {
    const script = `
      const { runCliAsync } = require(${JSON.stringify(path.join(REPO, 'lib/cli/run-cli'))});
      const loaded = () => Object.keys(require.cache).some((file) => file.includes('@aws-sdk/client-s3'));
      const io = { stdout: () => undefined, stderr: () => undefined, isTty: false, version: 'test' };
      (async () => {
        await runCliAsync(['check', ${JSON.stringify(path.join(REPO, 'test/fixtures/templates/leaky.template.json'))}], io);
        const afterCheck = loaded();
        await runCliAsync(['restore', '--help'], io);
        console.log(JSON.stringify({ afterCheck, afterRestore: loaded() }));
      })();
    `;
    const result = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'), ['-e', script], {
      encoding: 'utf8',
      cwd: REPO,
    });
    expect(JSON.parse(result.stdout)).toEqual({ afterCheck: false, afterRestore: true });
  });

  test('an unknown command names both commands', async () => {
    let stderr = '';
    expect(await runCliAsync(['lint'], { ...io, stderr: (text) => (stderr += text) })).toBe(EXIT_USAGE);
    expect(stderr).toMatch(/the commands are 'check' and 'restore'/);
  });
});
