/**
 * "Did you mean": the known names closest to a mistyped one. Unknown events, unknown property keys,
 * mistyped commands and flags all suggest through here, so they rank alike.
 */

/** Edit distance where swapping two neighbours costs 1 (`cahce` → `cache`), as typos go. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** Up to `n` known names closest to `name` (substring matches first, then edit distance). */
export function closestNames(name: string, known: string[], n = 3): string[] {
  const lower = name.toLowerCase();
  return known
    .map((k) => {
      const kl = k.toLowerCase();
      const sub = kl.includes(lower) || lower.includes(kl) ? 0 : 1;
      return { k, sub, d: editDistance(lower, kl) };
    })
    .sort((a, b) => a.sub - b.sub || a.d - b.d || (a.k < b.k ? -1 : 1))
    .slice(0, n)
    .map((x) => x.k);
}

/**
 * The known names that `name` is plausibly a typo of: within an edit distance of about a third of its
 * length (at least 1), or a prefix of at least 3 characters. Closest first; none when nothing is close,
 * so a command line with a stray word does not get a far-fetched suggestion.
 */
export function likelyNames(name: string, known: string[], n = 3): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(1, Math.round(lower.length / 3));
  return [...new Set(known)]
    .map((k) => ({ k, d: editDistance(lower, k.toLowerCase()) }))
    .filter((x) => x.d <= limit || (lower.length >= 3 && x.k.toLowerCase().startsWith(lower)))
    .sort((a, b) => a.d - b.d || (a.k < b.k ? -1 : 1))
    .slice(0, n)
    .map((x) => x.k);
}
