import { expect } from 'chai';
import { Ajv } from 'ajv';
import fs from 'node:fs';
import path from 'node:path';
import { parseCrashOutput } from '../../src/analyze/parse.js';
import { crashSignature } from '../../src/analyze/signature.js';
import { groupBySignature, infoReport, type AnalyzeSummary } from '../../src/analyze/analyze.js';
import type { DumpInput } from '../../src/dump/input.js';
import { renderHtml, renderSummaryHtml } from '../../src/analyze/report/html.js';
import { renderJson } from '../../src/analyze/report/json.js';
import { renderMarkdown, renderSummaryMarkdown } from '../../src/analyze/report/markdown.js';
import { renderSummaryText, renderText } from '../../src/analyze/report/text.js';
import type { AnalyzeReport } from '../../src/analyze/types.js';
import { repoRoot } from '../helpers/cli.js';

/** Reports built from the saved real crash outputs, rendered in every format. */
function report(name: string, extra: Partial<AnalyzeReport> = {}): AnalyzeReport {
  const crash = parseCrashOutput(fs.readFileSync(path.join(repoRoot, 'test/fixtures/crash', `6.1-${name}.crash.txt`), 'utf8'));
  return {
    schemaVersion: 1, tool: 'kdump-layer analyze',
    input: { source: `dumps/kdump-${name}.tar.gz`, kind: 'archive', name: `kdump-${name}`, state: 'complete', metadata: { result: 'complete' } },
    dump: { format: 'kdump', compression: 'lzo', bytes: 40_000_000, dumpLevel: 31 },
    kernel: { release: '6.1.0-57-amd64', machine: 'x86_64', buildId: '6a2b4ac77585b8cf102cba771300e573c8489b69', pageSize: 4096 },
    image: { osRelease: { PRETTY_NAME: 'Switch OS 1.0' }, prettyName: 'Switch OS 1.0' },
    crashTime: '2026-12-01T15:42:59Z',
    vmlinux: { file: 'vmlinux-6.1.0-57-amd64', layout: '--vmlinux' },
    crash, signature: crashSignature(crash.panic, crash.logTrace ?? crash.backtrace, crash.log), warnings: [], ...extra,
  };
}

describe('analyze: reporters', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas/analyze-report.schema.json'), 'utf8')));
  const oops = report('oops');
  const incomplete = report('sysrq-a', { warnings: ['incomplete vmcore: the file is 1 bytes but its memory segments end at byte 9 (truncated)'] });

  it('json matches the published schema, for one dump and for a directory', () => {
    expect(validate(JSON.parse(renderJson(oops))), JSON.stringify(validate.errors)).to.equal(true);
    const s: AnalyzeSummary = { schemaVersion: 1, tool: 'kdump-layer analyze', directory: 'dumps', groups: groupBySignature([oops, incomplete, report('sysrq-b')]), unanalyzed: [{ source: 'x.tar.gz', reason: 'corrupt' }], reports: [oops] };
    expect(validate(JSON.parse(renderJson(s))), JSON.stringify(validate.errors)).to.equal(true);
    expect(s.groups.map((g) => g.count)).to.deep.equal([2, 1]);
    expect(renderSummaryText(s)).to.match(/^SIGNATURE +COUNT/m);
    expect(renderSummaryText(s)).to.match(/not analyzed:\n {2}x\.tar\.gz: corrupt/);
    expect(renderSummaryMarkdown(s)).to.include('| `');
    expect(renderSummaryHtml(s)).to.include('<li>x.tar.gz: corrupt</li>');
  });

  it('a flattened dump is shown by what it holds, ELF or kdump-compressed, in every format', () => {
    const flatElf = report('sysrq-a', { dump: { format: 'flattened', payload: 'elf', bytes: 144_769_584 } });
    const flatKdump = report('sysrq-a', { dump: { format: 'flattened', payload: 'kdump', compression: 'lzo', bytes: 38_037_277, dumpLevel: 31 } });
    expect(validate(JSON.parse(renderJson(flatElf))), JSON.stringify(validate.errors)).to.equal(true);
    expect(renderText(flatElf)).to.match(/^ {2}dump +kdump-sysrq-a: flattened \(elf\), 138\.1 MiB/m);
    expect(renderText(flatKdump)).to.match(/^ {2}dump +kdump-sysrq-a: flattened \(kdump-lzo\), 36\.3 MiB, dump level 31/m);
    expect(renderText(oops)).to.match(/^ {2}dump +kdump-oops: kdump-lzo, /m);
    expect(renderMarkdown(flatElf)).to.include('flattened (elf)');
    expect(renderHtml(flatKdump)).to.include('flattened (kdump-lzo)');
  });

  it('the gdb line is a command to paste: an ELF dump as it is, a flattened ELF dump through --to-elf, paths quoted for the shell', () => {
    const input = (source: string): DumpInput => ({ source, kind: 'vmcore', name: path.basename(source), vmcore: source, metadata: {}, osRelease: {}, state: 'unknown', close() {} });
    const id = { bytes: 1, release: '6.1.0-57-amd64', vmcoreinfo: {} };
    expect(infoReport(input('dumps/vmcore'), { ...id, file: 'dumps/vmcore', format: 'elf' }).gdbCommand).to.equal('gdb vmlinux-6.1.0-57-amd64 dumps/vmcore');
    expect(infoReport(input("my dump's.flat"), { ...id, file: 'x', format: 'flattened', payload: 'elf' }).gdbCommand)
      .to.equal("kdump-layer analyze 'my dump'\\''s.flat' --to-elf vmcore.elf && gdb vmlinux-6.1.0-57-amd64 vmcore.elf");
    expect(infoReport(input('v.flat'), { ...id, file: 'x', format: 'flattened', payload: 'kdump', compression: 'lzo' }).gdbCommand).to.equal(undefined);
  });

  it('text: warnings first, then summary, backtrace, log, modules; same input, same bytes', () => {
    const text = renderText(incomplete);
    expect(text.split('\n')[0]).to.match(/^warning: incomplete vmcore/);
    const at = (s: string) => text.indexOf(s);
    expect(at('signature')).to.be.lessThan(at('\nbacktrace'));
    expect(at('\nbacktrace')).to.be.lessThan(at('\nkernel log (last 50 lines)'));
    expect(at('\nkernel log')).to.be.lessThan(at('\nmodules ('));
    expect(renderText(oops)).to.match(/-> kdl_oops_deref\+12 \[kdl_oops\]/);
    expect(renderText(oops)).to.match(/taint +O \(externally-built \(out-of-tree\) module was loaded\), E \(unsigned module was loaded\)/);
    expect(renderText(oops)).to.equal(renderText(report('oops')));
  });

  it('markdown: a summary table, fenced backtrace and log, modules with flags', () => {
    const md = renderMarkdown(incomplete);
    expect(md).to.match(/^## Kernel crash: Kernel panic - not syncing: sysrq triggered crash\n\n> \*\*Warning:\*\* incomplete vmcore/);
    expect(renderMarkdown(oops)).to.include('| kdl_oops | 16384 | **out-of-tree, unsigned** |');
    expect(renderMarkdown(oops)).to.match(/### Backtrace\n\n```\n# 0 machine_kexec/);
  });

  it('html: one page with nothing external, escaped, summary before backtrace before log', () => {
    const html = renderHtml(report('oops', { warnings: ['<script>alert(1)</script>'] }));
    expect(html).to.match(/^<!DOCTYPE html>/);
    expect(html).to.not.match(/<script|<link|<img|\bsrc=|href=/);
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html.indexOf('class="summary"')).to.be.lessThan(html.indexOf('<h2>Backtrace'));
    expect(html.indexOf('<h2>Backtrace')).to.be.lessThan(html.indexOf('<h2>Kernel log'));
    expect(html).to.include('<tr class="exc"><td>&rarr;</td><td>kdl_oops_deref+12 [kdl_oops]</td>');
  });
});
