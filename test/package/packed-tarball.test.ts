/**
 * The package as a user gets it: `npm pack` (which builds), installed into a fresh plain-JavaScript CDK app
 * outside this repository, where neither esbuild nor Docker can be found. The guard must synthesize there
 * and deploy the prebuilt, self-contained handler.
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const REPO = path.resolve(__dirname, '../..');

/** The app of the README's "Use it from your own app", run exactly as written there. */
function readmeConsumerApp(): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.split('\n## Use it from your own app\n')[1]?.split('\n## ')[0] ?? '';
  const source = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (source === undefined) throw new Error('README.md has no ```js app under "## Use it from your own app"');
  return source;
}
const APP_SOURCE = readmeConsumerApp();

function run(
  command: string,
  args: string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env: env ?? process.env, encoding: 'utf8' });
  if (result.error) throw result.error;
  return result;
}

function expectSuccess(result: SpawnSyncReturns<string>, what: string): void {
  if (result.status !== 0) {
    throw new Error(`${what} exited with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
}

/** Every node_modules directory Node.js would search from `directory` upwards that exists. */
function nodeModulesAbove(directory: string): string[] {
  const found: string[] = [];
  for (let current = directory; ; current = path.dirname(current)) {
    const candidate = path.join(current, 'node_modules');
    if (fs.existsSync(candidate)) found.push(candidate);
    if (path.dirname(current) === current) return found;
  }
}

/** Links a package of this repository's node_modules into the app, as `npm install` would have put it. */
function linkFromRepository(appModules: string, name: string): void {
  const target = path.join(REPO, 'node_modules', name);
  if (!fs.existsSync(target)) throw new Error(`${name} is not installed in ${REPO}; run npm ci`);
  const link = path.join(appModules, name);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(target, link, 'dir');
}

describe('the packed tarball in a fresh JavaScript app without esbuild or Docker', () => {
  const workDirectory = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'registry-guard-packed-'));
  const appDirectory = path.join(workDirectory, 'app');
  const appModules = path.join(appDirectory, 'node_modules');
  // A PATH and a CDK_DOCKER that find no Docker, whatever the machine has installed.
  const appEnvironment: NodeJS.ProcessEnv = {
    PATH: path.dirname(process.execPath),
    HOME: workDirectory,
    CDK_DOCKER: path.join(workDirectory, 'no-docker-here'),
    NODE_PATH: '',
  };
  let synth: SpawnSyncReturns<string>;

  beforeAll(() => {
    const packed = run('npm', ['pack', '--silent', '--pack-destination', workDirectory], REPO);
    expectSuccess(packed, 'npm pack');
    const tarball = fs.readdirSync(workDirectory).find((name) => name.endsWith('.tgz'));
    if (tarball === undefined) throw new Error(`npm pack left no tarball in ${workDirectory}`);

    // Install the tarball: npm extracts it into node_modules/<name>; its dependencies and peers come from
    // this repository's node_modules so the test needs no network.
    fs.mkdirSync(appModules, { recursive: true });
    expectSuccess(
      run('tar', ['-xzf', path.join(workDirectory, tarball), '-C', appModules], workDirectory),
      'tar',
    );
    const installed = path.join(appModules, 'registry-guard');
    fs.renameSync(path.join(appModules, 'package'), installed);
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    for (const name of [
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {}),
    ]) {
      linkFromRepository(appModules, name);
    }
    fs.writeFileSync(
      path.join(appDirectory, 'package.json'),
      JSON.stringify(
        {
          name: 'consumer-app',
          private: true,
          dependencies: {
            'registry-guard': `file:../${tarball}`,
            'aws-cdk-lib': manifest.peerDependencies?.['aws-cdk-lib'],
            constructs: manifest.peerDependencies?.constructs,
            'cdk-nag': manifest.peerDependencies?.['cdk-nag'],
            'cdk-stacksets': manifest.peerDependencies?.['cdk-stacksets'],
          },
        },
        null,
        2,
      ),
    );
    fs.writeFileSync(path.join(appDirectory, 'app.js'), APP_SOURCE);
    synth = run(process.execPath, ['app.js'], appDirectory, appEnvironment);
  }, 240_000);

  afterAll(() => {
    fs.rmSync(workDirectory, { recursive: true, force: true });
  });

  test('the app can resolve neither esbuild nor a node_modules outside its own', () => {
    expect(nodeModulesAbove(appDirectory)).toEqual([appModules]);
    expect(fs.existsSync(path.join(appModules, 'esbuild'))).toBe(false);
    const resolve = run(process.execPath, ['-e', "require.resolve('esbuild')"], appDirectory, appEnvironment);
    expect(resolve.status).not.toBe(0);
    expect(resolve.stderr).toContain("Cannot find module 'esbuild'");
  });

  test('ships the prebuilt handler and no TypeScript sources', () => {
    const installed = path.join(appModules, 'registry-guard');
    expect(fs.readdirSync(path.join(installed, 'dist/handler'))).toEqual(['index.js', 'security-hub-sdk.js']);
    expect(fs.existsSync(path.join(installed, 'lib/remediation/index.ts'))).toBe(false);
  });

  test('synthesizes the guard without bundling', () => {
    expect(synth.stderr).not.toMatch(/docker|Bundling asset|esbuild/i);
    expect(synth.status).toBe(0);
  });

  test('deploys the shipped bundle, which loads with no node_modules above it', () => {
    const cloudAssembly = path.join(appDirectory, 'cdk.out');
    const template = JSON.parse(
      fs.readFileSync(path.join(cloudAssembly, 'Consumer.template.json'), 'utf8'),
    ) as {
      Resources: Record<
        string,
        { Type: string; Properties: { Handler?: string; Code?: { S3Key?: string } } }
      >;
    };
    const functions = Object.values(template.Resources).filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' && resource.Properties.Handler === 'index.handler',
    );
    expect(functions).toHaveLength(1);
    // The function's code is the file asset whose hash names its S3 key.
    const assets = JSON.parse(fs.readFileSync(path.join(cloudAssembly, 'Consumer.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging: string } }>;
    };
    const assetHash = (functions[0].Properties.Code?.S3Key ?? '').replace(/\.zip$/, '');
    expect(assets.files[assetHash]?.source.packaging).toBe('zip');
    const assetDirectory = path.join(cloudAssembly, assets.files[assetHash].source.path);
    expect(fs.readdirSync(assetDirectory)).toEqual(['index.js', 'security-hub-sdk.js']);
    const shipped = fs.readFileSync(path.join(appModules, 'registry-guard/dist/handler/index.js'));
    expect(fs.readFileSync(path.join(assetDirectory, 'index.js')).equals(shipped)).toBe(true);

    const isolated = fs.mkdtempSync(path.join(workDirectory, 'lambda-'));
    expect(nodeModulesAbove(isolated)).toEqual([]);
    fs.copyFileSync(path.join(assetDirectory, 'index.js'), path.join(isolated, 'index.js'));
    const load = run(
      process.execPath,
      ['-e', "const m = require('./index.js'); if (typeof m.handler !== 'function') process.exit(2);"],
      isolated,
      appEnvironment,
    );
    expect(load.stderr).toBe('');
    expect(load.status).toBe(0);
  });
});
