/** Pure part of `kdump-layer pull`: reading the device's listing and deciding what to copy. */

/** One archive the device lists (`ops-kdump list -m`). */
export interface DeviceArchive {
  name: string;
  bytes: number;
  /** Recorded when the archive was made; empty when the device has no record. */
  sha256: string;
}

/** What the device said: its dump path and its complete archives. */
export interface DeviceListing {
  path: string;
  archives: DeviceArchive[];
  /** Entries that are not complete archives (incomplete, pending, directories), by name. */
  skipped: { name: string; why: string }[];
}

/** Separates `ops-kdump status -m` from `ops-kdump list -m` in one remote command. */
export const LISTING_SEPARATOR = '--- ops-kdump list ---';

const ARCHIVE_NAME = /^kdump-[A-Za-z0-9._-]+\.tar(\.gz)?$/;
const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;

/**
 * Parses `ops-kdump status -m; echo SEPARATOR; ops-kdump list -m` output. Throws an Error
 * with a plain message when it is not what ops-kdump prints.
 */
export function parseListing(text: string): DeviceListing {
  const at = text.indexOf(`${LISTING_SEPARATOR}\n`);
  if (at < 0) throw new Error('the device did not answer like ops-kdump (is the layer installed and ops-kdump in PATH?)');
  const status = text.slice(0, at);
  const list = text.slice(at + LISTING_SEPARATOR.length + 1);
  const pathLine = /^path=(.*)$/m.exec(status)?.[1];
  if (!pathLine) throw new Error('`ops-kdump status -m` on the device printed no path= line');
  if (!SAFE_PATH.test(pathLine) || pathLine.split('/').includes('..')) {
    throw new Error(`the device's dump path '${pathLine}' has characters pull does not handle`);
  }
  const archives: DeviceArchive[] = [];
  const skipped: DeviceListing['skipped'] = [];
  for (const line of list.split('\n')) {
    if (!line.trim()) continue;
    const cols = line.split('\t');
    if (cols.length < 4) throw new Error(`unexpected line from \`ops-kdump list -m\`: ${JSON.stringify(line)}`);
    const [name, state, bytes] = cols;
    // name, state, bytes, time, result, why, upload state, SHA-256 (ops-kdump list -m)
    const sha = cols[7] ?? '';
    if (state !== 'complete') skipped.push({ name, why: state });
    else if (!ARCHIVE_NAME.test(name)) skipped.push({ name, why: 'not an archive (archive none?)' });
    else if (!/^\d+$/.test(bytes)) throw new Error(`size '${bytes}' of ${name} is not a number`);
    else if (sha !== '' && !/^[0-9a-f]{64}$/.test(sha)) throw new Error(`SHA-256 '${sha}' of ${name} is malformed`);
    else archives.push({ name, bytes: Number(bytes), sha256: sha });
  }
  return { path: pathLine.replace(/\/+$/, '') || '/', archives, skipped };
}

/** `[user@]host`: checked before it reaches ssh's command line. */
export function checkDestination(target: string): string | undefined {
  if (!/^([A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9][A-Za-z0-9.:-]*$/.test(target)) {
    return `'${target}' is not [user@]host`;
  }
  return undefined;
}

/** Single-quotes a word for the remote shell. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
