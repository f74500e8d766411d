import { expect } from 'chai';
import { runCli } from './helpers/cli.js';

describe('kdump-layer CLI', () => {
  it('with no command exits 2 and says which commands exist, without a stack trace', () => {
    const r = runCli([]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/Name a command/);
    expect(r.stderr).not.to.match(/\n\s+at /);
  });

  it('rejects an unknown command with exit 2', () => {
    const r = runCli(['frobnicate']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/Unknown argument|Unknown command/i);
  });
});
