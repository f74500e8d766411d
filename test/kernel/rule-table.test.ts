import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { KDUMP_RULES } from '../../src/kernel/rules.js';
import { RULES_BEGIN, RULES_END, renderRuleTableMarkdown } from '../../src/kernel/rule-table.js';

describe('the rule table in docs/validate.md', () => {
  it('is exactly what the rule data renders (run `npm run docs` after changing rules)', () => {
    const doc = fs.readFileSync(path.join(repoRoot, 'docs/validate.md'), 'utf8');
    const a = doc.indexOf(RULES_BEGIN);
    const b = doc.indexOf(RULES_END);
    expect(a, 'begin marker').to.be.greaterThan(-1);
    expect(b, 'end marker').to.be.greaterThan(a);
    expect(doc.slice(a + RULES_BEGIN.length, b).trim()).to.equal(renderRuleTableMarkdown().trim());
  });

  it('has one row per rule', () => {
    const rows = renderRuleTableMarkdown().split('\n').filter((l) => /^\| `[a-z0-9-]+` \| (error|warning|info) \|/.test(l));
    expect(rows).to.have.length(KDUMP_RULES.length);
  });
});
