import { directMessageKey } from './channel.view';

describe(directMessageKey.name, () => {
  const a = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const b = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

  it('names one set of people the same whatever the order, case or repeats', () => {
    const sut = directMessageKey([b, a]);
    expect(sut).toBe(`${a},${b}`);
    expect(directMessageKey([a, b.toUpperCase(), a])).toBe(sut);
  });

  it('tells different sets apart', () => {
    expect(directMessageKey([a])).not.toBe(directMessageKey([a, b]));
  });
});
