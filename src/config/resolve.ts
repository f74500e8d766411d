import { UserError } from '../errors.js';
import { findMachine } from '../machines/index.js';
import { parseKernelVersion } from '../kernel/version.js';
import { DEFAULT_YOCTO_RELEASE, findYoctoRelease, releaseBuildsCompressor, type YoctoReleaseName } from '../yocto/releases.js';
import { KDUMP_RULES, lookupSymbol } from '../kernel/rules.js';
import { CrashkernelError, MIB, parseCrashkernel, smallestReservation } from './crashkernel.js';
import type { LoadedConfig } from './load.js';
import { readSchema } from './schema.js';
import type { MachineProfile, ResolvedConfig, UploadClient, UploadConfig, UserConfig } from './types.js';

export interface ResolveInput {
  /** `--machine`; wins over the config file's `machine`. */
  machine?: string;
  /** `--yocto`; wins over the config file's `yocto`. */
  yocto?: YoctoReleaseName;
  config?: LoadedConfig;
}

export interface Resolution {
  config: ResolvedConfig;
  /** Things that work but that the user should know (printed to stderr). */
  warnings: string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The `default` of every key in the config schema, as one nested object: defaults live in the schema only. */
export function schemaDefaults(): UserConfig {
  const walk = (node: Record<string, unknown>): Json | undefined => {
    if (node.default !== undefined) return node.default as Json;
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (!props) return undefined;
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(props)) {
      const d = walk(v);
      if (d !== undefined) out[k] = d;
    }
    return Object.keys(out).length ? out : undefined;
  };
  return (walk(readSchema('config')) ?? {}) as UserConfig;
}

/** Objects merge key by key; arrays and scalars are replaced by the later layer. */
function mergeLayers(...layers: (Json | undefined)[]): Json {
  let acc: Json | undefined;
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (acc && typeof acc === 'object' && !Array.isArray(acc) && typeof layer === 'object' && layer && !Array.isArray(layer)) {
      const out: Record<string, Json> = { ...acc };
      for (const [k, v] of Object.entries(layer)) out[k] = mergeLayers(out[k], v);
      acc = out;
    } else {
      acc = structuredClone(layer);
    }
  }
  return acc ?? null;
}

function has(obj: unknown, ...keys: string[]): boolean {
  let cur = obj;
  for (const k of keys) {
    if (!cur || typeof cur !== 'object' || !(k in cur)) return false;
    cur = (cur as Record<string, unknown>)[k];
  }
  return true;
}

const HEX = /^0x[0-9a-fA-F]+$/;

/**
 * Merges built-in defaults (from the schema), the machine profile, the config file and the
 * flags into one ResolvedConfig, and checks what the schema cannot: the machine exists,
 * crashkernel parses, format and compressor agree, hex values are hex.
 */
export function resolveConfig(input: ResolveInput): Resolution {
  const user = input.config?.config ?? {};
  const file = input.config?.file;
  const where = (...keyPath: string[]): string | undefined => {
    if (!input.config) return undefined;
    const line = input.config.lineOf(keyPath);
    return line ? `${file}:${line}: ${keyPath.join('.')}` : `${file}: ${keyPath.join('.')}`;
  };

  const machineName = input.machine ?? user.machine;
  let profile: MachineProfile | undefined;
  if (machineName !== undefined) {
    try {
      profile = findMachine(machineName);
    } catch (err) {
      // Named in the config file (not by --machine): say where.
      if (err instanceof UserError && input.machine === undefined) {
        throw new UserError(err.message, { where: where('machine'), hint: err.hint });
      }
      throw err;
    }
  }

  const merged = mergeLayers(
    schemaDefaults() as Json,
    (profile?.defaults ?? {}) as Json,
    user as Json,
    input.yocto ? { yocto: input.yocto } : undefined,
  ) as unknown as UserConfig;

  // Without a machine profile, the config must say what the target is.
  const required: [string, ...string[]][] = [['arch'], ['bootloader'], ['kernel', 'recipe'], ['kernel', 'version'], ['kernel', 'style'], ['kernel', 'image']];
  const missing = required.filter((k) => !has(merged, ...k)).map((k) => k.join('.'));
  if (missing.length > 0) {
    throw new UserError(`no machine given and the configuration does not say: ${missing.join(', ')}`, {
      where: file,
      hint: 'give --machine NAME (see `kdump-layer machines`) or set these keys in the config file',
    });
  }

  const warnings: string[] = [];
  const dump = merged.dump!;
  const compressorChosen = has(user, 'dump', 'compressor') || has(profile?.defaults, 'dump', 'compressor');
  if (dump.format === 'elf') {
    if (!compressorChosen) dump.compressor = 'none';
    else if (dump.compressor !== 'none') {
      throw new UserError(`compressor '${dump.compressor}' cannot be used with format 'elf' (ELF dumps are not compressed by makedumpfile)`, {
        where: where('dump', 'compressor'),
        hint: "use format 'kdump' to compress, or set compressor: none",
      });
    }
  }

  const release = findYoctoRelease(merged.yocto ?? DEFAULT_YOCTO_RELEASE);
  if (dump.format === 'kdump' && !releaseBuildsCompressor(release, dump.compressor!)) {
    if (compressorChosen) {
      const mdf = release.makedumpfile;
      throw new UserError(
        `compressor '${dump.compressor}' cannot be built on Yocto ${release.name}: ` +
          (mdf ? `its makedumpfile ${mdf.version} recipe (${mdf.layer}) has no PACKAGECONFIG option for it, so makedumpfile would be built with zlib only`
            : 'the release has no makedumpfile recipe, and one brought by you may not have that option'),
        { where: where('dump', 'compressor') ?? (profile ? `machine ${profile.name}` : undefined), hint: "set dump.compressor: zlib (makedumpfile -c), which every makedumpfile builds" },
      );
    }
    // The default (lzo) needs a PACKAGECONFIG option the release's recipe lacks: zlib always builds.
    warnings.push(`dump.compressor '${dump.compressor}' cannot be built on Yocto ${release.name} (${release.makedumpfile ? `makedumpfile ${release.makedumpfile.version} has no PACKAGECONFIG` : 'no makedumpfile recipe'}): the dump uses zlib (makedumpfile -c)`);
    dump.compressor = 'zlib';
  }
  if (!release.makedumpfile) {
    warnings.push(`Yocto ${release.name} has no makedumpfile recipe (neither OE-Core nor meta-oe ${release.name}): add one in your own layer, or the image build stops at "Nothing RPROVIDES 'makedumpfile'" (see the layer README)`);
  }

  try {
    const ck = parseCrashkernel(merged.crashkernel!);
    if (smallestReservation(ck) < 96n * MIB) {
      warnings.push(`crashkernel '${merged.crashkernel}' reserves less than 96M in some case: the capture kernel may fail to load or to boot`);
    }
  } catch (err) {
    if (!(err instanceof CrashkernelError)) throw err;
    throw new UserError(`crashkernel '${merged.crashkernel}' ${err.message}`, {
      where: where('crashkernel') ?? (profile ? `machine ${profile.name}` : undefined),
      hint: "use SIZE[@OFFSET] such as '128M@0M' or ranges such as '0M-2G:128M,2G-8G:256M'",
    });
  }

  const kernel = merged.kernel!;
  // The fragment is written for the kernel the build really uses: the user's kernel.version,
  // else, for linux-yocto, the version the release's poky prefers, else the profile's BSP kernel.
  const versionFrom = has(user, 'kernel', 'version') ? 'config' : kernel.recipe === 'linux-yocto' ? 'release' : 'profile';
  if (versionFrom === 'release') kernel.version = release.linuxYocto;
  // The same reader validate uses: one notion of a kernel version.
  const version = parseKernelVersion(kernel.version!, where('kernel', 'version'));
  for (const rule of KDUMP_RULES.filter((r) => r.id === 'kexec-syscall' || r.id === 'crash-dump')) {
    const exists = rule.oneOf.some((req) => {
      const look = lookupSymbol(req.symbol, merged.arch!, version);
      return !look.known || look.exists;
    });
    if (!exists) {
      const whose = versionFrom === 'release' ? `Yocto ${release.name}'s linux-yocto ${kernel.version}` : `kernel ${kernel.version}`;
      throw new UserError(`${merged.arch} cannot take a crash dump with ${whose}: ${rule.oneOf.map((r) => `CONFIG_${r.symbol}`).join(' / ')} (${rule.title}) does not exist there`, {
        where: where('kernel', 'version') ?? (profile ? `machine ${profile.name}` : undefined),
        hint: 'arm64 has kexec from Linux 4.8 and kdump from 4.12: use a newer Yocto release, or set kernel.version to the newer kernel your BSP builds',
      });
    }
  }
  const extra: Record<string, string | number | boolean> = {};
  for (const [rawKey, value] of Object.entries(kernel.extra_config ?? {})) {
    const key = rawKey.replace(/^CONFIG_/, '');
    const at = () => where('kernel', 'extra_config', rawKey);
    if (key === '' || key.startsWith('CONFIG_')) {
      throw new UserError(key === '' ? `'${rawKey}' names no kernel option` : `kernel option '${rawKey}' has the CONFIG_ prefix twice`, {
        where: at(),
        hint: `write the symbol with at most one CONFIG_, e.g. ${key === '' ? 'KEXEC or CONFIG_KEXEC' : `${key.replace(/^(CONFIG_)+/, '')} or ${key}`}`,
      });
    }
    if (Object.hasOwn(extra, key)) {
      throw new UserError(`kernel option ${key} is given twice (with and without CONFIG_)`, { where: at() });
    }
    if (typeof value === 'string' && /[\u0000-\u0008\u000A-\u001F\u007F]/.test(value)) {
      throw new UserError(`value of ${key} holds a line break or another control character`, {
        where: at(),
        hint: 'a Kconfig string value is one line of text: remove the line breaks',
      });
    }
    if (typeof value === 'string' && /^0x/i.test(value) && !HEX.test(value)) {
      throw new UserError(`value '${value}' of ${key} starts like a hex number but is not one`, {
        where: at(),
        hint: 'hex values are 0x followed by the digits 0-9 and a-f, e.g. 0x1000000',
      });
    }
    extra[key] = value;
  }

  const resolved: ResolvedConfig = {
    machine: profile?.name ?? merged.yocto_machine ?? 'custom',
    yocto: merged.yocto ?? DEFAULT_YOCTO_RELEASE,
    layer: merged.layer as ResolvedConfig['layer'],
    arch: merged.arch!,
    ...(merged.tune ? { tune: merged.tune } : {}),
    yocto_machine: merged.yocto_machine ?? profile?.name ?? 'custom',
    kernel: { ...(kernel as ResolvedConfig['kernel']), extra_config: sortKeys(extra) },
    bootloader: merged.bootloader!,
    crashkernel: merged.crashkernel!,
    dump: dump as ResolvedConfig['dump'],
    archive: merged.archive as ResolvedConfig['archive'],
    actions: merged.actions as ResolvedConfig['actions'],
    upload: resolveUpload(merged.upload as UploadConfig, where, warnings),
    capture: merged.capture as ResolvedConfig['capture'],
  };
  return { config: resolved, warnings };
}

/**
 * The upload target's scheme picks the client unless one is named; the two must agree, and
 * an ssh target needs the collector's pinned host key (an unknown key is never accepted).
 */
function resolveUpload(
  upload: UploadConfig,
  where: (...keyPath: string[]) => string | undefined,
  warnings: string[],
): ResolvedConfig['upload'] {
  const scheme = upload.target === 'none' ? 'none' : upload.target.startsWith('ssh://') ? 'ssh' : 'http';
  const fits: Record<string, UploadClient[]> = { none: ['openssh', 'dropbear', 'curl'], ssh: ['openssh', 'dropbear'], http: ['curl'] };
  const client = upload.client ?? (scheme === 'http' ? 'curl' : 'openssh');
  if (!fits[scheme].includes(client)) {
    throw new UserError(`upload client '${client}' cannot upload to a ${scheme} target`, {
      where: where('upload', 'client'),
      hint: scheme === 'ssh' ? 'use openssh or dropbear for ssh://' : 'use curl for http(s)://',
    });
  }
  if (scheme === 'ssh') {
    const port = /^ssh:\/\/[^/]*:(\d+)\//.exec(upload.target)?.[1];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
      throw new UserError(`upload target port ${port} is not a port number`, { where: where('upload', 'target'), hint: 'use 1 to 65535' });
    }
    if (/(^|\/)\.\.(\/|$)/.test(upload.target.replace(/^ssh:\/\/[^/]*/, ''))) {
      throw new UserError('the upload directory may not contain ..', { where: where('upload', 'target') });
    }
    if (upload.known_hosts.length === 0) {
      throw new UserError('an ssh upload target needs the collector\'s host key in upload.known_hosts', {
        where: where('upload', 'target'),
        hint: 'add the line(s) of `ssh-keyscan -p PORT HOST` checked against the collector itself, e.g. "[collector]:2222 ssh-ed25519 AAAA..."',
      });
    }
  }
  if (scheme === 'http') {
    const named = upload.target.includes('{name}');
    if (!named && upload.target.includes('?')) {
      throw new UserError('an http upload target with a query string must say where the archive name goes: without {name} it is appended to the path', {
        where: where('upload', 'target'),
        hint: 'e.g. https://collector.example.net/kdump/{name}?token=... (an S3 presigned URL signs one object name: it cannot take the name of every archive)',
      });
    }
    if (named && !/^https?:\/\/[^/?]*[/?].*\{name\}/.test(upload.target)) {
      throw new UserError('{name} goes in the upload URL\'s path or query, not in its host', { where: where('upload', 'target') });
    }
  }
  if (upload.target.startsWith('http://')) {
    warnings.push(`upload target ${upload.target.replace(/\/\/[^/@]*@/, '//')} is plain http: dumps (kernel memory, possibly secrets) cross the network unencrypted`);
  }
  return { ...upload, client };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
