// Generated bad input for config loading and fragment parsing, in process: whatever comes in,
// the outcome is a result or a UserError (exit 2 with a message), never another exception.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { planLayer } from '../../src/layer/plan.js';
import { parseFragment } from '../../src/kernel/fragment.js';
import { runValidate } from '../../src/kernel/validate.js';
import { renderText } from '../../src/report/text.js';
import { renderJunit } from '../../src/report/junit.js';
import { renderGithub } from '../../src/report/github.js';
import { renderJson } from '../../src/report/json.js';
import { UserError } from '../../src/errors.js';
import { machineNames } from '../../src/machines/index.js';
import { tempDir } from '../helpers/cli.js';
import { hostileString } from './inputs.js';

const hostileNumber = fc.oneof(
  fc.integer(), fc.double(), fc.constantFrom(1e21, -1e21, 2 ** 53 + 1, -(2 ** 63), Number.MAX_VALUE, 0.5, -0),
);

const scalar = fc.oneof(hostileString, hostileNumber, fc.boolean(), fc.constant(null));

const TOP_KEYS = ['machine', 'yocto', 'layer', 'arch', 'tune', 'yocto_machine', 'kernel', 'bootloader', 'crashkernel', 'dump', 'archive', 'actions', 'capture', '$schema'];
const NESTED_KEYS = ['name', 'collection', 'priority', 'maintainer', 'recipe', 'version', 'style', 'image', 'extra_config', 'path', 'format', 'level',
  'compressor', 'message_level', 'dmesg', 'compression', 'stage', 'recompress', 'files', 'keep', 'min_free_mb', 'final', 'failure', 'cmdline_remove', 'cmdline_append'];
const key = fc.oneof(fc.constantFrom(...TOP_KEYS, ...NESTED_KEYS), fc.stringMatching(/^(CONFIG_){0,2}[A-Z0-9_]{0,12}$/), hostileString);

const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(key, tie('v'), { maxKeys: 5 })),
})).v;

/** A document that looks like a configuration: the schema's keys, with values of any shape. */
const configLike = fc.record(
  {
    machine: fc.oneof(fc.constantFrom(...machineNames()), hostileString),
    kernel: fc.record({ extra_config: fc.dictionary(key, scalar, { maxKeys: 6 }), version: fc.oneof(fc.constantFrom('6.6', '3.9.11'), hostileString) }, { requiredKeys: [] }),
    dump: fc.record({ path: hostileString, format: fc.oneof(fc.constantFrom('elf', 'kdump'), hostileString), level: hostileNumber }, { requiredKeys: [] }),
    archive: fc.record({ min_free_mb: hostileNumber, keep: hostileNumber, files: fc.array(hostileString, { maxLength: 3 }) }, { requiredKeys: [] }),
    crashkernel: fc.oneof(fc.constantFrom('128M', '0M-2G:128M,2G-:256M'), hostileString),
    layer: fc.dictionary(key, scalar, { maxKeys: 3 }),
    other: fc.dictionary(key, value, { maxKeys: 3 }),
  },
  { requiredKeys: [] },
).map(({ other, ...rest }) => ({ ...other, ...rest }));

/** YAML text: the document serialized as YAML or JSON, or mangled text, or YAML's own traps. */
const configText = fc.oneof(
  configLike.map((d) => stringify(d)),
  configLike.map((d) => JSON.stringify(d)),
  fc.dictionary(key, value, { maxKeys: 6 }).map((d) => stringify(d)),
  fc.tuple(configLike.map((d) => stringify(d)), fc.nat(), hostileString).map(([t, at, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice(at % (t.length + 1))),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    'machine: *nope\n',
    'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n',
    'machine: as5712\nmachine: as6712\n',
    '[' .repeat(5000) + ']'.repeat(5000),
    '{a: '.repeat(3000) + '1' + '}'.repeat(3000),
    '---\nmachine: as5712\n---\nmachine: as6712\n',
    '!!binary aGVsbG8=\n',
    '? [a, b]\n: c\n',
    'machine: !!js/function "x"\n',
  ),
);

function expectUserErrorOnly(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof UserError) {
      expect(err.exitCode).to.equal(2);
      expect(err.format()).to.be.a('string').and.not.match(/\n\s+at /);
      return;
    }
    throw err;
  }
}

describe('generated bad input, in process', function () {
  this.timeout(300_000);

  it('config loading: a result or a UserError for 2000 generated documents (YAML, JSON, mangled text)', () => {
    fc.assert(
      fc.property(configText, (text) => {
        expectUserErrorOnly(() => {
          const loaded = parseConfigText(text, 'k.yml');
          const { config } = resolveConfig({ config: loaded });
          // What resolves must also render: planning is where a bad value used to become an internal error.
          const files = planLayer(config, { configFile: 'k.yml' });
          expect(files.length).to.be.greaterThan(10);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('a config with 20 000 extra_config keys loads and renders (linear in the keys)', () => {
    let text = 'machine: as5712\nkernel:\n  extra_config:\n';
    for (let i = 0; i < 20_000; i++) text += `    K${i}: y\n`;
    const { config } = resolveConfig({ config: parseConfigText(text, 'k.yml') });
    const frag = planLayer(config, { configFile: 'k.yml' }).find((f) => f.path.endsWith('kdump.cfg'));
    expect(frag?.content).to.include('CONFIG_K19999=y');
  });

  it('fragment parsing and every report format: 2000 generated fragments give a report or a UserError', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const line = fc.oneof(
        fc.constantFrom('CONFIG_KEXEC=y', '# CONFIG_KEXEC is not set', 'CONFIG_CMDLINE="a b"', 'CONFIG_PHYSICAL_START=0x1000000', 'CONFIG_X=', '#',
          '# Linux/x86 6.1.0 Kernel Configuration', '# Linux/mips 6.1.0 Kernel Configuration', '# Linux/x86 latest Kernel Configuration', 'CONFIG_NR_CPUS=99999999999999999999999'),
        fc.tuple(fc.stringMatching(/^[A-Za-z0-9_]{0,12}$/), hostileString).map(([s, v]) => `CONFIG_${s}=${v}`),
        hostileString,
      );
      const fragment = fc.tuple(fc.array(line, { maxLength: 12 }), fc.constantFrom('\n', '\r\n')).map(([ls, eol]) => ls.join(eol));
      const file = path.join(dir, 'f.cfg');
      await fc.assert(
        fc.asyncProperty(fragment, fc.constantFrom('x86_64', 'arm64', 'riscv64'), fc.constantFrom('6.6', '3.9.11', '5.15.0-1034-azure'), async (text, arch, kernelVersion) => {
          fs.writeFileSync(file, text);
          const parsed = parseFragment(text, file);
          // Every entry and every problem names a line of the file.
          const lineCount = text.split('\n').length;
          for (const x of [...parsed.entries, ...parsed.problems]) expect(x.line).to.be.within(1, lineCount);
          expect(parsed.entries.length).to.be.at.most(lineCount);
          try {
            const report = await runValidate({ files: [file], arch, kernelVersion });
            renderText(report, { color: true });
            renderJson(report);
            renderGithub(report);
            const xml = renderJunit(report);
            expect(xml).to.not.match(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
            expect(xml).to.not.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
          } catch (err) {
            if (!(err instanceof UserError)) throw err;
          }
        }),
        { numRuns: 2000 },
      );
    } finally {
      cleanup();
    }
  });
});
