import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { HuddleCall } from './huddle';
import './huddle.css';
import type { PigeonClient } from './pigeon';

/**
 * The huddle of the open channel: join/leave, mute, and who is in it (muted, speaking). One
 * HuddleCall per channel; leaving the channel view leaves the call.
 */
export function HuddleBar({ client, channelId, nameOf, meId }: { client: PigeonClient; channelId: string; nameOf(userId: string): string; meId: string }) {
  const audio = useRef<HTMLDivElement>(null);
  const [call, setCall] = useState<HuddleCall | null>(null);
  useEffect(() => {
    const created = new HuddleCall(client, channelId, audio.current!);
    setCall(created);
    return () => created.dispose();
  }, [client, channelId]);
  return (
    <div className="huddle" role="group" aria-label="Huddle">
      {call && <HuddleControls call={call} nameOf={nameOf} meId={meId} />}
      <div ref={audio} className="sr-only" aria-hidden="true" />
    </div>
  );
}

function HuddleControls({ call, nameOf, meId }: { call: HuddleCall; nameOf(userId: string): string; meId: string }) {
  const view = useSyncExternalStore(call.subscribe, call.snapshot);
  const count = view.participants.length;
  return (
    <>
      {view.joined ? (
        <>
          <button type="button" className="huddle-leave" disabled={view.busy} onClick={() => void call.leave()}>
            Leave huddle
          </button>
          <button type="button" className="huddle-mute" aria-pressed={view.muted} onClick={() => void call.setMuted(!view.muted)}>
            Mute
          </button>
        </>
      ) : (
        <button type="button" className="huddle-join" disabled={view.busy} onClick={() => void call.join()}>
          {count > 0 ? `Join huddle (${count})` : 'Start huddle'}
        </button>
      )}
      {count > 0 && (
        <ul className="huddle-participants" aria-label="In the huddle">
          {view.participants.map((p) => {
            const name = `${nameOf(p.userId)}${p.userId === meId ? ' (you)' : ''}`;
            const state = p.muted ? 'muted' : p.speaking ? 'speaking' : 'listening';
            return (
              <li key={p.socketId} className={`huddle-participant ${state}`} data-socket={p.socketId} aria-label={`${name}, ${state}`}>
                <span className="huddle-avatar" aria-hidden="true">
                  {nameOf(p.userId).slice(0, 1).toUpperCase()}
                </span>
                <span>{name}</span>
                {p.muted && <span className="huddle-muted">muted</span>}
              </li>
            );
          })}
        </ul>
      )}
      {view.error && (
        <span role="status" className="error">
          {view.error}
        </span>
      )}
    </>
  );
}
