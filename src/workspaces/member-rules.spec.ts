import { AppException } from '../common/app.exception';
import { ErrorCode } from '../common/error-code';
import { assertRemoval, assertRoleChange, MemberChange } from './member-rules';
import type { WorkspaceRole } from './workspace-member.entity';

const change = (
  callerRole: WorkspaceRole,
  targetRole: WorkspaceRole,
  overrides: Partial<MemberChange> = {},
): MemberChange => ({
  callerId: 'caller',
  callerRole,
  targetId: 'target',
  targetRole,
  ownerCount: 2,
  ...overrides,
});

function codeOf(action: () => void): ErrorCode | 'ok' {
  try {
    action();
    return 'ok';
  } catch (error) {
    if (error instanceof AppException) return error.code;
    throw error;
  }
}

describe(assertRoleChange.name, () => {
  it.each<[WorkspaceRole, WorkspaceRole, WorkspaceRole, ErrorCode | 'ok']>([
    ['owner', 'member', 'admin', 'ok'],
    ['owner', 'member', 'owner', 'ok'],
    ['owner', 'owner', 'admin', 'ok'],
    ['admin', 'member', 'admin', 'ok'],
    ['admin', 'admin', 'guest', 'ok'],
    ['admin', 'member', 'owner', ErrorCode.FORBIDDEN],
    ['admin', 'owner', 'member', ErrorCode.FORBIDDEN],
    ['member', 'guest', 'member', ErrorCode.FORBIDDEN],
    ['guest', 'member', 'guest', ErrorCode.FORBIDDEN],
  ])('%s changing a %s to %s: %s', (callerRole, targetRole, newRole, expected) => {
    expect(codeOf(() => assertRoleChange(change(callerRole, targetRole), newRole))).toBe(expected);
  });

  it('refuses to demote the last owner, themselves included', () => {
    const sut = change('owner', 'owner', { targetId: 'caller', ownerCount: 1 });
    expect(codeOf(() => assertRoleChange(sut, 'admin'))).toBe(ErrorCode.CONFLICT);
    expect(codeOf(() => assertRoleChange(sut, 'owner'))).toBe('ok');
  });
});

describe(assertRemoval.name, () => {
  it.each<[WorkspaceRole, WorkspaceRole, ErrorCode | 'ok']>([
    ['owner', 'owner', 'ok'],
    ['owner', 'admin', 'ok'],
    ['admin', 'member', 'ok'],
    ['admin', 'admin', 'ok'],
    ['admin', 'owner', ErrorCode.FORBIDDEN],
    ['member', 'guest', ErrorCode.FORBIDDEN],
    ['guest', 'member', ErrorCode.FORBIDDEN],
  ])('%s removing a %s: %s', (callerRole, targetRole, expected) => {
    expect(codeOf(() => assertRemoval(change(callerRole, targetRole)))).toBe(expected);
  });

  it('lets anyone leave, except the last owner', () => {
    expect(codeOf(() => assertRemoval(change('guest', 'guest', { targetId: 'caller' })))).toBe('ok');
    expect(codeOf(() => assertRemoval(change('owner', 'owner', { targetId: 'caller', ownerCount: 2 })))).toBe('ok');
    expect(codeOf(() => assertRemoval(change('owner', 'owner', { targetId: 'caller', ownerCount: 1 })))).toBe(
      ErrorCode.CONFLICT,
    );
  });
});
