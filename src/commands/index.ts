import type { Command } from './types.js';
import { analyzeCommand } from './analyze.js';
import { generate } from './generate.js';
import { init } from './init.js';
import { machines } from './machines.js';
import { pull } from './pull.js';
import { schema } from './schema.js';
import { validateCommand } from './validate.js';

/** Every command the CLI offers; each lives in its own file. */
export const commands: Command[] = [generate, validateCommand, machines, init, schema, analyzeCommand, pull];
