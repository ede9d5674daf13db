/**
 * Generates the Python, Java and .NET packages of the jsii assembly that `npm run build` writes (.jsii) into
 * dist/packages/<language>, with jsii-pacmak. Nothing is published.
 *
 * Code only by default: building the packages needs each language's toolchain and its package registry
 * (PyPI for setuptools and twine, Maven Central for the jsii runtime and aws-cdk-lib jars, NuGet for .NET),
 * which this project's machines and CI do not reach. Where they do, `JSII_PACKAGE_BUILD=python,java,dotnet`
 * builds the named languages' packages (wheel, jar, nupkg) instead. The generated Python is compiled with
 * the local Python, when there is one, so a syntax error in it fails here rather than at a user's import.
 *
 * Run after `npm run build`: pacmak packs this package with `npm pack`, and its prepack script would compile
 * everything a second time, so scripts are skipped for that pack.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const OUT_DIRECTORY = path.join(REPOSITORY_ROOT, 'dist', 'packages');
const LANGUAGES = ['python', 'java', 'dotnet'] as const;
type Language = (typeof LANGUAGES)[number];

function languagesToBuild(): Set<Language> {
  const requested = (process.env.JSII_PACKAGE_BUILD ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of requested) {
    if (!(LANGUAGES as readonly string[]).includes(name)) {
      throw new Error(`package-jsii: JSII_PACKAGE_BUILD names '${name}'; use ${LANGUAGES.join(', ')}`);
    }
  }
  return new Set(requested as Language[]);
}

function pacmak(languages: readonly Language[], codeOnly: boolean): void {
  if (languages.length === 0) return;
  const started = Date.now();
  const result = spawnSync(
    path.join(REPOSITORY_ROOT, 'node_modules', '.bin', 'jsii-pacmak'),
    [
      '--targets',
      ...languages,
      ...(codeOnly ? ['--code-only'] : []),
      // The package's `files` list decides what it ships; pacmak must not write an .npmignore beside it.
      '--no-npmignore',
      '--outdir',
      OUT_DIRECTORY,
    ],
    {
      cwd: REPOSITORY_ROOT,
      stdio: 'inherit',
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    },
  );
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`package-jsii: jsii-pacmak exited with ${result.status}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`package-jsii: ${languages.join(', ')} (${codeOnly ? 'code only' : 'built'}) in ${seconds} s`);
}

/** Byte-compiles the generated Python: proof it parses, without the jsii runtime it imports. */
function compilePython(): void {
  const sources = path.join(OUT_DIRECTORY, 'python', 'src');
  const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
  if (python.error || python.status !== 0) {
    console.log('package-jsii: no python3 here; the generated Python was not compiled');
    return;
  }
  const compiled = spawnSync('python3', ['-m', 'compileall', '-q', sources], { stdio: 'inherit' });
  if (compiled.status !== 0)
    throw new Error(`package-jsii: the generated Python in ${sources} does not compile`);
}

function main(): void {
  for (const required of ['.jsii', 'dist/lib/index.js', 'dist/handler/index.js']) {
    if (!fs.existsSync(path.join(REPOSITORY_ROOT, required))) {
      throw new Error(`package-jsii: ${required} is missing; run \`npm run build\` first`);
    }
  }
  const built = languagesToBuild();
  pacmak(
    LANGUAGES.filter((language) => !built.has(language)),
    true,
  );
  pacmak(
    LANGUAGES.filter((language) => built.has(language)),
    false,
  );
  compilePython();
}

main();
