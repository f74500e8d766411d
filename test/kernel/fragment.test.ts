import { expect } from 'chai';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { corpusDir } from '../validate/helpers.js';
import { parseKernelVersion } from '../../src/kernel/version.js';
import { parseFragment, printFragment, type FragmentEntry, type KconfigValue } from '../../src/kernel/fragment.js';

describe('kernel fragment printer and parser', () => {
  it('prints every value kind the way Kconfig writes it, with why-comments above', () => {
    const text = printFragment([
      { symbol: 'KEXEC', value: { kind: 'y' }, comment: 'load the capture kernel' },
      { symbol: 'USB_STORAGE', value: { kind: 'm' } },
      { symbol: 'DEBUG_INFO_REDUCED', value: { kind: 'n' }, comment: 'crash needs full types' },
      { symbol: 'LOCALVERSION', value: { kind: 'string', value: '-kdump "x" \\ y' } },
      { symbol: 'NR_CPUS', value: { kind: 'int', value: '-4' } },
      { symbol: 'PHYSICAL_START', value: { kind: 'hex', value: '0x1000000' } },
    ]);
    expect(text).to.equal(
      [
        '# load the capture kernel',
        'CONFIG_KEXEC=y',
        'CONFIG_USB_STORAGE=m',
        '',
        '# crash needs full types',
        '# CONFIG_DEBUG_INFO_REDUCED is not set',
        'CONFIG_LOCALVERSION="-kdump \\"x\\" \\\\ y"',
        'CONFIG_NR_CPUS=-4',
        'CONFIG_PHYSICAL_START=0x1000000',
        '',
      ].join('\n'),
    );
  });

  it('refuses entries it could not read back the same (a programming error)', () => {
    expect(() => printFragment([{ symbol: 'CONFIG_X', value: { kind: 'y' } }])).to.throw(/without CONFIG_/);
    expect(() => printFragment([{ symbol: 'X', value: { kind: 'y' }, comment: 'two\nlines' }])).to.throw(/one line/);
    expect(() => printFragment([{ symbol: 'X', value: { kind: 'hex', value: '1000' } }])).to.throw(/0x/);
    expect(() => printFragment([{ symbol: 'X', value: { kind: 'y' }, comment: 'CONFIG_Y is not set' }])).to.throw(/setting/);
  });

  it('property: any fragment the printer writes, the parser reads back identically', () => {
    const symbol = fc.stringMatching(/^[A-Z0-9_]{1,24}$/);
    const value: fc.Arbitrary<KconfigValue> = fc.oneof(
      fc.constantFrom<KconfigValue>({ kind: 'y' }, { kind: 'm' }, { kind: 'n' }),
      fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !/[\r\n]/.test(s)).map((s): KconfigValue => ({ kind: 'string', value: s })),
      fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).map((n): KconfigValue => ({ kind: 'int', value: n.toString() })),
      fc.bigInt({ min: 0n, max: 2n ** 64n }).map((n): KconfigValue => ({ kind: 'hex', value: `0x${n.toString(16)}` })),
    );
    const comment = fc.option(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((c) => !/[\r\n]/.test(c) && c === c.trim() && c !== '' && !/^CONFIG_/.test(c)),
      { nil: undefined },
    );
    const entries = fc.uniqueArray(fc.record({ symbol, value, comment }), { selector: (e) => e.symbol, maxLength: 20 });
    fc.assert(
      fc.property(entries, (list) => {
        const clean: FragmentEntry[] = list.map((e) => (e.comment === undefined ? { symbol: e.symbol, value: e.value } : e));
        const text = printFragment(clean);
        const parsed = parseFragment(text, 'p.cfg');
        expect(parsed.problems).to.deep.equal([]);
        const back = parsed.entries.map((e) => (e.comment === undefined ? { symbol: e.symbol, value: e.value } : { symbol: e.symbol, value: e.value, comment: e.comment }));
        expect(back).to.deep.equal(clean);
        expect(printFragment(back)).to.equal(text);
      }),
      { numRuns: 300 },
    );
  });

  it('gives every entry its file and line', () => {
    const p = parseFragment('# head\n\nCONFIG_A=y\n# why b\n# CONFIG_B is not set\n', 'x.cfg');
    expect(p.entries.map((e) => [e.symbol, e.file, e.line, e.comment])).to.deep.equal([
      ['A', 'x.cfg', 3, undefined],
      ['B', 'x.cfg', 5, 'why b'],
    ]);
    expect(p.fullConfig).to.equal(false);
  });

  it('recognises a kernel-written .config by its header', () => {
    const p = parseFragment('#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_X86_64=y\n', '.config');
    expect(p.fullConfig).to.equal(true);
    expect(p.header).to.deep.equal({ arch: 'x86', version: '6.1.0', line: 3 });
  });

  // Every malformed input, with the message and fix it must produce.
  // Each was checked against the kernel's own reader: test/validate/kernel-reads.test.ts runs conf on these lines.
  const cases: { line: string; code: string; severity: 'error' | 'warning' | 'info'; message: RegExp; fix: RegExp; kept?: boolean; version?: string }[] = [
    { line: '#CONFIG_FOO is not set', code: 'not-set-variant', severity: 'error', message: /plain comment/, fix: /'# CONFIG_FOO is not set'/ },
    { line: '# CONFIG_FOO  is not set', code: 'not-set-variant', severity: 'error', message: /plain comment/, fix: /'# CONFIG_FOO is not set'/ },
    { line: '#  CONFIG_FOO is not set', code: 'not-set-variant', severity: 'error', message: /plain comment/, fix: /'# CONFIG_FOO is not set'/ },
    { line: '# CONFIG_FOO is NOT set', code: 'not-set-variant', severity: 'error', message: /plain comment/, fix: /'# CONFIG_FOO is not set'/ },
    { line: 'CONFIG_FOO is not set', code: 'not-set-variant', severity: 'error', message: /needs the leading '# '/, fix: /'# CONFIG_FOO is not set'/ },
    { line: '# CONFIG_FOO is unset', code: 'not-set-variant', severity: 'error', message: /reads it as a comment/, fix: /is not set/ },
    { line: '# CONFIG_FOO=y', code: 'commented-assignment', severity: 'warning', message: /commented-out/, fix: /remove the '#'/ },
    { line: '# CONFIG_FOO=n', code: 'commented-assignment', severity: 'warning', message: /commented-out/, fix: /'# CONFIG_FOO is not set'/ },
    { line: '# CONFIG_FOO is not set # off', code: 'trailing-text', severity: 'info', message: /after "is not set"/, fix: /alone/, kept: true, version: '6.1' },
    { line: '# CONFIG_FOO is not set # off', code: 'trailing-text', severity: 'error', message: /from Linux 6\.8 .* ignores this one/, fix: /alone/, version: '6.12' },
    { line: 'CONFIG_FOO = y', code: 'whitespace', severity: 'error', message: /ignores the line/, fix: /CONFIG_FOO=y/ },
    { line: 'CONFIG_FOO= y', code: 'whitespace', severity: 'error', message: /space after '='/, fix: /CONFIG_FOO=y/ },
    { line: '  CONFIG_FOO=y', code: 'whitespace', severity: 'error', message: /whitespace/, fix: /CONFIG_FOO=y/ },
    { line: 'FOO=y', code: 'missing-prefix', severity: 'error', message: /no CONFIG_ prefix/, fix: /CONFIG_FOO=y/ },
    { line: 'config_foo=y', code: 'missing-prefix', severity: 'error', message: /no CONFIG_ prefix/, fix: /CONFIG_FOO=y/ },
    { line: 'CONFIG_FOO="abc', code: 'bad-quoting', severity: 'error', message: /no closing quote/, fix: /close the string/ },
    { line: 'CONFIG_FOO="a"b"', code: 'bad-quoting', severity: 'warning', message: /the value is "a" and 'b"' is ignored/, fix: /escape quotes/, kept: true },
    { line: "CONFIG_FOO='abc'", code: 'bad-quoting', severity: 'error', message: /single quotes/, fix: /CONFIG_FOO="abc"/ },
    { line: 'CONFIG_FOO="abc" # why', code: 'trailing-text', severity: 'info', message: /after the closing quote/, fix: /own line/, kept: true },
    { line: 'CONFIG_FOO=', code: 'empty-value', severity: 'error', message: /empty value/, fix: /CONFIG_FOO=""/ },
    { line: 'CONFIG_FOO=yes', code: 'first-letter', severity: 'info', message: /first letter: 'yes' is y/, fix: /CONFIG_FOO=y$/, kept: true },
    { line: 'CONFIG_FOO=module', code: 'first-letter', severity: 'info', message: /'module' is m/, fix: /CONFIG_FOO=m$/, kept: true },
    { line: 'CONFIG_FOO=no', code: 'first-letter', severity: 'info', message: /'no' is n/, fix: /'# CONFIG_FOO is not set'/, kept: true },
    { line: 'CONFIG_FOO=m CONFIG_BAR=y', code: 'two-settings', severity: 'error', message: /reads CONFIG_FOO=m .* CONFIG_BAR is not set by it/, fix: /own line: CONFIG_FOO=m, then CONFIG_BAR=y/, kept: true },
    { line: 'CONFIG_FOO=myhost', code: 'unquoted-string', severity: 'warning', message: /reads it as m .* ignores the line if it is a string/, fix: /CONFIG_FOO="myhost"/, kept: true },
    { line: 'CONFIG_FOO=64 # cpus', code: 'trailing-text', severity: 'error', message: /rejects an int or hex value .*'64 # cpus' invalid/, fix: /CONFIG_FOO=64 and/ },
    { line: 'CONFIG_FOO=off', code: 'bad-value', severity: 'error', message: /not a Kconfig value/, fix: /'# CONFIG_FOO is not set'/ },
    { line: 'CONFIG_FOO=Y', code: 'bad-value', severity: 'error', message: /upper case/, fix: /CONFIG_FOO=y/ },
    { line: 'CONFIG_FOO=1000abc', code: 'bad-value', severity: 'info', message: /no 0x: Kconfig reads it as 0x1000abc for a hex symbol/, fix: /CONFIG_FOO=0x1000abc/, kept: true },
    { line: 'CONFIG_FOO=-kdump', code: 'unquoted-string', severity: 'error', message: /double quotes/, fix: /CONFIG_FOO="-kdump"/ },
    { line: 'CONFIG_FOO=y # on', code: 'trailing-text', severity: 'info', message: /first letter and ignores the rest/, fix: /CONFIG_FOO=y/, kept: true },
    { line: 'just some words', code: 'malformed', severity: 'error', message: /not a Kconfig line/, fix: /comments with #/ },
  ];
  for (const c of cases) {
    it(`flags ${JSON.stringify(c.line)}${c.version ? ` (Linux ${c.version})` : ''} as ${c.code} with its fix`, () => {
      const p = parseFragment(`CONFIG_OK=y\n${c.line}\n`, 'bad.cfg', c.version ? parseKernelVersion(c.version) : undefined);
      expect(p.problems, JSON.stringify(p.problems)).to.have.length(1);
      const [problem] = p.problems;
      expect(problem).to.include({ file: 'bad.cfg', line: 2, code: c.code, severity: c.severity, raw: c.line });
      expect(problem.message).to.match(c.message);
      expect(problem.fix).to.match(c.fix);
      expect(p.entries.map((e) => e.symbol)).to.deep.equal(c.kept ? ['OK', 'FOO'] : ['OK']);
    });
  }

  it('says a first line behind a UTF-8 byte order mark is not read (Kconfig: "unexpected data")', () => {
    const p = parseFragment('\uFEFFCONFIG_A=y\nCONFIG_B=y\n', 'bom.cfg');
    expect(p.problems.map((x) => [x.code, x.severity, x.line])).to.deep.equal([['byte-order-mark', 'error', 1]]);
    expect(p.entries.map((e) => e.symbol)).to.deep.equal(['B']);
  });

  it('notes DOS line endings once per file, as harmless: Kconfig strips the CR', () => {
    const p = parseFragment('CONFIG_A=y\r\nCONFIG_B="x"\r\n', 'dos.cfg');
    expect(p.problems.map((x) => [x.code, x.severity, x.line])).to.deep.equal([['crlf', 'info', 1]]);
    expect(p.entries.map((e) => e.value)).to.deep.equal([{ kind: 'y' }, { kind: 'string', value: 'x' }]);
  });

  it('every line of the real .configs and fragments reads the same through the quick path for common lines as through the full reader', function () {
    this.timeout(60_000);
    // A CR at each line's end sends every line through the full reader (which strips it); the
    // plain file takes the common lines the quick way. Entries and problems must agree, apart
    // from the one note about CR LF line endings.
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else files.push(path.join(d, e.name));
      }
    };
    walk(corpusDir());
    walk(path.resolve(corpusDir(), '../yocto-kernel-cache-fragments'));
    expect(files.length).to.be.greaterThan(700);
    let entries = 0;
    for (const file of files) {
      const text = fs.readFileSync(file, 'latin1').replace(/\r/g, '');
      for (const version of [undefined, { major: 6, minor: 1 }]) {
        const quick = parseFragment(text, file, version);
        const full = parseFragment(text.replace(/\n/g, '\r\n'), file, version);
        expect(full.problems.filter((p) => p.code === 'crlf')).to.have.length(text.includes('\n') ? 1 : 0);
        const a = { ...quick };
        const b = { ...full, problems: full.problems.filter((p) => p.code !== 'crlf') };
        // Compared as JSON first (chai's deep equal of half a million entries takes minutes).
        if (JSON.stringify(a) !== JSON.stringify(b)) expect(a, file).to.deep.equal(b);
        entries += quick.entries.length;
      }
    }
    expect(entries).to.be.greaterThan(500_000);
  });
});
