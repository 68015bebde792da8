import type { Calls, Channel, EventName, Events, OutpostApi } from '../shared/ipc.js';
import { fromEnvelope } from '../../../core/model/envelope.js';

declare global {
  interface Window {
    outpost: OutpostApi;
  }
}

/**
 * Calls the main process; an `{error}` answer is thrown as its named class
 * (BadInputError, NoSuchContainerError, …: `instanceof`, `code` and
 * `details` as the main process had them). An answer that is no envelope
 * throws a ProtocolError.
 */
export async function call<C extends Channel>(channel: C, args: Calls[C]['args']): Promise<Calls[C]['result']> {
  return fromEnvelope<Calls[C]['result']>(await window.outpost.call(channel, args));
}

export function on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
  return window.outpost.on(event, listener);
}
