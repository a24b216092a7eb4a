import { useState, type FormEvent } from 'react';
import { PigeonError, type PigeonApi } from './pigeon';

export function describeError(error: unknown): string {
  if (error instanceof PigeonError) {
    if (error.code === 'RATE_LIMITED') return `Too many attempts; try again in ${Math.ceil((error.retryAfterMs ?? 1000) / 1000)} s.`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function AuthScreen({ api, inviting, onSignedIn }: { api: PigeonApi; inviting: boolean; onSignedIn: () => void }) {
  const [mode, setMode] = useState<'signin' | 'signup'>(inviting ? 'signup' : 'signin');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signup') await api.auth.register({ email, password, displayName });
      else await api.auth.login({ email, password });
      onSignedIn();
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="centered">
      <form className="card auth" onSubmit={(event) => void submit(event)} aria-labelledby="auth-title">
        <h1 id="auth-title">
          <span aria-hidden="true">🐦 </span>Pigeon
        </h1>
        <p className="muted">{inviting ? 'You were invited to a workspace. Sign up or sign in to join.' : 'Voice-first team chat.'}</p>
        <div role="tablist" aria-label="Account" className="tabs">
          <button type="button" role="tab" aria-selected={mode === 'signin'} onClick={() => setMode('signin')}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'signup'} onClick={() => setMode('signup')}>
            Sign up
          </button>
        </div>
        {mode === 'signup' && (
          <label>
            Display name
            <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required maxLength={64} autoComplete="name" />
          </label>
        )}
        <label>
          Email
          <input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            minLength={mode === 'signup' ? 10 : 1}
            autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
          />
        </label>
        {mode === 'signup' && <p className="hint">At least 10 characters.</p>}
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {mode === 'signup' ? 'Create account' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
