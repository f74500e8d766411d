import { expect } from 'chai';
import fs from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { debianAmd64Config } from './helpers.js';

describe('validate on Debian\'s own kernel config (linux-image-amd64) @slow', function () {
  this.timeout(600000);
  let config: string;
  before(() => {
    config = debianAmd64Config();
  });

  it('is the real package\'s /boot/config, a kernel-written x86_64 6.1 config', () => {
    const text = fs.readFileSync(config, 'utf8');
    expect(text).to.match(/^# Linux\/x86 6\.1\.\d+ Kernel Configuration$/m);
    expect(text).to.match(/^CONFIG_X86_64=y$/m);
    expect(text.split('\n').length).to.be.greaterThan(8000);
  });

  it('passes on x86_64: Debian ships a kdump-capable kernel', () => {
    const r = runCli(['validate', config, '--format', 'json']);
    const report = JSON.parse(r.stdout);
    expect(report.target.arch).to.equal('x86_64');
    expect(report.target.kernelVersion).to.match(/^6\.1\./);
    expect(report.findings.filter((f: { severity: string }) => f.severity === 'error'), r.stdout).to.deep.equal([]);
    expect(r.code).to.equal(0);
  });

  it('with the seed fragment on top: HIGHMEM4G is invalid, LOCALVERSION differs, DEBUG_INFO is in effect via the DWARF choice', () => {
    const r = runCli(['validate', 'test/fixtures/kconfig/seed.cfg', '--config', config, '--format', 'json']);
    const report = JSON.parse(r.stdout);
    expect(r.code).to.equal(1);
    type F = { severity: string; symbol: string; class: string; effective?: string };
    const bad = report.findings.filter((f: F) => f.severity === 'error');
    expect(bad.map((f: F) => `${f.class}:${f.symbol}`).sort()).to.deep.equal(['invalid:HIGHMEM4G', 'not-in-effect:LOCALVERSION']);
    expect(bad.find((f: F) => f.symbol === 'LOCALVERSION').effective).to.match(/^CONFIG_LOCALVERSION="" /);
    expect(report.findings.some((f: F) => f.symbol === 'DEBUG_INFO')).to.equal(false);
  });
});
