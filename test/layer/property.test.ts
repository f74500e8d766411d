import { expect } from 'chai';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { planLayer } from '../../src/layer/plan.js';
import { machineNames } from '../../src/machines/index.js';
import { findYoctoRelease, releaseBuildsCompressor, yoctoReleaseNames } from '../../src/yocto/releases.js';
import { UserError } from '../../src/errors.js';

const size = fc.tuple(fc.integer({ min: 96, max: 4096 }), fc.constantFrom('M')).map(([n, u]) => `${n}${u}`);
const crashkernel = fc.oneof(
  size,
  fc.tuple(size, fc.integer({ min: 0, max: 64 })).map(([s, o]) => `${s}@${o}M`),
  fc.tuple(fc.integer({ min: 1, max: 4 }), size, size).map(([g, a, b]) => `0M-${g}G:${a},${g}G-:${b}`),
);
const pathSeg = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/).filter((s) => s !== '.' && s !== '..');
const absPath = fc.array(pathSeg, { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`);
const kdumpDump = fc.record(
  { format: fc.constant('kdump'), compressor: fc.constantFrom('zlib', 'lzo', 'snappy', 'zstd', 'none'), level: fc.integer({ min: 0, max: 31 }), path: absPath },
  { requiredKeys: [] },
);
const elfDump = fc.record({ format: fc.constant('elf'), level: fc.integer({ min: 0, max: 31 }), path: absPath }, { requiredKeys: ['format'] });
const symbol = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/);
const kvalue = fc.oneof(fc.constantFrom('y', 'm', 'n'), fc.boolean(), fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 0xffffff }).map((n) => `0x${n.toString(16)}`), fc.stringMatching(/^[a-z-]{1,8}$/));

const validConfig = fc.record(
  {
    machine: fc.constantFrom(...machineNames()),
    yocto: fc.constantFrom(...yoctoReleaseNames()),
    crashkernel,
    dump: fc.oneof(kdumpDump, elfDump),
    archive: fc.record(
      { compression: fc.constantFrom('gzip', 'none'), keep: fc.integer({ min: 1, max: 50 }), min_free_mb: fc.nat(4096), files: fc.uniqueArray(absPath, { maxLength: 3 }) },
      { requiredKeys: [] },
    ),
    actions: fc.record({ final: fc.constantFrom('reboot', 'halt', 'poweroff', 'shell'), failure: fc.constantFrom('reboot', 'halt', 'poweroff', 'shell') }, { requiredKeys: [] }),
    kernel: fc.record({ extra_config: fc.dictionary(symbol, kvalue, { maxKeys: 4 }) }, { requiredKeys: [] }),
    layer: fc.record({ priority: fc.integer({ min: 1, max: 99 }), collection: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['machine'] },
).filter((c) =>
  // Refused on purpose (test/layer/releases.test.ts): a compressor the release's makedumpfile
  // cannot build, and arm64 on fido's 3.19 kernel (no kexec before 4.8).
  (c.dump?.format === 'elf' || releaseBuildsCompressor(findYoctoRelease(c.yocto ?? 'scarthgap'), (c.dump as { compressor?: string } | undefined)?.compressor ?? 'zlib'))
  && !(c.yocto === 'fido' && c.machine === 'qemuarm64'));

function render(obj: unknown) {
  const loaded = parseConfigText(stringify(obj), 'prop.yml');
  const { config } = resolveConfig({ config: loaded });
  return planLayer(config, { configFile: 'prop.yml' });
}

describe('generator properties (random configurations)', () => {
  it('every valid configuration renders, deterministically, with its values in kdump.conf', () => {
    fc.assert(
      fc.property(validConfig, (cfg) => {
        const files = render(cfg);
        expect(render(cfg)).to.deep.equal(files);
        const conf = files.find((f) => f.path.endsWith('files/kdump.conf'))!.content;
        if (cfg.archive?.keep !== undefined) expect(conf).to.include(`\nkeep ${cfg.archive.keep}\n`);
        if (cfg.dump?.path !== undefined) expect(conf).to.include(`\npath ${cfg.dump.path}\n`);
        expect(conf).to.include(cfg.dump?.format === 'elf' ? 'makedumpfile -E -f' : 'core_collector makedumpfile');
        const inc = files.find((f) => f.path === 'conf/kdump.inc')!.content;
        if (cfg.crashkernel) expect(inc).to.include(`KDUMP_CRASHKERNEL ?= "${cfg.crashkernel}"`);
        for (const f of files) expect(f.path, 'paths stay inside the layer').not.to.match(/^\/|(^|\/)\.\.(\/|$)/);
      }),
      { numRuns: 150 },
    );
  });

  const breakage = fc.oneof(
    fc.constant<[string[], unknown]>([['dump', 'format'], 'raw']),
    fc.constant<[string[], unknown]>([['archive', 'keep'], 0]),
    fc.constant<[string[], unknown]>([['archive', 'keep'], 'three']),
    fc.constant<[string[], unknown]>([['dump', 'path'], 'relative/path']),
    fc.constant<[string[], unknown]>([['dump', 'path'], '/var/../etc']),
    fc.constant<[string[], unknown]>([['crashkernel'], '64M-32M:1M']),
    fc.constant<[string[], unknown]>([['crashkernel'], '']),
    fc.constant<[string[], unknown]>([['machine'], 'no-such-machine']),
    fc.constant<[string[], unknown]>([['kernel', 'extra_config', 'PHYSICAL_START'], '0xnothex']),
    fc.constant<[string[], unknown]>([['kernel', 'extra_config', 'lower_case'], 'y']),
    fc.constant<[string[], unknown]>([['kernel', 'version'], 'latest']),
    fc.constant<[string[], unknown]>([['layer', 'name'], 'meta/../x']),
    fc.constant<[string[], unknown]>([['bootloader'], 'lilo']),
    fc.constant<[string[], unknown]>([['capture', 'cmdline_append'], ['ok', 'bad"quote']]),
    fc.tuple(fc.stringMatching(/^[a-z_]{1,10}$/), fc.anything().filter((v) => v !== undefined)).filter(([k]) => !['machine', 'yocto', 'layer', 'arch', 'tune', 'kernel', 'bootloader', 'crashkernel', 'dump', 'archive', 'actions', 'capture', 'yocto_machine'].includes(k)).map(([k, v]) => [[k], v] as [string[], unknown]),
  );

  it('every invalid configuration fails with a UserError naming the file, never another error', () => {
    fc.assert(
      fc.property(validConfig, breakage, (cfg, [keyPath, bad]) => {
        const broken = structuredClone(cfg) as Record<string, unknown>;
        let node = broken;
        for (const k of keyPath.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
        node[keyPath[keyPath.length - 1]] = bad;
        if (keyPath[0] === 'dump' && keyPath[1] === 'format') delete (broken.dump as Record<string, unknown>).compressor;
        try {
          render(broken);
        } catch (err) {
          expect(err, String(err)).to.be.instanceOf(UserError);
          expect((err as UserError).format()).to.include('prop.yml');
          return;
        }
        expect.fail(`accepted ${JSON.stringify(broken)}`);
      }),
      { numRuns: 150 },
    );
  });
});
