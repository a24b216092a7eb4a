import { createHmac } from 'node:crypto';
import { iceServersFor, turnCredentials, urlList } from './turn-credentials';

describe(turnCredentials.name, () => {
  it('follows the coturn REST scheme: <unix expiry>:<userId>, base64 HMAC-SHA1 of it', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const sut = turnCredentials('s3cret', 'user-1', 3600, now);
    expect(sut.username).toBe(`${now / 1000 + 3600}:user-1`);
    // The vector computed independently of the code under test.
    expect(sut.credential).toBe(createHmac('sha1', 's3cret').update(`${now / 1000 + 3600}:user-1`).digest('base64'));
    expect(sut.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(sut.expiresAt).toBe('2026-01-01T13:00:00.000Z');
  });

  it('gives a different credential to another user and another secret', () => {
    const a = turnCredentials('s1', 'u1', 60, 0);
    expect(turnCredentials('s1', 'u2', 60, 0).credential).not.toBe(a.credential);
    expect(turnCredentials('s2', 'u1', 60, 0).credential).not.toBe(a.credential);
  });
});

describe(iceServersFor.name, () => {
  it('lists STUN without credentials and TURN with them', () => {
    const sut = iceServersFor({ stunUrls: ['stun:a:3478'], turnUrls: ['turn:a:3478', 'turns:a:5349'], turnSecret: 'x', ttlSeconds: 3600 }, 'u', 0);
    expect(sut.iceServers).toEqual([
      { urls: ['stun:a:3478'] },
      { urls: ['turn:a:3478', 'turns:a:5349'], username: '3600:u', credential: expect.any(String) },
    ]);
    expect(sut.iceServersExpireAt).toBe('1970-01-01T01:00:00.000Z');
  });

  it('gives no TURN entry without a secret or URLs', () => {
    expect(iceServersFor({ stunUrls: [], turnUrls: ['turn:a'], ttlSeconds: 60 }, 'u')).toEqual({ iceServers: [], iceServersExpireAt: null });
    expect(iceServersFor({ stunUrls: [], turnUrls: [], turnSecret: 'x', ttlSeconds: 60 }, 'u')).toEqual({ iceServers: [], iceServersExpireAt: null });
  });

  it('splits comma-separated URL lists', () => {
    expect(urlList(' turn:a:3478 , ,turns:b:5349?transport=tcp')).toEqual(['turn:a:3478', 'turns:b:5349?transport=tcp']);
  });
});
