import type { Command } from './types.js';
import { validateCommand } from './validate.js';

/** Every command the CLI offers; each lives in its own file. */
export const commands: Command[] = [validateCommand];
