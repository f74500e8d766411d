import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { evalExpr, mergeConfig, readKconfigTree, treeKnowledge } from '../../src/kernel/kconfig.js';
import { cachedTreeKnowledge, treeCacheFile } from '../../src/kernel/kconfig-cache.js';
import { parseFragment, type KconfigValue } from '../../src/kernel/fragment.js';

const cfg = (o: Record<string, KconfigValue>) => new Map(Object.entries(o));
const y: KconfigValue = { kind: 'y' };
const m: KconfigValue = { kind: 'm' };

describe('Kconfig expressions and merging', () => {
  const config = cfg({ A: y, B: m, N: { kind: 'n' }, HZ: { kind: 'int', value: '250' }, S: { kind: 'string', value: 'abc' } });
  const cases: [string, number][] = [
    ['A', 2], ['B', 1], ['N', 0], ['MISSING', 0], ['!A', 0], ['!B', 1], ['A && B', 1], ['A || N', 2],
    ['!(A && N)', 2], ['A = y', 2], ['B = m', 2], ['B != y', 2], ['HZ >= 100', 2], ['HZ < 100', 0],
    ['S = "abc"', 2], ['X86_64 || (X86_32 && A)', 0], ['y', 2], ['n', 0],
  ];
  for (const [expr, want] of cases) it(`${expr} is ${['n', 'm', 'y'][want]}`, () => expect(evalExpr(expr, config)).to.equal(want));

  it('merges like merge_config.sh: a fragment line removes every base line for its symbol, then the fragment is appended verbatim', () => {
    const base = '#\n# Linux/x86 6.1.0 Kernel Configuration\n#\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x"\nCONFIG_KEXEC=y\nCONFIG_KEXEC_FILE=y\n';
    const f1 = { text: 'CONFIG_B=y\nCONFIG_C="y"\n' };
    // An invalid value still removes the base line (Kconfig then falls back to the default);
    // a commented-out or space-broken line does not.
    const f2 = { text: '# CONFIG_A is not set\nCONFIG_C="z"\nCONFIG_KEXEC=Y\n# CONFIG_KEXEC_FILE=n\n' };
    expect(mergeConfig(base, [f1, f2])).to.equal([
      '#', '# Linux/x86 6.1.0 Kernel Configuration', '#', 'CONFIG_KEXEC_FILE=y', '',
      'CONFIG_B=y', '',
      '# CONFIG_A is not set', 'CONFIG_C="z"', 'CONFIG_KEXEC=Y', '# CONFIG_KEXEC_FILE=n', '',
    ].join('\n'));
    const merged = parseFragment(mergeConfig(base, [f1, f2]), 'merged');
    expect(merged.entries.map((e) => [e.symbol, e.value])).to.deep.equal([['KEXEC_FILE', y], ['B', y], ['A', { kind: 'n' }], ['C', { kind: 'string', value: 'z' }]]);
  });
});

describe('the Kconfig reader', () => {
  it('tracks if/menu/choice context, selects, prompts with "#" and help text that looks like keywords', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.mkdirSync(path.join(dir, 'arch/x86'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 9\n');
      fs.writeFileSync(path.join(dir, 'Kconfig'), 'mainmenu "test"\nsource "arch/$(SRCARCH)/Kconfig"\n');
      fs.writeFileSync(path.join(dir, 'arch/x86/Kconfig'), [
        'config X86_32', '\tdef_bool y', '\tdepends on !64BIT',
        'config SCRIPTS', '\ttristate "Support for #! scripts" # trailing comment',
        'if X86_32', 'choice', '\tprompt "High Memory Support"', '\tdepends on EXPERT',
        'config HIGHMEM4G', '\tbool "4GB"', '\thelp', '\t  config NOT_A_SYMBOL', '\t  depends on nothing', '',
        'endchoice', 'endif',
        'menu "Debug"', '\tdepends on DEBUG_KERNEL',
        'config DEBUG_INFO', '\tbool', 'config DWARF5', '\tbool "DWARF 5"', '\tselect DEBUG_INFO if !X', 'endmenu', '',
      ].join('\n'));
      const tree = readKconfigTree(dir, 'x86_64');
      expect(tree.version).to.equal('6.1.9');
      expect([...tree.defs.keys()].sort()).to.deep.equal(['DEBUG_INFO', 'DWARF5', 'HIGHMEM4G', 'SCRIPTS', 'X86_32']);
      const hm = tree.defs.get('HIGHMEM4G')![0];
      expect(hm.context.map((c) => [c.kind, c.expr])).to.deep.equal([['if', 'X86_32'], ['choice', 'EXPERT']]);
      expect(hm.choice?.prompt).to.equal('High Memory Support');
      expect(hm.dependsOn).to.deep.equal([]);
      expect(tree.defs.get('SCRIPTS')![0].prompts).to.deep.equal([{ text: 'Support for #! scripts', cond: undefined }]);
      expect(tree.selects.get('DEBUG_INFO')).to.deep.equal([{ by: 'DWARF5', kind: 'select', cond: '!X', file: 'arch/x86/Kconfig', line: 24 }]);
      const why = treeKnowledge(tree).explain('DEBUG_INFO', new Map()).join('\n');
      expect(why).to.match(/defined at arch\/x86\/Kconfig:20 \(bool\)/).and.match(/has no prompt/).and.match(/inside menu at arch\/x86\/Kconfig:18: depends on DEBUG_KERNEL — n here/).and.match(/selected by: DWARF5 if !X/);
      expect(tree.inputs.files).to.deep.equal(['Kconfig', 'arch/x86/Kconfig']);
    } finally {
      cleanup();
    }
  });

  it('keeps the parsed tree in the cache: a second run answers the same from it, and a changed Kconfig file is read again', () => {
    const { dir, cleanup } = tempDir();
    try {
      const src = path.join(dir, 'linux');
      const cache = path.join(dir, 'cache');
      fs.mkdirSync(path.join(src, 'arch/x86'), { recursive: true });
      fs.writeFileSync(path.join(src, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 9\n');
      fs.writeFileSync(path.join(src, 'Kconfig'), 'mainmenu "test"\nsource "arch/$(SRCARCH)/Kconfig"\nosource "arch/missing/Kconfig"\n');
      const kconfig = (prompt: string) => [
        'menu "Debug"', '\tdepends on DEBUG_KERNEL',
        'config DEBUG_INFO', '\tbool', 'config DWARF5', `\tbool "${prompt}"`, '\tselect DEBUG_INFO if !X', 'endmenu',
        'choice', '\tprompt "Timer frequency"', 'config HZ_100', '\tbool "100 HZ"', 'config HZ_250', '\tbool "250 HZ"', 'endchoice', '',
      ].join('\n');
      fs.writeFileSync(path.join(src, 'arch/x86/Kconfig'), kconfig('DWARF 5 — ünïcode'));
      const config = cfg({ DEBUG_KERNEL: y, HZ_100: y });
      const answers = (k: ReturnType<typeof cachedTreeKnowledge>) => ['DEBUG_INFO', 'DWARF5', 'HZ_250', 'X', 'NOPE'].map((s) => [
        s, k.hasSymbol(s), k.symbolType(s), k.hasPrompt(s), k.explain(s, config), k.cause?.(s, y, config),
      ]);
      const first = cachedTreeKnowledge(src, 'x86_64', cache);
      expect(first.fromCache).to.equal(false);
      expect(fs.existsSync(treeCacheFile(src, 'x86_64', cache))).to.equal(true);
      const second = cachedTreeKnowledge(src, 'x86_64', cache);
      expect(second.fromCache).to.equal(true);
      expect(answers(second)).to.deep.equal(answers(first));
      expect(answers(second)[2][5]).to.deep.include({ message: 'CONFIG_HZ_250 is a member of the choice "Timer frequency" (arch/x86/Kconfig:9), which takes one member only: it ended with CONFIG_HZ_100=y' });
      // Another arch is another parse; an edit (same size or not) is seen; so is a file that appears.
      expect(cachedTreeKnowledge(src, 'i386', cache).fromCache).to.equal(false);
      fs.writeFileSync(path.join(src, 'arch/x86/Kconfig'), kconfig('DWARF 5 — ünïcodE'));
      const t = new Date(Date.now() + 5000);
      fs.utimesSync(path.join(src, 'arch/x86/Kconfig'), t, t);
      expect(cachedTreeKnowledge(src, 'x86_64', cache).fromCache).to.equal(false);
      expect(cachedTreeKnowledge(src, 'x86_64', cache).fromCache).to.equal(true);
      fs.mkdirSync(path.join(src, 'arch/missing'));
      fs.writeFileSync(path.join(src, 'arch/missing/Kconfig'), 'config NEW\n\tbool "new"\n');
      const third = cachedTreeKnowledge(src, 'x86_64', cache);
      expect([third.fromCache, third.hasSymbol('NEW')]).to.deep.equal([false, true]);
      // A damaged cache file is parsed again, not trusted; a damaged record is read from the tree.
      const file = treeCacheFile(src, 'x86_64', cache);
      const good = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, '{"format":2,"root"');
      expect(cachedTreeKnowledge(src, 'x86_64', cache).fromCache).to.equal(false);
      fs.writeFileSync(file, good.replace(/"defs":\[\{/g, '"defs":[{{'));
      const damaged = cachedTreeKnowledge(src, 'x86_64', cache);
      expect([damaged.fromCache, damaged.explain('HZ_250', config)]).to.deep.equal([true, first.explain('HZ_250', config)]);
    } finally {
      cleanup();
    }
  });
});
