import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { factsFromLog, parseCrashOutput, splitSections } from '../../src/analyze/parse.js';
import { crashScript, CRASH_COMMANDS } from '../../src/analyze/crash.js';
import { crashSignature } from '../../src/analyze/signature.js';
import { repoRoot } from '../helpers/cli.js';

/**
 * Saved real outputs of crash 8.0.2 (Debian 12) running analyze's script on dumps of Debian's
 * 6.1.0-57-amd64 crashed under QEMU: two `echo c > /proc/sysrq-trigger` from two boots
 * (different KASLR offsets and addresses) and a NULL dereference in an out-of-tree module.
 * Only the vmlinux and dump paths were shortened.
 */
const fixture = (name: string) => fs.readFileSync(path.join(repoRoot, 'test/fixtures/crash', `6.1-${name}.crash.txt`), 'utf8');

describe('analyze: parsing crash(8) output', () => {
  const sysrqA = parseCrashOutput(fixture('sysrq-a'));
  const sysrqB = parseCrashOutput(fixture('sysrq-b'));
  const oops = parseCrashOutput(fixture('oops'));

  it('the script fences every command, and every section of a real run is there', () => {
    const sections = splitSections(fixture('oops'));
    for (const c of CRASH_COMMANDS) expect(sections.has(c.section), c.section).to.equal(true);
    expect(crashScript()).to.match(/\nexit\n$/);
    expect(sysrqA.failures).to.deep.equal([]);
    expect(oops.failures).to.deep.equal([]);
  });

  it('sysrq crash: panic message, crashing task, uptime and the backtrace with file:line', () => {
    expect(sysrqA.panic).to.equal('Kernel panic - not syncing: sysrq triggered crash');
    expect(sysrqA.task).to.deep.equal({ pid: 1, command: 'init', cpu: 0 });
    expect(sysrqA.uptime).to.match(/^\d\d:\d\d:\d\d$/);
    const names = sysrqA.backtrace.map((f) => f.function);
    expect(names.slice(0, 6)).to.deep.equal(['machine_kexec', '__crash_kexec', 'panic', 'sysrq_handle_crash', '__handle_sysrq.cold', 'write_sysrq_trigger']);
    const handler = sysrqA.backtrace.find((f) => f.function === 'sysrq_handle_crash')!;
    expect(handler.file).to.match(/drivers\/tty\/sysrq\.c$/);
    expect(handler.line).to.be.a('number');
    expect(sysrqA.taint).to.deep.equal({ mask: 0, flags: [] });
  });

  it('module oops: the faulting function is the exception frame, in the module, and the module is out-of-tree and unsigned', () => {
    expect(oops.panic).to.equal('Oops: 0000 [#1] PREEMPT SMP NOPTI');
    expect(oops.task).to.deep.equal({ pid: 303, command: 'insmod', cpu: 0 });
    const exc = oops.backtrace.find((f) => f.exception)!;
    expect(exc).to.include({ function: 'kdl_oops_deref', offset: '+12', module: 'kdl_oops' });
    const mod = oops.modules.find((m) => m.name === 'kdl_oops')!;
    expect(mod).to.deep.equal({ name: 'kdl_oops', size: 16384, taints: 'OE', outOfTree: true, unsigned: true, proprietary: false });
    expect(oops.modules.filter((m) => m.outOfTree).map((m) => m.name)).to.deep.equal(['kdl_oops']);
    expect(oops.modules.map((m) => m.name)).to.include.members(['ext4', 'virtio_blk', 'jbd2']);
    expect(oops.taint?.flags.map((f) => f.letter)).to.deep.equal(['O', 'E']);
    expect(oops.log.some((l) => l.includes('BUG: kernel NULL pointer dereference'))).to.equal(true);
  });

  it('keeps the last 50 log lines, memory and the task list from init_task', () => {
    expect(sysrqA.log).to.have.length(50);
    expect(sysrqA.log.some((l) => l.includes('sysrq: Trigger a crash'))).to.equal(true);
    expect(sysrqA.memory?.['total mem']).to.match(/MB$/);
    expect(sysrqA.memory?.free).to.match(/% of TOTAL MEM\)$/);
    const tasks = oops.tasks!;
    expect(tasks[0]).to.deep.equal({ pid: 0, command: 'swapper/0', cpu: 0 });
    expect(tasks.find((t) => t.pid === 303)?.command).to.equal('insmod');
    expect(tasks.length).to.be.greaterThan(20);
  });

  it('the two sysrq crashes (two boots, other addresses) share a signature; the oops has another', () => {
    const sig = (f: typeof sysrqA) => crashSignature(f.panic, f.logTrace ?? f.backtrace, f.log);
    const a = sig(sysrqA);
    const b = sig(sysrqB);
    const o = sig(oops);
    expect(a.frames).to.deep.equal(['sysrq_handle_crash', '__handle_sysrq', 'write_sysrq_trigger']);
    expect(b.hash).to.equal(a.hash);
    expect(o.kind).to.equal('BUG: kernel NULL pointer dereference');
    expect(o.frames).to.deep.equal(['kdl_oops_deref [kdl_oops]', 'do_one_initcall', 'do_init_module']);
    expect(o.hash).to.not.equal(a.hash);
    // crash's own backtrace gives the same top frames for sysrq (the log trace is preferred: the
    // kernel's unwinder, and the same whether or not crash can open the dump).
    expect(crashSignature(sysrqA.panic, sysrqA.backtrace, sysrqA.log).hash).to.equal(a.hash);
  });

  it('reads the kernel\'s own call trace from the log, and facts from the log alone', () => {
    expect(oops.logTrace?.map((f) => f.function)).to.deep.equal(['kdl_oops_deref', 'do_one_initcall', 'do_init_module', '__do_sys_finit_module', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']);
    expect(oops.logTrace?.[0]).to.include({ offset: '+12', module: 'kdl_oops', exception: true });
    const fromLog = factsFromLog(splitSections(fixture('oops')).get('log')!);
    expect(fromLog.panic).to.equal('Oops: 0000 [#1] PREEMPT SMP NOPTI');
    expect(fromLog.task).to.deep.equal({ pid: 303, command: 'insmod', cpu: 0 });
    expect(fromLog.taint?.flags.map((f) => f.letter)).to.deep.equal(['O', 'E']);
    expect(crashSignature(fromLog.panic, fromLog.logTrace!, fromLog.log).hash).to.equal(crashSignature(oops.panic, oops.logTrace!, oops.log).hash);
  });

  it('a run that stopped early is reported command by command, not guessed', () => {
    const cut = fixture('oops').split('==kdump-layer-section== log')[0];
    const f = parseCrashOutput(`${cut}==kdump-layer-section== log\nlog: invalid kernel virtual address: 0  type: "log_buf"\n`);
    expect(f.backtrace.length).to.be.greaterThan(0);
    expect(f.log).to.deep.equal([]);
    expect(f.failures).to.include('log: log: invalid kernel virtual address: 0  type: "log_buf"');
    expect(f.failures).to.include('mod: not run (crash stopped before it)');
  });
});
