import { isPublicAddress, targetProblem } from './public-target';

describe('public targets', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    'fd00::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    'not-an-ip',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('accepts %s', (address) =>
    expect(isPublicAddress(address)).toBe(true),
  );

  it('requires https and a public address unless private targets are allowed', async () => {
    expect(await targetProblem('ftp://example.com/x', true)).toMatch(/http/);
    expect(await targetProblem('not a url', true)).toMatch(/absolute/);
    expect(await targetProblem('http://127.0.0.1:9/hook', true)).toBeNull();
    expect(await targetProblem('http://8.8.8.8/hook', false)).toMatch(/https/);
    expect(await targetProblem('https://127.0.0.1/hook', false)).toMatch(/public/);
    expect(await targetProblem('https://[::1]/hook', false)).toMatch(/public/);
    expect(await targetProblem('https://localhost/hook', false)).toMatch(/public|resolve/);
    expect(await targetProblem('https://8.8.8.8/hook', false)).toBeNull();
  });
});
