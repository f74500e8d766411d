import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, runCli } from './helpers/cli.js';
import { withConfigReference } from '../src/docs/config-reference.js';
import { MACHINES } from '../src/machines/index.js';

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');

describe('README', () => {
  it('has the configuration reference generated from the current schema (run `npm run docs`)', () => {
    expect(withConfigReference(readme)).to.equal(readme);
  });

  it('starts with the two set-up commands: generate on the default machine and the full test run', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(firstBlock).to.match(/^npm ci && npx kdump-layer generate --machine as5712\b/m);
    expect(firstBlock).to.match(/^npm ci && npm test\b/m);
  });

  it('lists every built-in machine', () => {
    for (const m of MACHINES) expect(readme).to.include(`| \`${m.name}\` |`);
  });

  it('documents every command the CLI has', () => {
    const help = runCli(['--help']).stdout;
    const commands = [...help.matchAll(/^\s+kdump-layer (\w+)/gm)].map((m) => m[1]);
    expect(commands.length).to.be.greaterThan(3);
    for (const c of commands) expect(readme, c).to.include(`### \`kdump-layer ${c}\``);
  });

  it('the CI script runs the README test command', () => {
    const ci = fs.readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
    expect(ci).to.include('npm ci');
    expect(ci).to.match(/^npm test$/m);
  });
});
