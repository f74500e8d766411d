import { distance } from 'fastest-levenshtein';

/**
 * The known name closest to a mistyped one ("did you mean"), or undefined when none is close:
 * at most a third of the name's letters differ (two for short names), case ignored; or the
 * only known name that starts with it.
 */
export function didYouMean(input: string, known: readonly string[]): string | undefined {
  if (input.length > 200) return undefined;
  const wanted = input.toLowerCase();
  const allowed = Math.max(2, Math.ceil(wanted.length / 3));
  const prefixed = wanted.length >= 3 ? known.filter((k) => k.toLowerCase().startsWith(wanted)) : [];
  if (prefixed.length === 1 && prefixed[0] !== input) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(wanted, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best !== undefined && best !== input && bestDistance <= allowed ? best : undefined;
}
