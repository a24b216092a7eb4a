/**
 * A minimal typed event emitter with no Node dependency, so the SDK also runs in browsers. A
 * throwing listener does not stop the other listeners or the SDK's own processing: its error is
 * handed to `onListenerError`.
 */

/** Listener signatures by event name; `never[]` accepts any parameter list. */
export type EventMap<Events> = { [K in keyof Events]: (...args: never[]) => void };

export class TypedEmitter<Events extends EventMap<Events>> {
  private readonly listeners = new Map<keyof Events, Set<Events[keyof Events]>>();

  constructor(private readonly onListenerError?: (error: unknown, event: keyof Events) => void) {}

  on<K extends keyof Events>(event: K, listener: Events[K]): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return this;
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): this {
    this.listeners.get(event)?.delete(listener);
    return this;
  }

  once<K extends keyof Events>(event: K, listener: Events[K]): this {
    const wrapper = ((...args: Parameters<Events[K]>) => {
      this.off(event, wrapper);
      (listener as (...params: Parameters<Events[K]>) => void)(...args);
    }) as Events[K];
    return this.on(event, wrapper);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
    return this;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): boolean {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return false;
    // A copy, so listeners that remove themselves (once) do not disturb the iteration.
    for (const listener of [...set]) {
      try {
        (listener as (...params: Parameters<Events[K]>) => void)(...args);
      } catch (error) {
        if (this.onListenerError) this.onListenerError(error, event);
        else throw error;
      }
    }
    return true;
  }
}
