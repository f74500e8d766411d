/**
 * Facts about each Yocto Project release the generated layer depends on: the one table.
 * Sources: OE-Core's meta/conf/layer.conf (LAYERSERIES_CORENAMES) at each release; BitBake's
 * data_smart.py (the `_append` form is fatal from honister, 3.4; dunfell takes both from
 * 3.1.11, so dunfell output keeps the old form every 3.1 point release reads); base.bbclass
 * (UNPACKDIR from styhead, 5.1); makedumpfile's recipe is in meta-oe up to styhead and in
 * OE-Core from walnascar. fido (1.8) is the release OpenSwitch's AS5712 images were built
 * with: old override syntax and no LAYERSERIES_COMPAT (it appeared in rocko, 2.4).
 */
type YoctoReleaseRow = Omit<YoctoRelease, 'name'> & { name: string };

export interface YoctoRelease {
  name: YoctoReleaseName;
  version: string;
  /** `:append` (honister and later) or the legacy `_append`. */
  overrideSyntax: 'colon' | 'underscore';
  /** LAYERSERIES_COMPAT value, or null before the variable existed (rocko, 2.4). */
  layerSeriesCompat: string | null;
  /** Which layer provides the makedumpfile recipe. */
  makedumpfileLayer: 'meta-oe' | 'core';
  /** Recipes must unpack into UNPACKDIR (S = "${WORKDIR}" is fatal). */
  unpackdir: boolean;
  /** The SPDX license identifier form LICENSE takes (`MIT` both ways; kept for completeness of intent). */
}

export const YOCTO_RELEASES = [
  { name: 'fido', version: '1.8', overrideSyntax: 'underscore', layerSeriesCompat: null, makedumpfileLayer: 'meta-oe', unpackdir: false },
  { name: 'dunfell', version: '3.1', overrideSyntax: 'underscore', layerSeriesCompat: 'dunfell', makedumpfileLayer: 'meta-oe', unpackdir: false },
  { name: 'kirkstone', version: '4.0', overrideSyntax: 'colon', layerSeriesCompat: 'kirkstone', makedumpfileLayer: 'meta-oe', unpackdir: false },
  { name: 'scarthgap', version: '5.0', overrideSyntax: 'colon', layerSeriesCompat: 'scarthgap', makedumpfileLayer: 'meta-oe', unpackdir: false },
  { name: 'styhead', version: '5.1', overrideSyntax: 'colon', layerSeriesCompat: 'styhead', makedumpfileLayer: 'meta-oe', unpackdir: true },
  { name: 'walnascar', version: '5.2', overrideSyntax: 'colon', layerSeriesCompat: 'walnascar', makedumpfileLayer: 'core', unpackdir: true },
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

/**
 * Writes a BitBake override in the release's syntax: `override('RDEPENDS', '${PN}')` is
 * `RDEPENDS:${PN}` from honister on and `RDEPENDS_${PN}` before.
 */
export function override(release: YoctoRelease, variable: string, ...overrides: string[]): string {
  const sep = release.overrideSyntax === 'colon' ? ':' : '_';
  return [variable, ...overrides].join(sep);
}
