/**
 * Runs `registry-guard check` in-process with captured output, and makes the temporary files it reads.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../lib/cli/run-cli';

/** What one run of the CLI printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  milliseconds: number;
}

/** Runs the CLI with `argv`, from `cwd` when given (so paths in reports are stable), never a terminal. */
export function runCliCapturing(argv: readonly string[], cwd?: string): CliResult {
  let stdout = '';
  let stderr = '';
  const previous = process.cwd();
  if (cwd !== undefined) process.chdir(cwd);
  const started = Date.now();
  try {
    const code = runCli(argv, {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      isTty: false,
      version: '0.0.0-test',
    });
    return { code, stdout, stderr, milliseconds: Date.now() - started };
  } finally {
    if (cwd !== undefined) process.chdir(previous);
  }
}

/** A new temporary directory whose name starts with `registry-guard-<purpose>-`. */
export function tempDirectory(purpose: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `registry-guard-${purpose}-`));
}

/** Writes `text` to a file called `name` in a new temporary directory and returns its path. */
export function writeTempFile(purpose: string, name: string, text: string): string {
  const file = path.join(tempDirectory(purpose), name);
  fs.writeFileSync(file, text);
  return file;
}
