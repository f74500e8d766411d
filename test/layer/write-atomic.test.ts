import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isExists, writeAtomic } from '../../src/layer/write-atomic.js';

describe('atomic writes of output files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdump-layer-write-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('without --force, a file that exists by the time of the write is kept, even one made after the caller looked', () => {
    const file = path.join(dir, 'report.txt');
    writeAtomic(file, 'first\n', 0o600, { noClobber: true });
    expect(fs.readFileSync(file, 'utf8')).to.equal('first\n');
    expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
    // Another process wrote the file between the caller's check and this write.
    fs.writeFileSync(file, 'someone else\n');
    let err: unknown;
    try {
      writeAtomic(file, 'second\n', 0o600, { noClobber: true });
    } catch (e) {
      err = e;
    }
    expect(isExists(err), String(err)).to.equal(true);
    expect(fs.readFileSync(file, 'utf8')).to.equal('someone else\n');
    expect(fs.readdirSync(dir), 'no temporary file left').to.deep.equal(['report.txt']);
  });

  it('with --force the new file replaces the old one in one step, never written in place', () => {
    const file = path.join(dir, 'report.txt');
    fs.writeFileSync(file, 'old\n');
    fs.linkSync(file, path.join(dir, 'second-name'));
    writeAtomic(file, 'new\n', 0o644);
    expect(fs.readFileSync(file, 'utf8')).to.equal('new\n');
    expect(fs.readFileSync(path.join(dir, 'second-name'), 'utf8'), 'the old file itself is untouched').to.equal('old\n');
    expect(fs.readdirSync(dir).sort()).to.deep.equal(['report.txt', 'second-name']);
  });
});
