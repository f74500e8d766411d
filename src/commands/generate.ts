import path from 'node:path';
import type { Command } from './types.js';
import { yoctoReleaseNames, type YoctoReleaseName } from '../yocto/releases.js';
import { EXIT_CHECK_FAILED, EXIT_OK, UserError } from '../errors.js';

export const generate: Command = {
  command: 'generate',
  describe: 'Render the bitbake layer (meta-ops-kdump) for a machine',
  builder: (y) =>
    y
      .option('machine', { alias: 'm', type: 'string', describe: 'Built-in machine profile (see `kdump-layer machines`)' })
      .option('config', { alias: 'c', type: 'string', describe: 'Configuration file (YAML or JSON) overriding the profile' })
      .option('out', { alias: 'o', type: 'string', describe: 'Layer directory to write [default: the layer name, meta-ops-kdump]' })
      .option('yocto', { type: 'string', choices: yoctoReleaseNames(), describe: 'Yocto release the layer targets [default: scarthgap]' })
      .option('check', { type: 'boolean', default: false, describe: 'Write nothing; show a diff and exit 1 if the directory differs' })
      .option('force', { type: 'boolean', default: false, describe: 'Overwrite files that were edited by hand' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Write nothing; list what would change' })
      .example('$0 generate --machine as5712', 'write ./meta-ops-kdump for the Accton AS5712')
      .example('$0 generate --machine as5712 --check', 'in CI: fail when the committed layer is stale')
      .example('$0 generate --config kdump.yml --out layers/meta-ops-kdump', 'from your own configuration'),
  run: async (args) => {
    const machine = args.machine as string | undefined;
    const configFile = args.config as string | undefined;
    const yocto = args.yocto as YoctoReleaseName | undefined;
    if (!machine && !configFile) {
      throw new UserError('name a machine or a configuration file', {
        hint: 'e.g. `kdump-layer generate --machine as5712`; `kdump-layer machines` lists the machines',
      });
    }
    if (args.check && args['dry-run']) throw new UserError('--check and --dry-run do not go together', { hint: 'use one of them' });
    // Loaded here, not at CLI start-up, so other commands do not pay for them.
    const [{ loadConfigFile }, { resolveConfig }, { planLayer, regenerateCommand }, { driftDiff, executeApply, planApply, waitForLayer, withLayerLock }, { resolveOutDir, realPathOfMaybeMissing }] =
      await Promise.all([import('../config/load.js'), import('../config/resolve.js'), import('../layer/plan.js'), import('../layer/apply.js'), import('../layer/safepath.js')]);
    const loaded = configFile ? loadConfigFile(configFile) : undefined;
    const { config, warnings } = resolveConfig({ machine, yocto, config: loaded });
    for (const w of warnings) process.stderr.write(`kdump-layer: warning: ${w}\n`);

    const outDir = (args.out as string | undefined) ?? config.layer.name;
    const layerDir = resolveOutDir(outDir);
    // The marker names the config file (links resolved) relative to the layer's parent directory,
    // where the regenerate command runs: however the path was spelled, the files come out the same.
    const inv = { machine, configFile: configFile && configPathForMarker(path.relative(path.dirname(layerDir), realPathOfMaybeMissing(configFile))), yocto };
    const files = planLayer(config, inv);

    const readOnly = Boolean(args.check || args['dry-run']);
    const regen = regenerateCommand(inv);
    if (readOnly) waitForLayer(layerDir);
    const plan = readOnly
      ? planApply(layerDir, files, regen)
      : withLayerLock(layerDir, () => {
        const p = planApply(layerDir, files, regen);
        executeApply(p, Boolean(args.force));
        return p;
      });

    if (args.check) {
      const diff = driftDiff(plan);
      if (diff) {
        process.stdout.write(diff);
        process.stderr.write(`kdump-layer: ${outDir} differs from what \`${regen}\` generates\n`);
        return EXIT_CHECK_FAILED;
      }
      process.stdout.write(`${outDir} is up to date (${files.length} files)\n`);
      return EXIT_OK;
    }
    if (args['dry-run']) {
      for (const l of plan.leftovers) process.stdout.write(`recover  ${path.join(outDir, l)}\n`);
      for (const a of plan.actions) {
        const p = a.kind === 'remove' ? a.path : a.file.path;
        if (a.kind !== 'unchanged') process.stdout.write(`${a.kind.padEnd(8)} ${path.join(outDir, p)}\n`);
      }
      for (const c of plan.conflicts) process.stdout.write(`conflict ${path.join(outDir, c.path)}: ${c.path} ${c.why} (needs --force)\n`);
      return EXIT_OK;
    }
    const count = (k: string) => plan.actions.filter((a) => a.kind === k).length;
    process.stdout.write(
      `${outDir}: ${files.length} files for ${config.machine} (${config.arch}, ${config.kernel.recipe} ${config.kernel.version}, Yocto ${config.yocto}): ` +
        `${count('create')} created, ${count('update') + count('mode')} updated, ${count('remove')} removed, ${count('unchanged')} unchanged\n`,
    );
    return EXIT_OK;
  },
};

/** A path relative to the layer's parent directory, with '/' whatever the platform. */
function configPathForMarker(rel: string): string {
  return rel.split(path.sep).join('/');
}
