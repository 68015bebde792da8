/**
 * A tiny real image made from Debian's static busybox: no registry needed.
 * Every applet (sh, sleep, yes, httpd, …) is a symlink to /bin/busybox.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync, writeFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';

export const TEST_IMAGE = 'outpost-test/busybox:latest';

function findBusybox(): string {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  throw new Error('busybox not found: install Debian\'s busybox-static (`apt-get install -y busybox-static`).');
}

export async function importTestImage(dockerHost: string): Promise<void> {
  const busybox = findBusybox();
  const root = mkdtempSync('/tmp/op-rootfs-');
  try {
    const fs = join(root, 'fs');
    for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root']) mkdirSync(join(fs, d), { recursive: true });
    copyFileSync(busybox, join(fs, 'bin', 'busybox'));
    const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
    for (const a of applets) symlinkSync('busybox', join(fs, 'bin', a));
    writeFileSync(join(fs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
    writeFileSync(join(fs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
    const tar = join(root, 'rootfs.tar');
    execFileSync('tar', ['-C', fs, '-cf', tar, '.']);
    const docker = new Docker({ socketPath: dockerHost.replace(/^unix:\/\//, '') });
    const [repo, tag] = TEST_IMAGE.split(':') as [string, string];
    const stream = (await docker.importImage(createReadStream(tar) as never, { repo, tag, changes: "ENV PATH=/bin" } as never)) as unknown as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: unknown) => (err ? reject(err) : resolve())));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
