import type { Command } from './types.js';

/** Every command the CLI offers; each lives in its own file. */
export const commands: Command[] = [];
