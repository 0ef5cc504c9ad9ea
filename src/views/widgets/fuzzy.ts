/**
 * Fuzzy matching for the pickers (issue #28): the query's letters in order, not necessarily together
 * (`app_op` finds `application_opened`), case-insensitive. A match scores higher when its letters are
 * consecutive, start words (after `_`, `-`, `.`, `/`, `:`, a space, or a lower→upper change) and start
 * early; the best match comes first, ties by the shorter label, then the list's own order. The matched
 * positions are returned for highlighting.
 */

export interface FuzzyMatch {
  score: number;
  /** Indices (in code points) of the label's matched characters. */
  positions: number[];
}

const SEP = /[_\-./: ]/;

function boundary(chars: string[], i: number): boolean {
  if (i === 0) return true;
  const prev = chars[i - 1]!;
  if (SEP.test(prev)) return true;
  const c = chars[i]!;
  return prev === prev.toLowerCase() && c !== c.toLowerCase();
}

/** The best match of `query` in `label`, or null when its letters are not all there in order. */
export function fuzzyMatch(query: string, label: string): FuzzyMatch | null {
  const q = [...query.toLowerCase()].filter((c) => c !== " ");
  if (!q.length) return { score: 0, positions: [] };
  const chars = [...label];
  const lower = chars.map((c) => c.toLowerCase());
  /** From `s`, every next letter taken greedily: the nearest, or (`prefer`) a word start or the next character when one is in reach. */
  const walk = (s: number, prefer: boolean): number[] | null => {
    const positions = [s];
    let i = s;
    for (let k = 1; k < q.length; k++) {
      let next = -1;
      for (let j = i + 1; j < lower.length; j++) {
        if (lower[j] !== q[k]) continue;
        if (next < 0) next = j;
        if (!prefer || j === i + 1 || boundary(chars, j)) {
          next = j;
          break;
        }
      }
      if (next < 0) return null;
      positions.push(next);
      i = next;
    }
    return positions;
  };
  const scoreOf = (positions: number[]): number => {
    let score = 0;
    positions.forEach((p, k) => {
      score += 1;
      if (boundary(chars, p)) score += 8;
      if (k > 0 && positions[k - 1] === p - 1) score += 6;
      else if (k > 0) score -= Math.min(5, p - positions[k - 1]! - 1);
    });
    return score - Math.min(10, positions[0]!);
  };
  let best: FuzzyMatch | null = null;
  for (let s = 0; s < lower.length; s++) {
    if (lower[s] !== q[0]) continue;
    const plain = walk(s, false);
    if (!plain) break; // a later start has fewer letters after it
    for (const positions of [plain, walk(s, true)]) {
      if (!positions) continue;
      const score = scoreOf(positions);
      if (!best || score > best.score) best = { score, positions };
    }
  }
  return best;
}

/** `items` that match `query`, best first (ties: shorter label, then the original order). */
export function fuzzyFilter<T extends { label: string }>(
  items: readonly T[],
  query: string,
): { item: T; positions: number[] }[] {
  const q = query.trim();
  if (!q) return items.map((item) => ({ item, positions: [] }));
  const out: { item: T; positions: number[]; score: number; i: number }[] = [];
  items.forEach((item, i) => {
    const m = fuzzyMatch(q, item.label);
    if (m) out.push({ item, positions: m.positions, score: m.score, i });
  });
  out.sort((a, b) => b.score - a.score || a.item.label.length - b.item.label.length || a.i - b.i);
  return out.map(({ item, positions }) => ({ item, positions }));
}
