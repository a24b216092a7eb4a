import { useEffect, useMemo, useState } from 'react';
import { AuthScreen } from './auth-screen';
import { ChatScreen } from './chat-screen';
import { createApi, PigeonError, type User, type Workspace } from './pigeon';

/** `#/invite/<code>` opens an invite; it survives signing up or in. */
function inviteFromHash(): string | null {
  const match = /^#\/invite\/([A-Za-z0-9_-]+)/.exec(location.hash);
  return match ? match[1] : null;
}

export function App() {
  const [signedIn, setSignedIn] = useState(true);
  const api = useMemo(() => createApi(() => setSignedIn(false)), []);
  const [user, setUser] = useState<User | null>(null);
  const [workspaces, setWorkspaces] = useState<Workspace[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [openWorkspace, setOpenWorkspace] = useState<string | null>(null);

  const load = async (): Promise<void> => {
    if (!api.session()) {
      setSignedIn(false);
      return;
    }
    try {
      const me = await api.me();
      const invite = inviteFromHash();
      let target: string | null = null;
      if (invite) {
        try {
          target = (await api.invites.accept(invite)).workspaceId;
          setNotice('You joined the workspace.');
        } catch (error) {
          setNotice(error instanceof PigeonError && error.code === 'NOT_FOUND' ? 'That invite link is invalid, expired or used up.' : `Invite failed: ${String(error)}`);
        }
        history.replaceState(null, '', location.pathname);
      }
      const list = await api.workspaces.list();
      setUser(me);
      setWorkspaces(list);
      setOpenWorkspace(target ?? list[0]?.id ?? null);
      setSignedIn(true);
    } catch (error) {
      if (error instanceof PigeonError && error.code === 'UNAUTHORIZED') setSignedIn(false);
      else setNotice(`Could not reach Pigeon: ${String(error)}`);
    }
  };

  // Notices fade after a while; errors stay until dismissed (they are set as alerts elsewhere).
  useEffect(() => {
    if (!notice) return;
    const timer = setTimeout(() => setNotice((current) => (current === notice ? null : current)), 8000);
    return () => clearTimeout(timer);
  }, [notice]);

  useEffect(() => {
    void load();
  }, []);

  if (!signedIn || !api.session()) {
    return <AuthScreen api={api} inviting={inviteFromHash() !== null} onSignedIn={() => void load()} />;
  }
  if (!user || !workspaces) {
    return (
      <main className="centered" aria-busy="true">
        <p>{notice ?? 'Loading…'}</p>
      </main>
    );
  }
  return (
    <ChatScreen
      api={api}
      user={user}
      workspaces={workspaces}
      workspaceId={openWorkspace}
      notice={notice}
      onNotice={setNotice}
      onOpenWorkspace={setOpenWorkspace}
      onWorkspaces={setWorkspaces}
      onSignOut={() => void api.auth.logout()}
    />
  );
}
