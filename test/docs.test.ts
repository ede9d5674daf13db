import * as fs from 'fs';
import * as path from 'path';
import { REGISTRY_GUARD_RULES } from '../rules/all-rules';
import { ruleId } from '../rules/rule';

describe('docs/rules.md', () => {
  const reference = fs.readFileSync(path.join(__dirname, '..', 'docs', 'rules.md'), 'utf8');

  test.each(REGISTRY_GUARD_RULES.map((rule) => [ruleId(rule), rule.level]))(
    'documents %s with its level (%s)',
    (id, level) => {
      const cells = reference
        .split('\n')
        .map((line) => line.split('|').map((cell) => cell.trim()))
        .find((row) => row[1] === `\`${id}\``);
      expect(cells?.[2]).toBe(level);
    },
  );
});
