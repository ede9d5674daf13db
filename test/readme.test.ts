import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const REPO = path.resolve(__dirname, '..');

/** The README's TypeScript examples, with the package name pointed at this checkout. */
function readmeExamples(): { name: string; source: string }[] {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]);
  return blocks.map((source, position) => ({
    name: `example ${position + 1}: ${source
      .split('\n')
      .find((line) => line.includes("from 'registry-guard"))
      ?.trim()}`,
    source: source
      .replace(/from 'registry-guard\/remediation'/g, `from '${path.join(REPO, 'lib/remediation')}'`)
      .replace(/from 'registry-guard'/g, `from '${path.join(REPO, 'lib')}'`),
  }));
}

describe('README examples run as written', () => {
  // Written below node_modules so the examples resolve aws-cdk-lib and cdk-nag like a user's project.
  const directory = path.join(REPO, 'node_modules/.cache/registry-guard-readme');
  fs.mkdirSync(directory, { recursive: true });

  test.each(readmeExamples().map((example, position) => [example.name, position, example.source] as const))(
    '%s',
    (_name, position, source) => {
      const file = path.join(directory, `example-${position + 1}.ts`);
      fs.writeFileSync(file, source);
      const result = spawnSync(path.join(REPO, 'node_modules/.bin/tsx'), [file], {
        encoding: 'utf8',
        cwd: directory,
      });
      // The guard deploys a prebuilt handler: no bundling output, nothing on stderr but npm's warnings.
      const unexpected = result.stderr
        .split('\n')
        .filter((line) => !/^npm warn /.test(line) && line.trim() !== '');
      expect(unexpected).toEqual([]);
      expect(result.status).toBe(0);
    },
  );
});
