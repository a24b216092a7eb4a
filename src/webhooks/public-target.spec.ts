import { isPublicAddress, NonPublicTargetError, pinnedLookup, targetProblem } from './public-target';

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
    // The audit's gaps: IPv4-compatible, 6to4 carrying a private IPv4, site-local, NAT64, Teredo.
    '::7f00:1',
    '::a00:1',
    '2002:7f00:1::1',
    '2002:c0a8:101::1',
    'fec0::1',
    '64:ff9b::7f00:1',
    '2001::1',
    '2001:db8::1',
    '198.18.0.1',
    '255.255.255.255',
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

  it('pins the connection to checked addresses: a name that resolves to loopback is refused at connect time', async () => {
    const lookup = pinnedLookup(false);
    const refused = await new Promise<unknown>((resolve) => lookup('localhost', {}, (error) => resolve(error)));
    expect(refused).toBeInstanceOf(NonPublicTargetError);
    const allowed = await new Promise<string>((resolve, reject) =>
      pinnedLookup(true)('localhost', { family: 4 }, (error, address) => (error ? reject(error) : resolve(address as string))),
    );
    expect(allowed).toBe('127.0.0.1');
  });
});
