import { enterSql } from './tenant-pool';
import { currentTenant, runAsSystem, runAsUser, setProcessContext, systemContext, userContext } from './tenant-context';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

describe('tenant context', () => {
  it('accepts only user ids and scope names, since both end up as SQL literals', () => {
    expect(() => userContext("x'); DROP TABLE messages; --")).toThrow(/not a user id/);
    expect(() => systemContext("auth'; SELECT 1; --")).toThrow(/bad system scope/);
    expect(() => systemContext('')).toThrow(/bad system scope/);
    expect(enterSql(userContext(B, A, A.toUpperCase()))).toBe(`SELECT pigeon_tenant_enter('{${A},${B}}'::uuid[], NULL)`);
    expect(enterSql(systemContext('auth.login'))).toBe(`SELECT pigeon_tenant_enter('{}'::uuid[], 'auth.login')`);
  });

  it('follows the async call chain and falls back to the process context outside any', async () => {
    expect(currentTenant()).toBeNull();
    await runAsUser(A, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      expect(currentTenant()).toEqual({ kind: 'users', userIds: [A] });
      await runAsSystem('test.nested', async () => {
        await Promise.resolve();
        expect(currentTenant()).toEqual({ kind: 'system', scope: 'test.nested' });
      });
      expect(currentTenant()).toEqual({ kind: 'users', userIds: [A] });
    });
    setProcessContext(systemContext('worker'));
    try {
      expect(currentTenant()).toEqual({ kind: 'system', scope: 'worker' });
    } finally {
      setProcessContext(null);
    }
  });
});
