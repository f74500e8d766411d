import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli, tempDir } from './helpers/cli.js';
import { machineNames } from '../src/machines/index.js';

describe('kdump-layer machines / init / schema', () => {
  it('machines prints one row per built-in profile with arch and kernel', () => {
    const r = runCli(['machines']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^as5712\s+x86_64\s+linux-ops 3\.9\.11\s+defconfig\s+bzImage\s+grub\s+128M@0M/m);
    expect(r.stdout).to.match(/^qemuarm64\s+arm64\s+linux-yocto 6\.6\s+linux-yocto\s+Image\s+u-boot/m);
    expect(r.stdout.trim().split('\n')).to.have.length(machineNames().length + 1);
    expect(JSON.parse(runCli(['machines', '--json']).stdout).map((m: { name: string }) => m.name)).to.deep.equal(machineNames());
  });

  it('schema prints the config schema; --machine-profile the profile schema', () => {
    expect(JSON.parse(runCli(['schema']).stdout).$id).to.equal('urn:kdump-layer:schema:config');
    expect(JSON.parse(runCli(['schema', '--machine-profile']).stdout).$id).to.equal('urn:kdump-layer:schema:machine');
  });

  it('init writes a commented config that generate accepts and that reproduces the machine layer', () => {
    const t = tempDir();
    try {
      const r = runCli(['init', '--machine', 'qemuarm64'], { cwd: t.dir });
      expect(r.code, r.stderr).to.equal(0);
      const text = fs.readFileSync(path.join(t.dir, 'kdump-layer.yml'), 'utf8');
      expect(text).to.match(/^# Memory reserved for the capture kernel/m);
      expect(parse(text)).to.deep.include({ machine: 'qemuarm64', arch: 'arm64', crashkernel: '256M' });
      expect(runCli(['generate', '--config', 'kdump-layer.yml', '--out', 'a'], { cwd: t.dir }).code).to.equal(0);
      expect(runCli(['generate', '--machine', 'qemuarm64', '--out', 'b'], { cwd: t.dir }).code).to.equal(0);
      const kcfg = (d: string) => fs.readFileSync(path.join(t.dir, d, 'recipes-kernel/linux/files/kdump.cfg'), 'utf8').split('\n').slice(1).join('\n');
      expect(kcfg('a')).to.equal(kcfg('b'));
      const again = runCli(['init', '--machine', 'qemuarm64'], { cwd: t.dir });
      expect(again.code).to.equal(2);
      expect(again.stderr).to.match(/kdump-layer\.yml: file exists; not overwritten/);
    } finally {
      t.cleanup();
    }
  });
});
