import { fairShares } from './messages.service';

describe(fairShares.name, () => {
  it('answers small backlogs whole and splits the rest evenly', () => {
    expect(fairShares([5, 500, 500], 1000)).toEqual([5, 497, 498]);
    expect(fairShares([20, 20, 20], 50)).toEqual([16, 17, 17]);
  });

  it('never gives more than a need or more than the total', () => {
    for (const [needs, total] of [
      [[0, 0, 3], 10],
      [[1, 1, 1, 1, 1], 2],
      [[1000, 1000], 1000],
      [[], 5],
    ] as [number[], number][]) {
      const shares = fairShares(needs, total);
      shares.forEach((share, i) => expect(share).toBeLessThanOrEqual(needs[i]));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(Math.min(total, needs.reduce((a, b) => a + b, 0)));
    }
  });
});
