/**
 * The precision spec: small templates, one per pattern met in public CloudFormation templates written by
 * others (bench/precision.ts), each with the exact error-level findings `registry-guard check` must report.
 * A false alarm that a reviewer or the corpus found gets a fixture here before its fix lands.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadTemplateFile } from '../../lib/cli/load-templates';
import { check } from '../../lib/cli/run-cli';
import { cfnLint } from '../support/cfn-lint';

const FIXTURES = path.resolve(__dirname, '../fixtures/precision');

/** For each fixture file, the [ruleId, logicalId] pairs of every error-level finding it must produce. */
const EXPECTED: Record<string, [string, string][]> = JSON.parse(
  fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8'),
);

const fixtureFiles = fs
  .readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.template.yaml') || name.endsWith('.template.json'))
  .sort();

function sortedPairs(pairs: readonly (readonly [string, string])[]): string[] {
  return pairs.map(([ruleId, logicalId]) => `${ruleId}@${logicalId}`).sort();
}

/** Runs `fn`, returning the warnings it emitted through process.emitWarning (which would print raw text). */
function warningsDuring(fn: () => void): string[] {
  const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    fn();
    return emitWarning.mock.calls.map(([warning]) =>
      String(warning instanceof Error ? warning.message : warning),
    );
  } finally {
    emitWarning.mockRestore();
  }
}

describe('precision fixtures', () => {
  test('expected.json names every fixture, and every fixture says what it shows', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(fixtureFiles);
    for (const name of fixtureFiles) {
      expect(fs.readFileSync(path.join(FIXTURES, name), 'utf8')).toMatch(/^Description: /m);
    }
  });

  test('every fixture is a template cfn-lint accepts', () => {
    expect(cfnLint(fixtureFiles.map((name) => path.join(FIXTURES, name))).errors).toEqual([]);
  });

  test.each(fixtureFiles)('%s is read without warnings and reports exactly the expected errors', (name) => {
    const file = path.join(FIXTURES, name);
    let errors: string[] = [];
    const warnings = warningsDuring(() => {
      // A refused file throws here with the loader's one-line reason.
      loadTemplateFile(file);
      const report = check({ paths: [file], failOn: 'error' }, '0.0.0-test');
      errors = sortedPairs(
        report.findings
          .filter((finding) => finding.level === 'error')
          .map((finding) => [finding.ruleId, finding.resource] as const),
      );
    });
    expect(warnings).toEqual([]);
    expect(errors).toEqual(sortedPairs(EXPECTED[name]));
  });
});
