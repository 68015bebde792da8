/** A container as the model holds it, for pure tests (engine, tray model): every field set, the given ones overridden. */
import type { ContainerSummary } from '../../core/model/types.js';

export function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: 'id-web',
    name: 'web',
    image: 'nginx:1.25',
    imageId: 'sha256:x',
    command: 'nginx',
    created: 0,
    state: 'running',
    status: 'Up',
    health: 'none',
    exitCode: null,
    restartCount: 0,
    startedAt: 0,
    finishedAt: null,
    oomKilled: false,
    composeProject: null,
    composeService: null,
    labels: {},
    ports: [],
    restartPolicy: 'no',
    node: 'local',
    ...over,
  };
}
