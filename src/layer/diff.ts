// The unified diff `generate --check` prints: jsdiff (the `diff` package) does the work; this
// only names a missing side /dev/null, as `diff -u` and git do.
import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff/lib/patch/create.js';

/** A unified diff (`diff -u` style, 3 lines of context) of two texts; null is a missing file. Empty when equal. */
export function unifiedDiff(oldText: string | null, newText: string | null, oldName: string, newName: string, context = 3): string {
  if (oldText === newText) return '';
  const patch = structuredPatch(
    oldText === null ? '/dev/null' : oldName,
    newText === null ? '/dev/null' : newName,
    oldText ?? '',
    newText ?? '',
    undefined,
    undefined,
    { context },
  );
  return formatPatch(patch, FILE_HEADERS_ONLY);
}
