/**
 * V8 flags Outpost's long-running processes (the TUI, the agent) run with:
 * a 1 MiB young generation and a heap that grows by half after a full
 * collection, not up to 4× (scripts/build.mjs explains the measurements).
 * The bin's interpreter line carries them (written by scripts/build.mjs; a
 * test checks the two agree) and so does the agent's systemd unit.
 */
export const NODE_MEMORY_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--heap-growing-percent=50'];
