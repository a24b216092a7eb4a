import { useEffect, useState } from 'react';
import type { FloorEvent, PigeonApi, PigeonClient } from './pigeon';

/**
 * The push-to-talk floor of one `ptt` channel as this client knows it: the newest `floor` event
 * (highest `rev`; events from different server nodes may cross) plus this user's place in it.
 */
export function useFloor(api: PigeonApi, client: PigeonClient, workspaceId: string, channelId: string, enabled: boolean): FloorEvent | null {
  const [floor, setFloor] = useState<FloorEvent | null>(null);
  useEffect(() => {
    setFloor(null);
    if (!enabled) return;
    const take = (event: FloorEvent) => setFloor((known) => (known && known.rev >= event.rev ? known : event));
    const onFloor = (event: FloorEvent) => {
      if (event.channelId === channelId) take(event);
    };
    client.on('floor', onFloor);
    // The events say what changes; opening the channel reads what is.
    void api.channels.floor(workspaceId, channelId).then(take, () => undefined);
    return () => {
      client.off('floor', onFloor);
    };
  }, [api, client, workspaceId, channelId, enabled]);
  return floor;
}

export type FloorView = { kind: 'free' } | { kind: 'mine' } | { kind: 'busy'; holder: string } | { kind: 'queued'; position: number };

/** What the hold-to-talk button shows. */
export function floorView(floor: FloorEvent | null, userId: string, queuedAt: number | null): FloorView {
  if (floor?.holder === userId) return { kind: 'mine' };
  const place = floor ? floor.queue.indexOf(userId) : -1;
  if (place >= 0) return { kind: 'queued', position: place + 1 };
  if (queuedAt !== null && !floor) return { kind: 'queued', position: queuedAt };
  if (floor?.holder) return { kind: 'busy', holder: floor.holder };
  return { kind: 'free' };
}
