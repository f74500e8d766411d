/**
 * Facts about each Yocto Project release the generated layer depends on: the one table.
 * Every fact comes from the recipes and configuration of that release; each row cites them
 * (`sources`, keys below), as src/kernel/rules.ts cites its Kconfig sources.
 *
 *   CORENAMES = OE-Core meta/conf/layer.conf, LAYERSERIES_CORENAMES (from rocko, 2.4; fido
 *               has no LAYERSERIES_COMPAT at all)
 *   POKYKERNEL = meta-poky/conf/distro/poky.conf (meta-yocto/conf/distro/poky.conf in fido),
 *               PREFERRED_VERSION_linux-yocto, and the LINUX_VERSION of that
 *               meta/recipes-kernel/linux/linux-yocto_<v>.bb: fido 3.19 (3.19.2), dunfell 5.4
 *               (5.4.273), kirkstone 5.15 (5.15.186), scarthgap 6.6 (6.6.111), styhead 6.10
 *               (6.10.14), walnascar 6.12 (6.12.47), at the newest point release of each
 *   MDF       = where makedumpfile_<v>.bb lives and its PACKAGECONFIG: none in meta-oe fido
 *               (meta-openembedded fido has no recipes-kernel/makedumpfile); meta-oe dunfell
 *               1.6.7 (no PACKAGECONFIG: zlib only, always linked); meta-oe kirkstone 1.7.1,
 *               scarthgap and styhead 1.7.5 (PACKAGECONFIG ??= "" with [lzo], [snappy],
 *               [zstd]); OE-Core walnascar meta/recipes-kernel/makedumpfile 1.7.7 (same options)
 *   KEXEC     = meta/recipes-kernel/kexec/kexec-tools_<v>.bb: PACKAGES =+ "kexec kdump
 *               vmcore-dmesg", FILES_kexec = "${sbindir}/kexec", and kexec-tools itself only
 *               RRECOMMENDS them (fido 2.0.9 to walnascar 2.0.30)
 *   QEMUBOOT  = meta/classes(-recipe)/qemuboot.bbclass, QB_MEM ?= "-m 256" (dunfell on);
 *               fido has no qemuboot.conf: scripts/runqemu-internal picks the memory
 *               (qemux86-64 256, qemuarm64 512) unless qemuparams has -m
 *   OVERRIDES = BitBake data_smart.py: the `_append` form is fatal from honister (3.4);
 *               dunfell takes both from 3.1.11, so dunfell output keeps the old form every
 *               3.1 point release reads
 *   UNPACK    = base.bbclass: UNPACKDIR from styhead (5.1); S = "${WORKDIR}" is fatal there
 *   SETSID    = who ships setsid (ops-kdump runs dropbear's dbclient under it): fido's busybox
 *               defconfig has "# CONFIG_SETSID is not set" and its util-linux.inc puts setsid
 *               in the util-linux package itself (ALTERNATIVE_${PN} += "setsid ..."); from
 *               dunfell on, meta/recipes-core/busybox/busybox/defconfig has CONFIG_SETSID=y,
 *               but an image need not have busybox, while util-linux splits every program
 *               into its own package (util_linux_binpackages, PACKAGES_DYNAMIC "^${PN}-.*";
 *               ALTERNATIVE_LINK_NAME[setsid] = "${bindir}/setsid"): util-linux-setsid, which
 *               update-alternatives keeps beside busybox's applet
 *   BB126     = BitBake 1.26 (fido) lib/bb/parse/parse_py/ConfHandler.py include(): a
 *               `require` whose name expands to "" hands "" to bb.parse.handle, which fails
 *               with "not a BitBake file"; later BitBake skips an empty include name
 */
type YoctoReleaseRow = Omit<YoctoRelease, 'name'> & { name: string };

/** makedumpfile compressors (besides zlib, always built) the layer can switch on. */
export type MakedumpfileOption = 'lzo' | 'snappy' | 'zstd';

export interface YoctoRelease {
  name: YoctoReleaseName;
  version: string;
  /** `:append` (honister and later) or the legacy `_append`. */
  overrideSyntax: 'colon' | 'underscore';
  /** LAYERSERIES_COMPAT value, or null before the variable existed (rocko, 2.4). */
  layerSeriesCompat: string | null;
  /** linux-yocto version poky prefers (PREFERRED_VERSION_linux-yocto, major.minor). */
  linuxYocto: string;
  /** The makedumpfile recipe of the release: its layer and version, or null when there is none. */
  makedumpfile: { layer: 'meta-oe' | 'core'; version: string } | null;
  /** PACKAGECONFIG options of that recipe: an empty list when it has none (zlib only). */
  makedumpfileOptions: readonly MakedumpfileOption[];
  /** runqemu reads QB_MEM from qemuboot.conf (qemuboot.bbclass); false: runqemu-internal decides. */
  qbMem: boolean;
  /** `require ${@…}` expanding to "" parses (false on BitBake 1.26: "not a BitBake file"). */
  emptyRequireParses: boolean;
  /** Recipes must unpack into UNPACKDIR (S = "${WORKDIR}" is fatal). */
  unpackdir: boolean;
  /** The package that brings `setsid` whatever the image's base utilities (SETSID). */
  setsidPackage: 'util-linux' | 'util-linux-setsid';
  /** Keys of the sources above that back this row. */
  sources: string;
}

const MDF_OPTIONS: readonly MakedumpfileOption[] = ['lzo', 'snappy', 'zstd'];

export const YOCTO_RELEASES = [
  { name: 'fido', version: '1.8', overrideSyntax: 'underscore', layerSeriesCompat: null, linuxYocto: '3.19',
    makedumpfile: null, makedumpfileOptions: [], qbMem: false, emptyRequireParses: false, unpackdir: false, setsidPackage: 'util-linux',
    sources: 'POKYKERNEL, MDF, KEXEC, QEMUBOOT, OVERRIDES, BB126, SETSID' },
  { name: 'dunfell', version: '3.1', overrideSyntax: 'underscore', layerSeriesCompat: 'dunfell', linuxYocto: '5.4',
    makedumpfile: { layer: 'meta-oe', version: '1.6.7' }, makedumpfileOptions: [], qbMem: true, emptyRequireParses: true, unpackdir: false, setsidPackage: 'util-linux-setsid',
    sources: 'CORENAMES, POKYKERNEL, MDF, KEXEC, QEMUBOOT, OVERRIDES, SETSID' },
  { name: 'kirkstone', version: '4.0', overrideSyntax: 'colon', layerSeriesCompat: 'kirkstone', linuxYocto: '5.15',
    makedumpfile: { layer: 'meta-oe', version: '1.7.1' }, makedumpfileOptions: MDF_OPTIONS, qbMem: true, emptyRequireParses: true, unpackdir: false, setsidPackage: 'util-linux-setsid',
    sources: 'CORENAMES, POKYKERNEL, MDF, KEXEC, QEMUBOOT, OVERRIDES, SETSID' },
  { name: 'scarthgap', version: '5.0', overrideSyntax: 'colon', layerSeriesCompat: 'scarthgap', linuxYocto: '6.6',
    makedumpfile: { layer: 'meta-oe', version: '1.7.5' }, makedumpfileOptions: MDF_OPTIONS, qbMem: true, emptyRequireParses: true, unpackdir: false, setsidPackage: 'util-linux-setsid',
    sources: 'CORENAMES, POKYKERNEL, MDF, KEXEC, QEMUBOOT, OVERRIDES, SETSID' },
  { name: 'styhead', version: '5.1', overrideSyntax: 'colon', layerSeriesCompat: 'styhead', linuxYocto: '6.10',
    makedumpfile: { layer: 'meta-oe', version: '1.7.5' }, makedumpfileOptions: MDF_OPTIONS, qbMem: true, emptyRequireParses: true, unpackdir: true, setsidPackage: 'util-linux-setsid',
    sources: 'CORENAMES, POKYKERNEL, MDF, KEXEC, QEMUBOOT, OVERRIDES, UNPACK, SETSID' },
  { name: 'walnascar', version: '5.2', overrideSyntax: 'colon', layerSeriesCompat: 'walnascar', linuxYocto: '6.12',
    makedumpfile: { layer: 'core', version: '1.7.7' }, makedumpfileOptions: MDF_OPTIONS, qbMem: true, emptyRequireParses: true, unpackdir: true, setsidPackage: 'util-linux-setsid',
    sources: 'CORENAMES, POKYKERNEL, MDF, KEXEC, QEMUBOOT, OVERRIDES, UNPACK, SETSID' },
] as const satisfies readonly YoctoReleaseRow[];

export type YoctoReleaseName = (typeof YOCTO_RELEASES)[number]['name'];
export const DEFAULT_YOCTO_RELEASE: YoctoReleaseName = 'scarthgap';

export function yoctoReleaseNames(): YoctoReleaseName[] {
  return YOCTO_RELEASES.map((r) => r.name);
}

export function findYoctoRelease(name: YoctoReleaseName): YoctoRelease {
  const r = YOCTO_RELEASES.find((x) => x.name === name);
  if (!r) throw new Error(`no such Yocto release in the table: ${name}`);
  return r;
}

/** True when the release's own makedumpfile recipe can build `compressor` (zlib always; none needs nothing). */
export function releaseBuildsCompressor(release: YoctoRelease, compressor: string): boolean {
  if (compressor === 'zlib' || compressor === 'none') return true;
  return (release.makedumpfileOptions as readonly string[]).includes(compressor);
}

/**
 * Writes a BitBake override in the release's syntax: `override('RDEPENDS', '${PN}')` is
 * `RDEPENDS:${PN}` from honister on and `RDEPENDS_${PN}` before.
 */
export function override(release: YoctoRelease, variable: string, ...overrides: string[]): string {
  const sep = release.overrideSyntax === 'colon' ? ':' : '_';
  return [variable, ...overrides].join(sep);
}
