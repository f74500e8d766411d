/** A unified diff (`diff -u` style, 3 lines of context) of two texts. Empty when equal. */
export function unifiedDiff(oldText: string | null, newText: string | null, oldName: string, newName: string, context = 3): string {
  if (oldText === newText) return '';
  const a = splitLines(oldText);
  const b = splitLines(newText);
  const ops = diffLines(a, b);
  const hunks: string[] = [];
  // Group edits into hunks with `context` lines around them.
  let i = 0;
  while (i < ops.length) {
    if (ops[i].kind === ' ') {
      i++;
      continue;
    }
    let start = i;
    for (let c = 0; c < context && start > 0 && ops[start - 1].kind === ' '; c++) start--;
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end].kind !== ' ') end++;
      let run = 0;
      while (end + run < ops.length && ops[end + run].kind === ' ') run++;
      if (end + run < ops.length && run <= 2 * context) end += run;
      else {
        end += Math.min(run, context);
        break;
      }
    }
    const slice = ops.slice(start, end);
    const aStart = ops[start].a;
    const bStart = ops[start].b;
    const aLen = slice.filter((o) => o.kind !== '+').length;
    const bLen = slice.filter((o) => o.kind !== '-').length;
    hunks.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (const o of slice) hunks.push(`${o.kind}${o.text}`);
    i = end;
  }
  const header = [`--- ${oldText === null ? '/dev/null' : oldName}`, `+++ ${newText === null ? '/dev/null' : newName}`];
  return `${[...header, ...hunks].join('\n')}\n`;
}

function range(start: number, len: number): string {
  // diff -u numbers lines from 1; an empty range names the line before it.
  return len === 1 ? `${start + 1}` : `${len === 0 ? start : start + 1},${len}`;
}

function splitLines(t: string | null): string[] {
  if (t === null || t === '') return [];
  const lines = t.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  /** Index in the old / new text at this point. */
  a: number;
  b: number;
}

/** Line diff by longest common subsequence (files here are small: a few hundred lines). */
function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let x = n - 1; x >= 0; x--) {
    for (let y = m - 1; y >= 0; y--) {
      lcs[x][y] = a[x] === b[y] ? lcs[x + 1][y + 1] + 1 : Math.max(lcs[x + 1][y], lcs[x][y + 1]);
    }
  }
  const ops: Op[] = [];
  let x = 0;
  let y = 0;
  while (x < n || y < m) {
    if (x < n && y < m && a[x] === b[y]) {
      ops.push({ kind: ' ', text: a[x], a: x, b: y });
      x++;
      y++;
    } else if (y < m && (x >= n || lcs[x][y + 1] >= lcs[x + 1][y])) {
      ops.push({ kind: '+', text: b[y], a: x, b: y });
      y++;
    } else {
      ops.push({ kind: '-', text: a[x], a: x, b: y });
      x++;
    }
  }
  return ops;
}
