/**
 * The Electron shell: the only file that imports Electron. It turns the
 * controller's tray model into a Tray and a Menu, its notifications into
 * Notifications, its windows into locked-down BrowserWindows, and forwards
 * IPC. Everything it forwards to is tested without Electron
 * (test/desktop/); this file stays thin on purpose.
 */
import { app, BrowserWindow, ipcMain, Menu, nativeImage, nativeTheme, Notification, session, Tray, type MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import { resolveEndpoint } from '../../../core/docker/endpoint.js';
import { LocalNode } from '../../../core/docker/local-node.js';
import { Fleet } from '../../../core/fleet.js';
import { buildFleet, followPeersFile } from '../../../core/peers/fleet-from-config.js';
import { thisNodeName } from '../../../core/peers/node-name.js';
import { LocalRules } from '../../../core/agent/local-rules.js';
import { defaultRulesFile, stateDir } from '../../../core/agent/store.js';
import { errorEnvelope } from '../../../core/model/envelope.js';
import { NotAllowedError } from '../../../core/model/errors.js';
import { CHANNELS, type EventName, type Events } from '../shared/ipc.js';
import { DesktopController, type Shell } from './controller.js';
import { confSettings } from './settings.js';
import { iconFile, type MenuItem, type TrayLook } from './tray-model.js';

const ASSETS = app.isPackaged ? join(process.resourcesPath, 'assets') : join(__dirname, '..', '..', 'assets');
const PAGES = join(__dirname, 'renderer');
const windows = new Map<'dashboard' | 'settings', BrowserWindow>();
let tray: Tray | null = null;
let controller: DesktopController | null = null;
let lastLook: TrayLook | null = null;

function template(items: MenuItem[]): MenuItemConstructorOptions[] {
  return items.map((i) => ({
    label: i.label,
    type: i.type ?? 'normal',
    enabled: i.enabled ?? true,
    ...(i.checked !== undefined ? { checked: i.checked } : {}),
    ...(i.submenu ? { submenu: template(i.submenu) } : {}),
    ...(i.action ? { click: () => void controller?.onMenu(i.action!) } : {}),
  }));
}

function icon(look: TrayLook) {
  const img = nativeImage.createFromPath(join(ASSETS, iconFile(look.severity, process.platform, nativeTheme.shouldUseDarkColors)));
  if (process.platform === 'darwin') img.setTemplateImage(true);
  return img;
}

function openWindow(kind: 'dashboard' | 'settings'): void {
  const open = windows.get(kind);
  if (open && !open.isDestroyed()) {
    open.show();
    open.focus();
    return;
  }
  const win = new BrowserWindow({
    width: kind === 'dashboard' ? 1200 : 640,
    height: kind === 'dashboard' ? 800 : 560,
    title: kind === 'dashboard' ? 'Outpost' : 'Outpost settings',
    show: false,
    webPreferences: {
      preload: join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  // No remote content: no navigation away from our pages, no new windows.
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => windows.delete(kind));
  void win.loadFile(join(PAGES, `${kind}.html`));
  windows.set(kind, win);
}

const shell: Shell = {
  setTray(look, menu) {
    if (!tray) return;
    if (!lastLook || lastLook.severity !== look.severity) tray.setImage(icon(look));
    lastLook = look;
    tray.setToolTip(look.tooltip);
    // Linux (AppIndicator) ignores clicks: the menu is always attached.
    tray.setContextMenu(Menu.buildFromTemplate(template(menu)));
  },
  notify(n) {
    if (!Notification.isSupported()) return;
    const note = new Notification({ title: n.title, body: n.body, silent: false });
    note.on('click', () => controller?.onNotificationClick(n));
    note.show();
  },
  showWindow: openWindow,
  send<E extends EventName>(event: E, payload: Events[E]) {
    for (const w of windows.values()) if (!w.isDestroyed()) w.webContents.send(event, payload);
  },
  setLoginItem(enabled) {
    app.setLoginItemSettings({ openAtLogin: enabled });
  },
  quit() {
    app.quit();
  },
};

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => openWindow('dashboard'));
  app.on('window-all-closed', () => undefined); // a tray app lives on without windows
  void app.whenReady().then(async () => {
    session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
    // The composition root: this machine's engine, with its rules port on the agent's files, and
    // the peers of the peers file (the same fleet as the TUI's and the CLI's: core/peers).
    const paths = { rulesFile: defaultRulesFile(process.env), stateDir: stateDir(process.env) };
    const node = new LocalNode({ name: thisNodeName(process.env), endpoint: resolveEndpoint(process.env), rules: (n) => new LocalRules(n, paths), stateDir: paths.stateDir });
    let fleet: Fleet;
    try {
      fleet = await buildFleet(process.env, node);
    } catch (err) {
      // A damaged peers file: this machine alone, and a notification says why.
      fleet = new Fleet([node]);
      new Notification({ title: 'Outpost: peers not loaded', body: err instanceof Error ? err.message : String(err) }).show();
    }
    // Unreachable: the tray says so and each node keeps retrying.
    for (const n of fleet.nodes()) n.connect().catch(() => undefined);
    controller = new DesktopController({ fleet, shell, settings: await confSettings(), peersEnv: process.env });
    // Peers changed elsewhere (`outpost peers` in a terminal) join or leave the tray within a second.
    const stopFollowing = followPeersFile(fleet, process.env, {
      onError: (message) => new Notification({ title: 'Outpost: peers not loaded', body: message }).show(),
    });
    for (const channel of CHANNELS) {
      ipcMain.handle(channel, (event, args) => {
        // Only our own pages may call.
        if (!event.senderFrame?.url.startsWith('file://')) return errorEnvelope(new NotAllowedError('not an Outpost window'));
        return controller!.handle(channel, args);
      });
    }
    tray = new Tray(icon({ severity: 'ok', tooltip: 'Outpost' }));
    nativeTheme.on('updated', () => lastLook && tray?.setImage(icon(lastLook)));
    controller.start();
    app.on('before-quit', () => {
      stopFollowing();
      controller?.close();
      void fleet.close();
    });
  });
}
