import type { Calls, Channel, EventName, Events, OutpostApi } from '../shared/ipc.js';

declare global {
  interface Window {
    outpost: OutpostApi;
  }
}

/** Calls the main process; an `{error}` answer becomes a thrown Error with its message. */
export async function call<C extends Channel>(channel: C, args: Calls[C]['args']): Promise<Calls[C]['result']> {
  const answer = await window.outpost.call(channel, args);
  if ('error' in answer) throw new Error(answer.error.message);
  return answer.result;
}

export function on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
  return window.outpost.on(event, listener);
}
