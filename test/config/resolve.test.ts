import { expect } from 'chai';
import { resolveConfig, schemaDefaults } from '../../src/config/resolve.js';
import { parseConfigText } from '../../src/config/load.js';
import { readSchema, validatorFor } from '../../src/config/schema.js';
import { yoctoReleaseNames } from '../../src/yocto/releases.js';
import { KERNEL_ARCHES } from '../../src/kernel/arch.js';
import { MACHINES } from '../../src/machines/index.js';
import { UserError } from '../../src/errors.js';

const cfg = (text: string) => parseConfigText(text, 'kdump.yml');

describe('configuration', () => {
  it('every built-in machine profile matches schemas/machine.schema.json', () => {
    const validate = validatorFor('machine');
    for (const m of MACHINES) {
      expect(validate(m), `${m.name}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    }
  });

  it('has the seed defaults (dump path, kdump format, tar.gz with os-release, reboot) but the measured-fastest lzo, archived at the next boot', () => {
    const { config } = resolveConfig({ machine: 'as5712' });
    expect(config.dump).to.deep.equal({ path: '/var/core/kernel-core', format: 'kdump', level: 31, compressor: 'lzo', message_level: 7, dmesg: true });
    expect(config.archive).to.include({ stage: 'boot', recompress: 'none' });
    expect(config.archive.files).to.deep.equal(['/etc/os-release']);
    expect(config.archive.compression).to.equal('gzip');
    expect(config.actions).to.deep.equal({ final: 'reboot', failure: 'reboot' });
    expect(config.crashkernel).to.equal('128M@0M');
    expect(config.kernel).to.include({ recipe: 'linux-ops', version: '3.9.11', style: 'defconfig', image: 'bzImage' });
    expect(config.yocto).to.equal('scarthgap');
  });

  it('layers values: schema default < machine profile < config file < --yocto flag', () => {
    const loaded = cfg('machine: qemuarm64\nyocto: kirkstone\ncrashkernel: 0M-2G:128M,2G-:256M\ndump:\n  path: /data/dumps\n');
    const { config } = resolveConfig({ config: loaded, yocto: 'styhead' });
    expect(config.machine).to.equal('qemuarm64');
    expect(config.arch).to.equal('arm64'); // from the profile
    expect(config.crashkernel).to.equal('0M-2G:128M,2G-:256M'); // file beats profile
    expect(config.dump.path).to.equal('/data/dumps');
    expect(config.dump.level).to.equal(31); // schema default kept beside the file's key
    expect(config.yocto).to.equal('styhead'); // flag beats file
  });

  it('--machine beats the machine named in the config file', () => {
    const { config } = resolveConfig({ machine: 'as6712', config: cfg('machine: qemuarm64\n') });
    expect(config.machine).to.equal('as6712');
  });

  it('an ELF dump gets no compressor unless one is asked for, and asking for one is an error', () => {
    expect(resolveConfig({ machine: 'as5712', config: cfg('dump:\n  format: elf\n') }).config.dump.compressor).to.equal('none');
    expect(() => resolveConfig({ machine: 'as5712', config: cfg('dump:\n  format: elf\n  compressor: lzo\n') }))
      .to.throw(UserError, /cannot be used with format 'elf'/)
      .with.property('where', 'kdump.yml:3: dump.compressor');
  });

  it('names file, line and key for a bad crashkernel and for a hex value that is not hex', () => {
    expect(() => resolveConfig({ machine: 'as5712', config: cfg('crashkernel: 2G-1G:128M\n') }))
      .to.throw(UserError, /ends before it starts/)
      .with.property('where', 'kdump.yml:1: crashkernel');
    expect(() => resolveConfig({ machine: 'as5712', config: cfg('kernel:\n  extra_config:\n    PHYSICAL_START: "0x10zz"\n') }))
      .to.throw(UserError, /not one/)
      .with.property('where', 'kdump.yml:3: kernel.extra_config.PHYSICAL_START');
  });

  it('warns when crashkernel is below the smallest size that captured (96M)', () => {
    const { warnings } = resolveConfig({ machine: 'as5712', config: cfg('crashkernel: 64M\n') });
    expect(warnings.join()).to.match(/less than 96M/);
  });

  it('an unknown machine lists the known ones', () => {
    expect(() => resolveConfig({ machine: 'as9999' }))
      .to.throw(UserError, /unknown machine 'as9999'/)
      .with.property('hint')
      .that.matches(/as5712, as6712, genericx86-64, qemuarm64, qemux86-64/);
  });

  it('without a machine, the config must describe the target', () => {
    expect(() => resolveConfig({ config: cfg('arch: x86_64\n') })).to.throw(UserError, /bootloader, kernel.recipe, kernel.version/);
    const full = cfg('arch: x86_64\nbootloader: none\nyocto_machine: mybox\nkernel:\n  recipe: linux-mybox\n  version: 6.1.0-56-amd64\n  style: defconfig\n  image: bzImage\n');
    expect(resolveConfig({ config: full }).config.kernel.recipe).to.equal('linux-mybox');
  });

  it('schema violations name the file, line, key and what is allowed', () => {
    const e = (() => {
      try {
        cfg('dump:\n  format: elf\n  levle: 3\narchive:\n  keep: 0\nbootloader: lilo\n');
      } catch (err) {
        return err as UserError;
      }
      throw new Error('no error');
    })();
    expect(e).to.be.instanceOf(UserError);
    expect(e.message).to.include('kdump.yml:3: dump.levle: unknown key');
    expect(e.message).to.include('kdump.yml:5: archive.keep: must be >= 1');
    expect(e.message).to.include('kdump.yml:6: bootloader: must be one of: "grub", "u-boot", "none"');
  });

  it('YAML syntax errors give the line', () => {
    expect(() => cfg('dump:\n  path: [unclosed\n')).to.throw(UserError).with.property('where').that.matches(/^kdump\.yml:\d+:\d+$/);
  });

  it('JSON files are read too', () => {
    expect(resolveConfig({ config: cfg('{"machine": "as5712", "archive": {"keep": 7}}') }).config.archive.keep).to.equal(7);
  });

  it("the schema's Yocto releases and architectures are exactly the tables the code uses", () => {
    const schema = readSchema('config') as { definitions: Record<string, { enum: string[] }> };
    expect(schema.definitions.yoctoRelease.enum).to.deep.equal(yoctoReleaseNames());
    expect(schema.definitions.arch.enum).to.deep.equal([...KERNEL_ARCHES]);
  });

  it('defaults come from the schema alone', () => {
    expect(schemaDefaults()).to.deep.include({ crashkernel: '128M@0M', yocto: 'scarthgap' });
  });
});
