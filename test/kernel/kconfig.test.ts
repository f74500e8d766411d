import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/cli.js';
import { evalExpr, mergeConfig, readKconfigTree, indexKconfigTree, treeKnowledge } from '../../src/kernel/kconfig.js';
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
      const index = indexKconfigTree(dir, 'x86_64');
      expect(index.symbols.get('DEBUG_INFO')).to.deep.equal({ type: 'bool', prompt: false });
      expect(index.symbols.get('SCRIPTS')).to.deep.equal({ type: 'tristate', prompt: true });
      expect(index.symbols.has('NOT_A_SYMBOL')).to.equal(false);
    } finally {
      cleanup();
    }
  });
});
