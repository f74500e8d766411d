import { expect } from 'chai';
import { Ajv } from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { makeAnalyzeDumps, OOPS_FUNCTION, OOPS_MODULE, type AnalyzeDumps } from '../e2e/analyze-dumps.js';
import { renderHtml } from '../../src/analyze/report/html.js';
import { renderMarkdown } from '../../src/analyze/report/markdown.js';
import { renderText } from '../../src/analyze/report/text.js';
import type { AnalyzeSummary } from '../../src/analyze/analyze.js';
import type { AnalyzeReport } from '../../src/analyze/types.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { makeFakeVmlinux } from '../helpers/vmlinux.js';

/** The kernel log the device saved in a dump's archive (dmesg.txt, read from the vmcore). */
function savedDmesg(archive: string): string {
  const r = spawnSync('tar', ['-xzOf', archive, '--wildcards', '*/dmesg.txt'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout;
}

/**
 * analyze on real dumps: Debian's 6.1 kernel crashed under QEMU by `echo c` twice (two boots)
 * and by a NULL dereference in an out-of-tree module, saved by the runtime as archives, read
 * with Debian's -dbg vmlinux by the real crash(8). The dumps are made once (before) and every
 * assertion runs over them; crash runs once per dump, in the one directory analysis.
 */
describe('analyze on real crash dumps @slow', function () {
  this.timeout(60 * 60 * 1000);
  let d: AnalyzeDumps;
  let t: ReturnType<typeof tempDir>;
  let build: string;
  let stripped: string;
  let summary: AnalyzeSummary;
  let summaryCode: number;
  const byName = new Map<string, AnalyzeReport>();
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas/analyze-report.schema.json'), 'utf8')));

  before(async () => {
    const t0 = Date.now();
    d = await makeAnalyzeDumps();
    const setup = (Date.now() - t0) / 1000;
    t = tempDir('kdump-layer-analyze-e2e-');
    // A build directory shaped like BitBake's: the -dbg vmlinux where kernel.bbclass keeps it,
    // a stripped copy in deploy/images (as the image deploys it): analyze must take the first.
    build = path.join(t.dir, 'build');
    const kdir = path.join(build, 'tmp/work/qemux86_64-poky-linux/linux-yocto/6.1-r0/package/boot');
    fs.mkdirSync(kdir, { recursive: true });
    fs.linkSync(d.vmlinux.path, path.join(kdir, `vmlinux-${d.kernel.release}`));
    stripped = path.join(build, `tmp/deploy/images/qemux86-64/vmlinux-${d.kernel.release}`);
    fs.mkdirSync(path.dirname(stripped), { recursive: true });
    const s = spawnSync('strip', ['--strip-debug', '-o', stripped, d.vmlinux.path], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`strip: ${s.stderr}`);
    fs.mkdirSync(path.join(build, 'conf'));
    fs.writeFileSync(path.join(build, 'conf/local.conf'), 'MACHINE = "qemux86-64"\n');

    const dumps = path.join(t.dir, 'dumps');
    fs.mkdirSync(dumps);
    for (const x of d.dumps) fs.copyFileSync(x.archive, path.join(dumps, path.basename(x.archive)));
    // A truncated copy, as a broken scp leaves it: listed as not analyzable, with the reason.
    const first = fs.readFileSync(d.dumps[0].archive);
    fs.writeFileSync(path.join(dumps, 'kdump-20260101-000000-truncated.tar.gz'), first.subarray(0, Math.floor(first.length / 2)));

    const t1 = Date.now();
    const r = runCli(['analyze', dumps, '--build-dir', build, '--format', 'json', '-o', path.join(t.dir, 'summary.json')]);
    summaryCode = r.code;
    if (!fs.existsSync(path.join(t.dir, 'summary.json'))) throw new Error(`analyze wrote no summary (exit ${r.code}):\n${r.stderr}`);
    summary = JSON.parse(fs.readFileSync(path.join(t.dir, 'summary.json'), 'utf8'));
    for (const x of d.dumps) {
      const rep = summary.reports.find((p) => p.input.source.endsWith(path.basename(x.archive)));
      if (rep) byName.set(x.name, rep);
    }
    process.stderr.write(`      (dumps ready in ${setup.toFixed(0)} s: crash ${d.crashSeconds.toFixed(0)} s, -dbg download ${d.vmlinux.downloadSeconds.toFixed(0)} s + extract ${d.vmlinux.extractSeconds.toFixed(0)} s; analyze of ${d.dumps.length} dumps ${((Date.now() - t1) / 1000).toFixed(0)} s)\n`);
  });
  after(() => t?.cleanup());

  it('analyzes every dump of the directory, lists the truncated one with the reason, and matches the schema', () => {
    // It holds the crashed kernel's log: readable by its owner only, whatever the umask.
    expect(fs.statSync(path.join(t.dir, 'summary.json')).mode & 0o777).to.equal(0o600);
    expect(validate(summary), JSON.stringify(validate.errors)).to.equal(true);
    expect(summaryCode).to.equal(1);
    expect(summary.reports).to.have.length(3);
    expect(summary.unanalyzed).to.have.length(1);
    expect(summary.unanalyzed[0].source).to.match(/truncated\.tar\.gz$/);
    expect(summary.unanalyzed[0].reason).to.match(/corrupt or truncated archive/);
  });

  it('takes the debug vmlinux from the kernel recipe\'s package/boot, not the stripped deployed one', () => {
    for (const r of summary.reports) {
      expect(r.vmlinux?.layout).to.equal('kernel recipe package/boot');
      expect(r.vmlinux?.file).to.match(/linux-yocto\/6\.1-r0\/package\/boot\/vmlinux-/);
      expect(r.vmlinux?.buildId).to.equal(r.kernel.buildId);
    }
  });

  it('sysrq crashes: sysrq_handle_crash in the backtrace, the crash in the log tail, the run\'s marker in the saved log, kernel and image identity', () => {
    for (const name of ['sysrq-a', 'sysrq-b']) {
      const r = byName.get(name)!;
      const dump = d.dumps.find((x) => x.name === name)!;
      expect(r.input.state).to.equal('complete');
      expect(r.dump).to.include({ format: 'kdump', compression: 'lzo', dumpLevel: 31 });
      expect(r.kernel.release).to.equal(d.kernel.release);
      expect(r.kernel.buildId).to.match(/^[0-9a-f]{40}$/);
      expect(r.image.buildId).to.equal(`analyze-${name}`);
      expect(r.crash?.panic).to.match(/sysrq triggered crash/);
      expect(r.crash?.task?.command).to.equal('init');
      expect(r.crash?.backtrace.map((f) => f.function)).to.include('sysrq_handle_crash');
      // The report keeps the log's last 50 lines; the run's marker, printed before the crash,
      // can fall out of them: that this dump is this run's is read from its saved kernel log.
      expect(r.crash?.log.join('\n')).to.include('sysrq: Trigger a crash');
      expect(savedDmesg(dump.archive)).to.include(dump.marker).and.include('sysrq: Trigger a crash');
      expect(r.crash?.taint?.flags).to.deep.equal([]);
      expect(r.warnings).to.deep.equal([]);
    }
  });

  it('module oops: the module\'s function faulted, the module is listed out-of-tree and unsigned, the kernel tainted O and E', () => {
    const r = byName.get('oops')!;
    const c = r.crash!;
    expect(c.task?.command).to.equal('insmod');
    const exc = c.backtrace.find((f) => f.exception);
    expect(exc).to.include({ function: OOPS_FUNCTION, module: OOPS_MODULE });
    const mod = c.modules.find((m) => m.name === OOPS_MODULE);
    expect(mod).to.include({ outOfTree: true, unsigned: true, proprietary: false });
    expect(c.modules.filter((m) => m.outOfTree).map((m) => m.name)).to.deep.equal([OOPS_MODULE]);
    expect(c.taint?.flags.map((f) => f.letter)).to.include.members(['O', 'E']);
    // The report keeps the log's last 50 lines: the oops is in them. The run's marker, printed
    // just before the module is loaded, may fall out of the tail when the oops prints more
    // lines: that this dump is this run's is read from the kernel log saved beside it.
    expect(c.log.join('\n')).to.include('BUG: kernel NULL pointer dereference');
    const oops = d.dumps.find((x) => x.name === 'oops')!;
    expect(savedDmesg(oops.archive)).to.include(oops.marker).and.include('BUG: kernel NULL pointer dereference');
  });

  it('the two sysrq crashes share one signature, the oops has another; the table groups them', () => {
    const a = byName.get('sysrq-a')!.signature!;
    const b = byName.get('sysrq-b')!.signature!;
    const o = byName.get('oops')!.signature!;
    expect(a.hash).to.equal(b.hash);
    expect(o.hash).to.not.equal(a.hash);
    expect(o.frames[0]).to.equal(`${OOPS_FUNCTION} [${OOPS_MODULE}]`);
    expect(summary.groups.map((g) => [g.signature, g.count])).to.deep.equal([[a.hash, 2], [o.hash, 1]]);
    expect(summary.groups[0].releases).to.deep.equal([d.kernel.release]);
  });

  it('renders the same report as text, markdown and one self-contained html page', () => {
    const r = byName.get('oops')!;
    const text = renderText(r);
    expect(text.indexOf('signature')).to.be.lessThan(text.indexOf('backtrace'));
    expect(text).to.include(`${OOPS_FUNCTION}+12 [${OOPS_MODULE}]`);
    expect(renderMarkdown(r)).to.match(/\| kdl_oops \| 16384 \| \*\*out-of-tree, unsigned\*\* \|/);
    const html = renderHtml(r);
    expect(html).to.match(/^<!DOCTYPE html>/);
    expect(html).to.not.match(/<(script|link|img)\b|\bsrc=|href=/);
    expect(html.indexOf('Backtrace')).to.be.lessThan(html.indexOf('Kernel log'));
    expect(html).to.include(OOPS_FUNCTION);
  });

  it('refuses a stripped vmlinux and one of another release, showing both identities (exit 2, nothing written)', () => {
    const archive = d.dumps[0].archive;
    const out = path.join(t.dir, 'never.txt');
    const s = runCli(['analyze', archive, '--vmlinux', stripped, '-o', out]);
    expect(s.code, s.stderr).to.equal(2);
    expect(s.stderr).to.match(/does not fit this dump: stripped: it has no debug info/);
    expect(s.stderr).to.match(/the dump: +release 6\.1\.0-\d+-amd64, build id [0-9a-f]{40}/);
    const other = makeFakeVmlinux(path.join(t.dir, 'other/vmlinux'), { release: '6.6.0-1-amd64' });
    const o = runCli(['analyze', archive, '--vmlinux', other, '-o', out]);
    expect(o.code).to.equal(2);
    expect(o.stderr).to.include(`another release: vmlinux 6.6.0-1-amd64, dump ${d.kernel.release}`);
    expect(o.stderr).to.match(/the vmlinux: release 6\.6\.0-1-amd64, build id [0-9a-f]{40}/);
    // Only the stripped copy in the build tree: every candidate listed with why it was refused.
    const onlyStripped = path.join(t.dir, 'build-stripped/tmp/deploy/images/qemux86-64');
    fs.mkdirSync(onlyStripped, { recursive: true });
    fs.linkSync(stripped, path.join(onlyStripped, `vmlinux-${d.kernel.release}`));
    const n = runCli(['analyze', archive, '--build-dir', path.join(t.dir, 'build-stripped'), '-o', out]);
    expect(n.code).to.equal(2);
    expect(n.stderr).to.match(/no vmlinux matches this dump .*; candidates looked at:\n {2}\S+deploy\/images\/qemux86-64\/vmlinux-\S+ \(deploy\/images\/qemux86-64\): stripped/);
    expect(fs.existsSync(out)).to.equal(false);
  });

  it('an incomplete dump (vmcore cut short, directory left .incomplete) is still analyzed, the warning first, same signature', () => {
    const sysrq = d.dumps.find((x) => x.name === 'sysrq-a')!;
    const inc = path.join(t.dir, 'kdump-20260101-000001-cut.incomplete');
    fs.mkdirSync(inc);
    spawnSync('tar', ['-xzf', sysrq.archive, '-C', inc, '--strip-components=1']);
    const full = fs.readFileSync(path.join(inc, 'vmcore'));
    fs.writeFileSync(path.join(inc, 'vmcore'), full.subarray(0, Math.floor(full.length * 0.8)));
    const r = runCli(['analyze', inc, '--vmlinux', d.vmlinux.path, '--format', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const rep = JSON.parse(r.stdout) as AnalyzeReport;
    expect(rep.warnings[0]).to.match(/^incomplete dump: /);
    expect(rep.warnings[1]).to.match(/^incomplete vmcore: /);
    expect(rep.signature?.hash).to.equal(byName.get('sysrq-a')!.signature!.hash);
    // The whole kernel log is read from the cut vmcore: the same tail as the whole dump's.
    expect(rep.crash?.log).to.deep.equal(byName.get('sysrq-a')!.crash!.log);
    expect(rep.crash?.log.join('\n')).to.include('sysrq: Trigger a crash');
    expect(fs.readFileSync(path.join(inc, 'dmesg.txt'), 'utf8')).to.include(sysrq.marker);
    expect(renderText(rep).split('\n')[0]).to.match(/^warning: incomplete dump/);
  });

  it('without crash(8) or makedumpfile: exit 2 saying how to get them', () => {
    const archive = d.dumps[0].archive;
    const c = runCli(['analyze', archive, '--vmlinux', d.vmlinux.path], { env: { KDUMP_LAYER_CRASH: 'crash-not-installed-here' } });
    expect(c.code).to.equal(2);
    expect(c.stderr).to.match(/crash\(8\) is not installed \(looked for `crash-not-installed-here` on PATH\)\n {2}hint: install crash\(8\): `apt-get install crash`/);
    const m = runCli(['analyze', archive, '--to-elf', path.join(t.dir, 'x.elf')], { env: { PATH: '/nonexistent' } });
    expect(m.code).to.equal(2);
    expect(m.stderr).to.match(/makedumpfile is not installed \(needed for --to-elf\)\n {2}hint: install makedumpfile: `apt-get install makedumpfile`/);
    expect(fs.existsSync(path.join(t.dir, 'x.elf'))).to.equal(false);
  });

  it('crash(8) reads the flattened form of a kdump-compressed dump as it is: the same report as the archive gives', () => {
    const dump = d.dumps[0];
    const dir = path.join(t.dir, 'flat-crash');
    fs.mkdirSync(dir);
    spawnSync('tar', ['-xzf', dump.archive, '-C', dir, '--strip-components=1']);
    const flat = path.join(dir, 'vmcore.flat');
    const mk = spawnSync('sh', ['-c', 'makedumpfile -F -l -d 31 --message-level 1 "$1" > "$2"', 'sh', path.join(dir, 'vmcore'), flat]);
    expect(mk.status, String(mk.stderr)).to.equal(0);
    const r = runCli(['analyze', flat, '--vmlinux', d.vmlinux.path, '--format', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    const rep = JSON.parse(r.stdout) as AnalyzeReport;
    expect(validate(rep), JSON.stringify(validate.errors)).to.equal(true);
    expect(rep.dump).to.include({ format: 'flattened', payload: 'kdump' });
    expect(rep.signature?.hash).to.equal(byName.get(dump.name)!.signature!.hash);
    expect(rep.crash?.log).to.deep.equal(byName.get(dump.name)!.crash!.log);
  });

  it('--info reads the archive, its flattened form and a cut copy without vmlinux or crash; --to-elf refuses kdump-compressed input', () => {
    const archive = d.dumps[0].archive;
    const i = runCli(['analyze', archive, '--info', '--format', 'json']);
    expect(i.code, i.stderr).to.equal(0);
    const info = JSON.parse(i.stdout) as AnalyzeReport;
    expect(validate(info), JSON.stringify(validate.errors)).to.equal(true);
    expect(info.crash).to.equal(undefined);
    expect(info.input.metadata.result).to.equal('complete');
    expect(info.kernel.release).to.equal(d.kernel.release);
    expect(info.crashTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // makedumpfile refuses -E on kdump-compressed input: a clear refusal, nothing written.
    const elf = path.join(t.dir, 'vmcore.elf');
    const c = runCli(['analyze', archive, '--to-elf', elf]);
    expect(c.code).to.equal(2);
    expect(c.stderr).to.match(/makedumpfile cannot turn a kdump-compressed dump into ELF/);
    expect(fs.readdirSync(t.dir).filter((f) => f.includes('vmcore.elf'))).to.deep.equal([]);
    // The flattened format (makedumpfile -F, as piped over ssh) of the same dump.
    const flatDir = path.join(t.dir, 'flat');
    fs.mkdirSync(flatDir);
    spawnSync('tar', ['-xzf', archive, '-C', flatDir, '--strip-components=1']);
    const flat = path.join(t.dir, 'vmcore.flat');
    const mk = spawnSync('sh', ['-c', 'makedumpfile -F -l -d 31 --message-level 1 "$1" > "$2"', 'sh', path.join(flatDir, 'vmcore'), flat]);
    expect(mk.status, String(mk.stderr)).to.equal(0);
    const fl = JSON.parse(runCli(['analyze', flat, '--info', '--format', 'json']).stdout) as AnalyzeReport;
    expect(fl.dump).to.include({ format: 'flattened', payload: 'kdump', compression: 'lzo', dumpLevel: 31 });
    expect(fl.dump.incomplete).to.equal(undefined);
    expect(fl.kernel.buildId).to.equal(info.kernel.buildId);
    const fe = runCli(['analyze', flat, '--to-elf', elf]);
    expect(fe.code, 'a flattened kdump-compressed dump restores to kdump, not ELF').to.equal(2);
    expect(fe.stderr).to.match(/makedumpfile cannot turn a kdump-compressed dump into ELF/);
    expect(fs.readdirSync(t.dir).filter((f) => f.includes('vmcore.elf'))).to.deep.equal([]);
    // A kdump-compressed vmcore cut short in a dump directory left .incomplete: both said first.
    const inc = path.join(t.dir, 'kdump-20260101-000000-cut.incomplete');
    fs.mkdirSync(inc);
    spawnSync('tar', ['-xzf', archive, '-C', inc, '--strip-components=1']);
    const full = fs.readFileSync(path.join(inc, 'vmcore'));
    fs.writeFileSync(path.join(inc, 'vmcore'), full.subarray(0, Math.floor(full.length * 0.8)));
    const ki = runCli(['analyze', inc, '--info']);
    expect(ki.code, ki.stderr).to.equal(0);
    expect(ki.stdout.split('\n').slice(0, 2)).to.deep.equal([
      'warning: incomplete dump: the dump directory was never finished (the capture was interrupted)',
      `warning: incomplete vmcore: the file is ${Math.floor(full.length * 0.8)} bytes but its page data ends at byte ${full.length} (truncated)`,
    ]);
  });
});
