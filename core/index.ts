export type * from './model/types.js';
export * from './model/errors.js';
export { ContainerStore } from './model/container-store.js';
export { resolveContainer } from './model/resolve.js';
export type * from './node.js';
export { Fleet } from './fleet.js';
export { LocalNode, type LocalNodeOptions } from './docker/local-node.js';
export { resolveEndpoint, parseHostUrl, describeEndpoint, type Endpoint } from './docker/endpoint.js';
