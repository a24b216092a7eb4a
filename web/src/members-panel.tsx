import { useState } from 'react';
import { describeError } from './auth-screen';
import type { PigeonApi, Role } from './pigeon';
import type { ChatStore } from './store';

const ROLES: Role[] = ['owner', 'admin', 'member', 'guest'];

export function MembersPanel({ api, store, workspaceId, canModerate, onChanged, onNotice }: { api: PigeonApi; store: ChatStore; workspaceId: string; canModerate: boolean; onChanged(): void; onNotice(notice: string): void }) {
  const [invite, setInvite] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const members = [...store.members.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
  const createInvite = async (): Promise<void> => {
    try {
      const { code } = await api.invites.create(workspaceId, { role: 'member', expiresInHours: 72 });
      setInvite(`${location.origin}/#/invite/${code}`);
      setCopied(false);
    } catch (error) {
      onNotice(describeError(error));
    }
  };
  return (
    <div>
      <h2>Members</h2>
      {canModerate && (
        <div className="invite">
          <button type="button" className="primary" onClick={() => void createInvite()}>
            Create invite link
          </button>
          {invite && (
            <>
              <label htmlFor="invite-link">Invite link (valid 3 days)</label>
              <input id="invite-link" readOnly value={invite} onFocus={(e) => e.target.select()} />
              <button
                type="button"
                onClick={() => void navigator.clipboard?.writeText(invite).then(() => setCopied(true), () => undefined)}
              >
                {copied ? 'Copied' : 'Copy link'}
              </button>
            </>
          )}
        </div>
      )}
      <ul className="member-list">
        {members.map((member) => (
          <li key={member.userId}>
            <span className={`presence ${member.presence}`} role="img" aria-label={member.presence} />
            <span className="member-name">{member.displayName}</span>
            {canModerate && member.userId !== store.userId ? (
              <>
                <label className="sr-only" htmlFor={`role-${member.userId}`}>
                  Role of {member.displayName}
                </label>
                <select
                  id={`role-${member.userId}`}
                  value={member.role}
                  onChange={(e) => void api.workspaces.setRole(workspaceId, member.userId, e.target.value as Role).then(onChanged, (error: unknown) => onNotice(describeError(error)))}
                >
                  {ROLES.map((role) => (
                    <option key={role} value={role}>
                      {role}
                    </option>
                  ))}
                </select>
                <button
                  type="button"
                  aria-label={`Remove ${member.displayName}`}
                  onClick={() => window.confirm(`Remove ${member.displayName} from the workspace?`) && void api.workspaces.removeMember(workspaceId, member.userId).then(onChanged, (error: unknown) => onNotice(describeError(error)))}
                >
                  Remove
                </button>
              </>
            ) : (
              <span className="role">{member.role}</span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
