/**
 * The only bridge between a window and the main process: `window.outpost`
 * with `call` (the channels of the IPC contract, answered as envelopes) and
 * `on` (the contract's events). Nothing else of Electron or Node reaches the
 * page (contextIsolation on, sandboxed renderer, nodeIntegration off).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CHANNELS, EVENTS, type OutpostApi } from '../shared/ipc.js';
import { errorEnvelope } from '../../../core/model/envelope.js';
import { BadInputError } from '../../../core/model/errors.js';

const api: OutpostApi = {
  call: (channel, args) => {
    if (!(CHANNELS as readonly string[]).includes(channel)) {
      return Promise.resolve(errorEnvelope(new BadInputError(`unknown channel \`${String(channel).slice(0, 40)}\``, { field: 'channel' })));
    }
    return ipcRenderer.invoke(channel, args);
  },
  on: (event, listener) => {
    if (!(EVENTS as readonly string[]).includes(event)) return () => undefined;
    const handler = (_e: IpcRendererEvent, payload: unknown) => listener(payload as never);
    ipcRenderer.on(event, handler);
    return () => {
      ipcRenderer.removeListener(event, handler);
    };
  },
};

contextBridge.exposeInMainWorld('outpost', api);
