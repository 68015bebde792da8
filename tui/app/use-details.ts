import { useEffect, useState } from 'react';
import type { ContainerDetails, ContainerSummary } from '../../core/model/types.js';
import type { Node } from '../../core/node.js';

/** The selected container's inspect data, for the inspect and stats tabs (read again when its state changes). */
export function useDetails(node: Node | null, selected: ContainerSummary | null, active: boolean): ContainerDetails | null {
  const [details, setDetails] = useState<ContainerDetails | null>(null);
  const id = selected?.id ?? null;
  const state = selected?.state ?? null;
  useEffect(() => {
    if (!node || id === null || !active) return;
    let live = true;
    setDetails(null);
    node.inspect(id).then(
      (d) => live && setDetails(d),
      () => live && setDetails(null),
    );
    return () => {
      live = false;
    };
  }, [node, id, state, active]);
  return details;
}
