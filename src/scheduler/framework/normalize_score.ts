// Score normalization shared by plugins (plugins/helper.DefaultNormalizeScore): scale scores so the
// highest becomes maxPriority, optionally reversed so the lowest raw score ranks best.

/** Rescales `scores` in place to [0, maxPriority]; integer division as upstream. */
export function defaultNormalizeScore(maxPriority: number, reverse: boolean, scores: number[]): void {
  let maxCount = 0;
  for (const s of scores) if (s > maxCount) maxCount = s;
  if (maxCount === 0) {
    if (reverse) scores.fill(maxPriority);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    let s = Math.trunc((maxPriority * (scores[i] as number)) / maxCount);
    if (reverse) s = maxPriority - s;
    scores[i] = s;
  }
}
