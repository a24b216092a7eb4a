import { contentSecurityPolicy, isServerPath } from './serve-web';

describe('serve-web', () => {
  it('never lets the SPA fallback answer a server path', () => {
    for (const path of ['/api', '/api/me', '/rt', '/socket.io/', '/docs', '/docs-json', '/docs/asyncapi.json', '/health/live', '/metrics']) {
      expect({ path, server: isServerPath(path) }).toEqual({ path, server: true });
    }
    for (const path of ['/', '/invite/abc', '/apiary', '/documents', '/healthy']) {
      expect({ path, server: isServerPath(path) }).toEqual({ path, server: false });
    }
  });

  it('allows only the app itself, its socket and blob: media', () => {
    const policy = contentSecurityPolicy('pigeon.example:3000');
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("connect-src 'self' ws://pigeon.example:3000 wss://pigeon.example:3000");
    expect(policy).toContain("media-src 'self' blob:");
    expect(policy).toContain("object-src 'none'");
  });
});
