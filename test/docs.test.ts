import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';
import { withConfigReference } from '../src/docs/config-reference.js';
import { MACHINES } from '../src/machines/index.js';

const read = (rel: string) => fs.readFileSync(path.join(repoRoot, rel), 'utf8');
const readme = read('README.md');
const docs = fs.readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.+)$/.exec(line);
    if (m) out.add(m[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'));
  }
  return out;
}

describe('README and docs/', () => {
  it('docs/configuration.md has the reference generated from the current schema (run `npm run docs`)', () => {
    const doc = read('docs/configuration.md');
    expect(withConfigReference(doc)).to.equal(doc);
  });

  it('the README starts with the two set-up commands: generate on the default machine and the full test run', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(firstBlock).to.match(/^npm ci && npx kdump-layer generate --machine as5712\b/m);
    expect(firstBlock).to.match(/^npm ci && npm test\b/m);
  });

  it('the README lists every built-in machine', () => {
    for (const m of MACHINES) expect(readme).to.include(`| \`${m.name}\` |`);
  });

  it('the README documents every command the CLI has', () => {
    const help = runCli(['--help']).stdout;
    const commands = [...help.matchAll(/^\s+kdump-layer (\w+)/gm)].map((m) => m[1]);
    expect(commands.length).to.be.greaterThan(3);
    for (const c of commands) expect(readme, c).to.include(`### \`kdump-layer ${c}\``);
  });

  it('every relative link in README.md and docs/ points at a file (and heading) that exists', () => {
    let checked = 0;
    for (const file of ['README.md', ...docs]) {
      const text = read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        checked++;
        const [rel, anchor] = target.split('#');
        const dest = rel ? path.normalize(path.join(path.dirname(file), rel)) : file;
        expect(fs.existsSync(path.join(repoRoot, dest)), `${file}: link to ${target}`).to.equal(true);
        if (anchor && dest.endsWith('.md')) expect([...anchors(read(dest))], `${file}: link to ${target}`).to.include(anchor);
      }
    }
    expect(checked, 'relative links found').to.be.greaterThan(20);
  });

  it('the CI script runs the README test command', () => {
    const ci = read('.ci/run');
    expect(ci).to.include('npm ci');
    expect(ci).to.match(/^npm test$/m);
  });
});
