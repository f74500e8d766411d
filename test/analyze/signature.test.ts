import { expect } from 'chai';
import { crashSignature, normalizeFunction, panicKind } from '../../src/analyze/signature.js';
import { decodeTaint, taintLetters } from '../../src/analyze/taint.js';
import { groupBySignature } from '../../src/analyze/analyze.js';
import type { AnalyzeReport, Frame } from '../../src/analyze/types.js';

const frames = (...names: string[]): Frame[] => names.map((n, i) => ({ level: i, function: n }));

describe('analyze: crash signature', () => {
  it('skips panic/oops machinery and keeps the top three frames by name', () => {
    const s = crashSignature('sysrq triggered crash', frames('machine_kexec', '__crash_kexec', 'panic', 'sysrq_handle_crash', '__handle_sysrq', 'write_sysrq_trigger', 'proc_reg_write', 'vfs_write'));
    expect(s.frames).to.deep.equal(['sysrq_handle_crash', '__handle_sysrq', 'write_sysrq_trigger']);
    expect(s.kind).to.equal('sysrq triggered crash');
    expect(s.hash).to.match(/^[0-9a-f]{16}$/);
  });

  it('is the same whatever the addresses, offsets, pids, oops counter and compiler suffixes', () => {
    const a = crashSignature('Oops: 0002 [#1] PREEMPT SMP PTI', [{ level: 5, function: 'kdl_oops_deref', offset: '+4', module: 'kdl_oops', exception: true }, ...frames('kdl_oops_init')],
      ['[    9.1] BUG: kernel NULL pointer dereference, address: 0000000000000000']);
    const b = crashSignature('Oops: 0000 [#3] SMP', [{ level: 7, function: 'kdl_oops_deref', offset: '+9', module: 'kdl_oops', exception: true }, ...frames('kdl_oops_init.cold')],
      ['[  123.4] BUG: kernel NULL pointer dereference, address: 0000000000000010']);
    expect(a.hash).to.equal(b.hash);
    expect(a.kind).to.equal('BUG: kernel NULL pointer dereference');
    expect(a.frames).to.deep.equal(['kdl_oops_deref [kdl_oops]', 'kdl_oops_init']);
  });

  it('differs for another faulting function or another kind', () => {
    const base = crashSignature('sysrq triggered crash', frames('sysrq_handle_crash', '__handle_sysrq'));
    expect(crashSignature('sysrq triggered crash', frames('other_fn', '__handle_sysrq')).hash).to.not.equal(base.hash);
    expect(crashSignature('hung_task: blocked tasks', frames('sysrq_handle_crash', '__handle_sysrq')).hash).to.not.equal(base.hash);
  });

  it('normalizes kinds and function names', () => {
    expect(panicKind('Kernel panic - not syncing: Fatal exception in interrupt')).to.equal('Fatal exception in interrupt');
    expect(panicKind('softlockup: hung tasks 12 on cpu 3')).to.equal('softlockup: hung tasks N on cpu N');
    expect(normalizeFunction('foo.isra.0')).to.equal('foo');
    expect(normalizeFunction('bar.constprop.12.cold')).to.equal('bar');
  });

  it('decodes taint masks as the kernel prints them', () => {
    // G OE + D: the oops module's taint (out-of-tree 12, unsigned 13) and the oops (7).
    const mask = (1 << 12) | (1 << 13) | (1 << 7);
    expect(taintLetters(mask)).to.equal('DOE');
    expect(decodeTaint(mask).map((f) => f.meaning)).to.deep.equal([
      'kernel died recently (OOPS or BUG)', 'externally-built (out-of-tree) module was loaded', 'unsigned module was loaded',
    ]);
  });

  it('groups reports by signature with counts, first/last time, releases and one example', () => {
    const rep = (src: string, hash: string, time: string, release: string): AnalyzeReport => ({
      schemaVersion: 1, tool: 'kdump-layer analyze', input: { source: src, kind: 'archive', name: src, state: 'complete', metadata: {} },
      dump: { format: 'kdump', bytes: 1 }, kernel: { release }, image: { osRelease: {}, prettyName: 'img 1.0' }, crashTime: time, warnings: [],
      signature: { hash, kind: 'k', frames: ['f'] },
    });
    const g = groupBySignature([rep('a', '1111111111111111', '2026-01-02T00:00:00Z', 'r1'), rep('b', '2222222222222222', '2026-01-01T00:00:00Z', 'r1'),
      rep('c', '1111111111111111', '2026-01-01T00:00:00Z', 'r2')]);
    expect(g.map((x) => [x.signature, x.count, x.firstCrash, x.lastCrash, x.releases.join(','), x.example])).to.deep.equal([
      ['1111111111111111', 2, '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'r1,r2', 'a'],
      ['2222222222222222', 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'r1', 'b'],
    ]);
  });
});
