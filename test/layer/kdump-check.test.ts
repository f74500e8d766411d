import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { resolveConfig } from '../../src/config/resolve.js';
import { planLayer, type PlannedFile } from '../../src/layer/plan.js';
import { runValidate } from '../../src/kernel/validate.js';
import { corpusDir } from '../validate/helpers.js';

/** The generated layer for a machine, written to a temporary directory (as BitBake would see it). */
function writeLayer(machine: string, yocto?: 'fido' | 'dunfell' | 'kirkstone' | 'scarthgap'): { dir: string; files: PlannedFile[] } {
  const { config } = resolveConfig({ machine, yocto });
  const files = planLayer(config, { machine, yocto });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kdl-check-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.content, { mode: f.mode });
  }
  return { dir, files };
}

function python(args: string[], input?: string) {
  const r = spawnSync('python3', args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

/**
 * Runs a BitBake python task body from the generated layer with python3 and a stand-in
 * datastore: the same code BitBake runs (a BitBake python function is a def of its body, run
 * as written), with `d` and `bb` replaced.
 */
const TASK_HARNESS = String.raw`
import json, os, re, sys, textwrap
spec = json.load(sys.stdin)
vars_ = spec['vars']
def expand(s):
    for _ in range(10):
        n = re.sub(r'\$\{([A-Za-z0-9_]+)\}', lambda m: vars_.get(m.group(1), m.group(0)), s)
        if n == s: break
        s = n
    return s
class D(object):
    def getVar(self, name, expand_=True):
        v = vars_.get(name)
        return expand(v) if v is not None else None
class Fatal(Exception): pass
class BB(object):
    msgs = []
    class utils(object):
        @staticmethod
        def mkdirhier(p):
            if not os.path.isdir(p): os.makedirs(p)
    class build(object):
        @staticmethod
        def addtask(*a): BB.msgs.append(['addtask'] + list(a[:3]))
    class data(object):
        @staticmethod
        def inherits_class(c, d): return c in spec.get('inherits', [])
    @staticmethod
    def note(m): BB.msgs.append(['note', m])
    @staticmethod
    def warn(m): BB.msgs.append(['warn', m])
    @staticmethod
    def fatal(m):
        BB.msgs.append(['fatal', m]); raise Fatal(m)
ns = {'d': D(), 'bb': BB}
# BitBake runs a python function body as written, without expanding variables: so does this.
body = textwrap.dedent(spec['body'])
exec(compile('def task(d):\n' + textwrap.indent(body, '    ') + '\n', 'task', 'exec'), ns)
try:
    ns['task'](ns['d'])
    status = 'ok'
except Fatal:
    status = 'fatal'
print(json.dumps({'status': status, 'msgs': BB.msgs}))
`;

function pythonFunction(text: string, name: string): string {
  const m = new RegExp(`^python ${name}\\s*\\(\\) \\{\\n([\\s\\S]*?)^\\}$`, 'm').exec(text);
  if (!m) throw new Error(`no python ${name}() in the generated text`);
  return m[1];
}

function runTask(body: string, vars: Record<string, string>, inherits: string[] = []) {
  const r = python(['-c', TASK_HARNESS], JSON.stringify({ body, vars, inherits }));
  expect(r.status, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as { status: 'ok' | 'fatal'; msgs: string[][] };
}

describe('the build-time kdump check (the layer\'s Python, run with python3)', () => {
  const layers: string[] = [];
  after(() => { for (const d of layers) fs.rmSync(d, { recursive: true, force: true }); });

  it('agrees with `validate` on every real .config of the corpus, finding by finding @slow', async function () {
    this.timeout(300000);
    const { dir } = writeLayer('qemux86-64');
    layers.push(dir);
    const script = path.join(dir, 'recipes-kernel/linux/files/kdump_config_check.py');
    let compared = 0;
    let withFindings = 0;
    for (const sub of ['defconfigs', 'distros']) {
      const sdir = path.join(corpusDir(), sub);
      for (const name of fs.readdirSync(sdir).filter((n) => n.endsWith('.config')).sort()) {
        const file = path.join(sdir, name);
        const report = await runValidate({ files: [file] });
        const r = python([script, '--arch', report.target.arch, '--json', file]);
        expect(r.status, `${name}: ${r.stderr}`).to.be.oneOf([0, 1]);
        const out = JSON.parse(r.stdout) as { version: string; findings: Record<string, string>[] };
        expect(out.version, name).to.equal(report.target.kernelVersion.replace(/^(\d+\.\d+\.\d+).*$/, '$1'));
        const want = report.findings.filter((f) => f.class === 'kdump')
          .map((f) => ({ check: f.check, severity: f.severity, symbol: f.symbol, message: f.message, fix: f.fix, effective: f.effective }));
        const got = out.findings.map((f) => ({ check: f.check, severity: f.severity, symbol: f.symbol, message: f.message, fix: f.fix, effective: f.effective }));
        const key = (x: { check?: string }) => x.check ?? '';
        expect(got.sort((a, b) => key(a).localeCompare(key(b))), name).to.deep.equal(want.sort((a, b) => key(a).localeCompare(key(b))));
        expect(r.status, name).to.equal(report.findings.some((f) => f.class === 'kdump' && f.severity === 'error') ? 1 : 0);
        compared++;
        if (want.length) withFindings++;
      }
    }
    expect(compared).to.be.greaterThanOrEqual(80);
    expect(withFindings, 'the corpus has configs that fail, so agreement means something').to.be.greaterThanOrEqual(10);
  });

  describe('do_kdump_check, the task body from the kernel include', () => {
    const corpus = () => path.join(corpusDir(), 'defconfigs');
    function setup(machine: string, configName: string, makefile: string, extra: Record<string, string> = {}) {
      const { dir, files } = writeLayer(machine);
      layers.push(dir);
      const inc = files.find((f) => /^recipes-kernel\/linux\/[^/]+-kdump\.inc$/.test(f.path))!.content;
      const b = path.join(dir, 'build');
      const s = path.join(dir, 'src');
      fs.mkdirSync(b);
      fs.mkdirSync(s);
      fs.copyFileSync(path.join(corpus(), configName), path.join(b, '.config'));
      fs.writeFileSync(path.join(s, 'Makefile'), makefile);
      const vars: Record<string, string> = {
        KDUMP_CHECK_DIR: path.join(dir, 'recipes-kernel/linux/files'), B: b, S: s, PN: 'linux-yocto', MACHINE: machine,
        LOG_DIR: path.join(dir, 'log'), KDUMP_CHECK: 'error', ...extra,
      };
      for (const m of inc.matchAll(/^(KDUMP_CHECK_ARCH|KDUMP_CHECK_REPORT) \?{0,2}= "(.*)"$/gm)) vars[m[1]] ??= m[2];
      return { body: pythonFunction(inc, 'do_kdump_check'), vars, report: path.join(dir, 'log/kdump-check', `linux-yocto-${machine}.txt`) };
    }

    it('lets a kernel with every kdump requirement through (a warning is no error), reading the version from the tree\'s Makefile', () => {
      const t = setup('qemux86-64', 'x86_64_defconfig_6.6.config', 'VERSION = 6\nPATCHLEVEL = 6\nSUBLEVEL = 52\nEXTRAVERSION =\n');
      const r = runTask(t.body, t.vars);
      expect(r.status).to.equal('ok');
      const text = fs.readFileSync(t.report, 'utf8');
      expect(text).to.match(/x86_64, Linux 6\.6\.52 \(version from .*Makefile\)/);
    });

    it('stops the build on a kernel without kdump, naming each missing option, why and the fix', () => {
      const t = setup('qemux86-64', 'i386_defconfig_6.17.config', 'VERSION = 6\nPATCHLEVEL = 17\nSUBLEVEL = 3\n', { KDUMP_CHECK_ARCH: 'i386' });
      const r = runTask(t.body, t.vars);
      expect(r.status).to.equal('fatal');
      const fatal = r.msgs.find((m) => m[0] === 'fatal')![1];
      expect(fatal).to.include('cannot take a crash dump: 3 kdump requirement(s) missing').and.include('KDUMP_CHECK = "warning"');
      const text = fs.readFileSync(t.report, 'utf8');
      expect(text).to.include('error   CONFIG_CRASH_DUMP [crash-dump] kdump needs CONFIG_CRASH_DUMP=y');
      expect(text).to.include('fix:       set CONFIG_HIGHMEM4G=y');
      expect(r.msgs.filter((m) => m[0] === 'note').map((m) => m[1]).join('\n')).to.include('CONFIG_PROC_VMCORE');
    });

    it('KDUMP_CHECK = "warning" reports the same and lets the build go on', () => {
      const t = setup('qemux86-64', 'i386_defconfig_6.17.config', 'VERSION = 6\nPATCHLEVEL = 17\nSUBLEVEL = 3\n', { KDUMP_CHECK_ARCH: 'i386', KDUMP_CHECK: 'warning' });
      const r = runTask(t.body, t.vars);
      expect(r.status).to.equal('ok');
      expect(r.msgs.some((m) => m[0] === 'warn' && m[1].includes('found 4 problem(s)'))).to.equal(true);
    });

    it('judges by the tree\'s real version: the same .config is judged as a 5.15 kernel when the Makefile says 5.15', () => {
        // The x86_64 6.6 defconfig has no debug info: as 6.6 the DWARF choice is what is missing,
      // as 5.15 (before the choice made DEBUG_INFO promptless) DEBUG_INFO itself.
      const t = setup('qemux86-64', 'x86_64_defconfig_6.6.config', 'VERSION = 5\nPATCHLEVEL = 15\nSUBLEVEL = 186\n', { KDUMP_CHECK: 'warning' });
      runTask(t.body, t.vars);
      const text = fs.readFileSync(t.report, 'utf8');
      expect(text).to.include('Linux 5.15.186 (version from');
      expect(text).to.include('[debug-info] kdump needs CONFIG_DEBUG_INFO=y');
      expect(text).not.to.include('[debug-info-dwarf]');
      const asHeader = setup('qemux86-64', 'x86_64_defconfig_6.6.config', '# no version here\n', { KDUMP_CHECK: 'warning' });
      runTask(asHeader.body, asHeader.vars);
      expect(fs.readFileSync(asHeader.report, 'utf8')).to.match(/Linux 6\.6\.7 \(version from .*\.config header\)[\s\S]*\[debug-info-dwarf\]/);
    });
  });

  describe('do_kdump_boot_check, the image task from classes/kdump-boot-check.bbclass', () => {
    function boot(machine: string, vars: Record<string, string>, rootfsFiles: Record<string, string> = {}, yocto?: 'fido') {
      const { dir, files } = writeLayer(machine, yocto);
      layers.push(dir);
      const cls = files.find((f) => f.path === 'classes/kdump-boot-check.bbclass')!.content;
      const rootfs = path.join(dir, 'rootfs');
      for (const [p, c] of Object.entries(rootfsFiles)) {
        fs.mkdirSync(path.dirname(path.join(rootfs, p)), { recursive: true });
        fs.writeFileSync(path.join(rootfs, p), c);
      }
      fs.mkdirSync(rootfs, { recursive: true });
      const all: Record<string, string> = { PN: 'core-image-minimal', MACHINE: machine, IMAGE_ROOTFS: rootfs, LOG_DIR: path.join(dir, 'log'), KDUMP_CHECK: 'error', ...vars };
      for (const m of cls.matchAll(/^(KDUMP_BOOTLOADER|KDUMP_BOOT_CHECK_REPORT) \?\?= "(.*)"$/gm)) all[m[1]] ??= m[2];
      const kinc = files.find((f) => f.path === 'conf/kdump.inc')!.content;
      all.KDUMP_CRASHKERNEL ??= /^KDUMP_CRASHKERNEL \?= "(.*)"$/m.exec(kinc)![1];
      return runTask(pythonFunction(cls, 'do_kdump_boot_check'), all);
    }

    it('qemux86-64: passes when QB_KERNEL_CMDLINE_APPEND and APPEND carry crashkernel=', () => {
      const r = boot('qemux86-64', { QB_KERNEL_CMDLINE_APPEND: 'console=ttyS0 crashkernel=256M', APPEND: 'crashkernel=256M' });
      expect(r.status).to.equal('ok');
      expect(r.msgs.filter((m) => m[0] === 'warn')).to.deep.equal([]);
    });

    it('qemux86-64: stops the image when runqemu\'s command line lost crashkernel=, saying what to add', () => {
      const r = boot('qemux86-64', { QB_KERNEL_CMDLINE_APPEND: 'console=ttyS0', APPEND: 'crashkernel=256M' });
      expect(r.status).to.equal('fatal');
      expect(r.msgs.find((m) => m[0] === 'fatal')![1]).to.include('QB_KERNEL_CMDLINE_APPEND').and.include('+= " crashkernel=256M"');
    });

    it("qemux86-64 on fido: runqemu there reads no command line from the build, so it says how to start it", () => {
      const r = boot('qemux86-64', { APPEND: 'crashkernel=256M' }, {}, 'fido');
      expect(r.status).to.equal('ok');
      expect(r.msgs.filter((m) => m[0] === 'warn').map((m) => m[1]).join('\n')).to.include('runqemu qemux86-64 qemuparams="-m 1024" bootparams="crashkernel=256M"');
    });

    it('as5712: a grub.cfg outside the image (ONIE) is a clear warning naming what to add', () => {
      const r = boot('as5712', { APPEND: 'console=ttyS1 crashkernel=128M@0M' });
      expect(r.status).to.equal('ok');
      const warn = r.msgs.filter((m) => m[0] === 'warn').map((m) => m[1]).join('\n');
      expect(warn).to.include('ONIE').and.include('crashkernel=128M@0M');
    });

    it('a grub.cfg inside the image whose linux line lacks crashkernel= fails', () => {
      const r = boot('as5712', { APPEND: 'crashkernel=128M@0M' }, { 'boot/grub/grub.cfg': 'menuentry x {\n  linux /boot/bzImage root=/dev/sda2\n}\n' });
      expect(r.status).to.equal('fatal');
      expect(r.msgs.find((m) => m[0] === 'fatal')![1]).to.include('/boot/grub/grub.cfg boots a kernel without crashkernel=');
    });
  });
});
