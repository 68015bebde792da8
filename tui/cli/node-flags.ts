/**
 * V8 memory limits for Outpost's long-running processes (the TUI, the agent):
 * a 1 MiB young generation, and a heap that grows by half after a full
 * collection instead of up to 4×. Measured (bench/results/tui.json): the
 * TUI's RSS while following a container that floods a million lines drops
 * from 116–141 MiB to under 90 MiB, for a few more cheap scavenges.
 *
 * The agent's systemd unit passes them on the command line. The bin cannot:
 * any V8 flag given at launch makes V8 refuse the code cache Node ships for
 * its own modules (the cache is keyed by the flags), which cost 15–25 ms of
 * every start here. So the bin starts without flags and `applyMemoryFlags`
 * sets the same limits from inside, after the first frame: a semi-space that
 * never grows past its initial 1 MiB is what `--max-semi-space-size=1` gives,
 * and `--heap-growing-percent` is read at every full collection.
 */
export const NODE_MEMORY_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--heap-growing-percent=50'];

/** The same limits as flags V8 reads while running. */
export const RUNTIME_MEMORY_FLAGS: readonly string[] = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'];

/**
 * Sets RUNTIME_MEMORY_FLAGS. Call it early (before the young generation has
 * grown) but after what must start fast: Node modules first loaded after it
 * compile without Node's code cache.
 */
export async function applyMemoryFlags(): Promise<void> {
  const { setFlagsFromString } = await import('node:v8');
  for (const flag of RUNTIME_MEMORY_FLAGS) setFlagsFromString(flag);
}
