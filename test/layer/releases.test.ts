import { expect } from 'chai';
import { resolveConfig } from '../../src/config/resolve.js';
import { parseConfigText } from '../../src/config/load.js';
import { planLayer, qemuMemoryFor } from '../../src/layer/plan.js';
import { kdumpRulesJson } from '../../src/layer/kdump-check.js';
import { MACHINES, machineNames } from '../../src/machines/index.js';
import { runValidate } from '../../src/kernel/validate.js';
import { KDUMP_RULES } from '../../src/kernel/rules.js';
import { parseCrashkernel, reservationFor, MIB } from '../../src/config/crashkernel.js';
import { YOCTO_RELEASES, findYoctoRelease, type YoctoReleaseName } from '../../src/yocto/releases.js';
import { UserError } from '../../src/errors.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function layer(machine: string, yocto: YoctoReleaseName, yaml = '') {
  const { config } = resolveConfig({ machine, yocto, config: yaml ? parseConfigText(yaml, 'kdump.yml') : undefined });
  const files = planLayer(config, { machine, yocto });
  const get = (p: string): string => {
    const f = files.find((x) => x.path === p);
    if (!f) throw new Error(`no ${p} in the plan`);
    return f.content;
  };
  return { config, files, get, has: (p: string) => files.some((f) => f.path === p) };
}

/** What the kernel of that build really is: the release's linux-yocto, or the BSP's. */
function expectedKernel(machine: string, yocto: YoctoReleaseName): string {
  const p = MACHINES.find((m) => m.name === machine)!;
  return p.defaults.kernel.recipe === 'linux-yocto' ? findYoctoRelease(yocto).linuxYocto : p.defaults.kernel.version;
}

const refused = (machine: string, yocto: YoctoReleaseName) => machine === 'qemuarm64' && yocto === 'fido';

describe('every machine × Yocto release', () => {
  for (const rel of YOCTO_RELEASES) {
    for (const machine of machineNames()) {
      if (refused(machine, rel.name)) continue;
      describe(`${machine} on ${rel.name}`, () => {
        const l = layer(machine, rel.name);

        it(`writes kdump.cfg for the kernel the build uses (${expectedKernel(machine, rel.name)}) and it validates clean`, async () => {
          expect(l.config.kernel.version).to.equal(expectedKernel(machine, rel.name));
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdl-matrix-'));
          try {
            const cfg = path.join(dir, 'kdump.cfg');
            fs.writeFileSync(cfg, l.get('recipes-kernel/linux/files/kdump.cfg'));
            const r = await runValidate({ files: [cfg], arch: l.config.arch, kernelVersion: l.config.kernel.version });
            expect(r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.symbol}: ${f.message}`)).to.deep.equal([]);
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        });

        it("asks makedumpfile only for a compressor the release's recipe can build", () => {
          const collector = /^core_collector (.*)$/m.exec(l.get('recipes-kdump/ops-kdump/files/kdump.conf'))![1];
          const flag = / -([clpz]) /.exec(`${collector} `)?.[1];
          const needs = { c: null, l: 'lzo', p: 'snappy', z: 'zstd' }[flag as 'c' | 'l' | 'p' | 'z'];
          if (rel.makedumpfileOptions.length === 0) expect(flag, 'zlib only: -c').to.equal('c');
          if (needs) {
            expect(rel.makedumpfileOptions).to.include(needs);
            expect(l.get('recipes-kernel/makedumpfile/makedumpfile-kdump.inc')).to.match(new RegExp(`^PACKAGECONFIG[:_]append = " ${needs}"$`, 'm'));
          } else {
            expect(l.has('recipes-kernel/makedumpfile/makedumpfile_%.bbappend'), 'no bbappend to a recipe that has no option').to.equal(false);
          }
        });

        it('depends on kexec (the package with /usr/sbin/kexec), not only on kexec-tools', () => {
          const pg = l.get('recipes-kdump/packagegroups/packagegroup-ops-kdump.bb');
          const bb = l.get('recipes-kdump/ops-kdump/ops-kdump_1.0.bb');
          for (const t of [pg, bb]) expect(/^RDEPENDS[:_]\$\{PN\} = "(.*)"$/m.exec(t)![1].split(' ')).to.include.members(['kexec', 'makedumpfile']);
        });

        it('gates every bbappend on the feature in a form this BitBake parses', () => {
          for (const f of l.files.filter((x) => x.path.endsWith('.bbappend'))) {
            const req = /^require \$\{@bb\.utils\.contains\('DISTRO_FEATURES', 'ops-kdump', '([^']+)', '([^']*)', d\)\}$/m.exec(f.content);
            expect(req, f.path).to.not.equal(null);
            const dir = path.posix.dirname(f.path);
            expect(l.has(`${dir}/${req![1]}`), `${f.path} requires ${req![1]}`).to.equal(true);
            if (rel.emptyRequireParses) expect(req![2]).to.equal('');
            else {
              expect(req![2], 'BitBake 1.26 fails on an empty require').to.not.equal('');
              expect(l.get(`${dir}/${req![2]}`).split('\n').filter((x) => x && !x.startsWith('#'))).to.deep.equal([]);
            }
          }
        });

        it('adds the build-time kernel check to the kernel, after do_configure, with the rules data', () => {
          const inc = l.get(`recipes-kernel/linux/${l.config.kernel.recipe}-kdump.inc`);
          expect(inc).to.match(/^addtask kdump_check after do_configure before do_compile$/m);
          expect(inc).to.include(`KDUMP_CHECK_ARCH = "${l.config.arch}"`);
          expect(l.get('recipes-kernel/linux/files/kdump-rules.json')).to.equal(kdumpRulesJson(JSON.parse(l.get('recipes-kernel/linux/files/kdump-rules.json')).comment.replace(/ \(from the rules.*$/, '')));
          expect(JSON.parse(l.get('recipes-kernel/linux/files/kdump-rules.json')).rules.map((r: { id: string }) => r.id)).to.deep.equal(KDUMP_RULES.map((r) => r.id));
          expect(l.get('conf/kdump.inc')).to.match(/^INHERIT \+= "kdump-boot-check"$/m);
        });

        if (machine.startsWith('qemu')) {
          it('leaves the QEMU guest memory beyond the crashkernel= reservation', () => {
            const inc = l.get('conf/kdump.inc');
            if (rel.qbMem) expect(inc).to.match(/^QB_KERNEL_CMDLINE_APPEND[:_]append = " crashkernel=\$\{KDUMP_CRASHKERNEL\}"$/m);
            const { total } = qemuMemoryFor(l.config.crashkernel);
            const reserved = Number(reservationFor(parseCrashkernel(l.config.crashkernel), BigInt(total) * MIB) / MIB);
            expect(total - reserved).to.be.at.least(768);
            if (rel.qbMem) expect(inc).to.include(`QB_MEM${rel.overrideSyntax === 'colon' ? ':' : '_'}${machine} = "-m ${total}"`);
            else expect(inc).to.include(`runqemu ${machine} qemuparams="-m ${total}" bootparams="crashkernel=${l.config.crashkernel}"`);
            expect(l.get('README.md')).to.include('QB_KERNEL_CMDLINE_APPEND');
          });
        }
      });
    }
  }

  it('refuses qemuarm64 on fido: linux-yocto 3.19 has no arm64 kexec (4.8) nor kdump (4.12)', () => {
    expect(() => layer('qemuarm64', 'fido')).to.throw(UserError, /arm64 cannot take a crash dump with Yocto fido's linux-yocto 3.19/);
  });

  it("refuses a compressor the release's makedumpfile cannot build, naming the fix", () => {
    for (const yocto of ['dunfell', 'fido'] as const) {
      try {
        layer('as5712', yocto, 'dump:\n  compressor: lzo\n');
        expect.fail('accepted');
      } catch (err) {
        expect(err).to.be.instanceOf(UserError);
        expect((err as UserError).format()).to.include('kdump.yml:2').and.include('zlib');
      }
    }
    expect(layer('as5712', 'dunfell', 'dump:\n  compressor: zlib\n').get('recipes-kdump/ops-kdump/files/kdump.conf')).to.include('makedumpfile -c ');
    expect(layer('as5712', 'kirkstone', 'dump:\n  compressor: zstd\n').get('recipes-kdump/ops-kdump/files/kdump.conf')).to.include('makedumpfile -z ');
  });

  it("the user's kernel.version wins over the release's linux-yocto", () => {
    const l = layer('qemux86-64', 'dunfell', 'kernel:\n  version: "5.10"\n');
    expect(l.config.kernel.version).to.equal('5.10');
    expect(layer('qemuarm64', 'fido', 'kernel:\n  version: "4.14"\n').config.kernel.version).to.equal('4.14');
  });

  it('fido: says plainly that makedumpfile must be added, and needs no meta-oe', () => {
    const l = layer('as5712', 'fido');
    expect(l.get('README.md')).to.include('Neither OE-Core nor meta-openembedded fido has a makedumpfile recipe');
    expect(l.get('conf/layer.conf')).to.match(/^LAYERDEPENDS_ops-kdump = "core"$/m);
    expect(l.get('kas/ops-kdump.yml')).not.to.include('meta-openembedded');
    expect(layer('as5712', 'dunfell').get('README.md')).not.to.include('Neither OE-Core');
    // …and says so when generating, as it does when it falls back to zlib.
    const fido = resolveConfig({ machine: 'as5712', yocto: 'fido' }).warnings.join('\n');
    expect(fido).to.include('Yocto fido has no makedumpfile recipe').and.include("Nothing RPROVIDES 'makedumpfile'");
    expect(resolveConfig({ machine: 'as5712', yocto: 'dunfell' }).warnings.join('\n')).to.include("dump.compressor 'lzo' cannot be built on Yocto dunfell (makedumpfile 1.6.7 has no PACKAGECONFIG): the dump uses zlib");
    expect(resolveConfig({ machine: 'as5712', yocto: 'kirkstone' }).warnings).to.deep.equal([]);
  });

  it('the 5.15 kernel of kirkstone gets DEBUG_INFO, not the 5.18 DWARF choice alone', () => {
    const cfg = layer('qemux86-64', 'kirkstone').get('recipes-kernel/linux/files/kdump.cfg');
    expect(cfg).to.match(/^CONFIG_DEBUG_INFO=y$/m);
    expect(cfg).not.to.include('DWARF_TOOLCHAIN_DEFAULT');
    expect(layer('qemux86-64', 'walnascar').get('recipes-kernel/linux/files/kdump.cfg')).to.include('CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=y');
  });
});
