import type { MachineProfile } from '../config/types.js';
import { UserError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { as5712 } from './as5712.js';
import { as6712 } from './as6712.js';
import { genericx86_64 } from './genericx86-64.js';
import { qemux86_64 } from './qemux86-64.js';
import { qemuarm64 } from './qemuarm64.js';

/** Built-in machine profiles, sorted by name. Each is data, checked against schemas/machine.schema.json. */
export const MACHINES: readonly MachineProfile[] = [as5712, as6712, genericx86_64, qemuarm64, qemux86_64];

export function machineNames(): string[] {
  return MACHINES.map((m) => m.name);
}

/** The profile named `name`, or a UserError listing the known names. */
export function findMachine(name: string): MachineProfile {
  const m = MACHINES.find((p) => p.name === name);
  if (!m) {
    const near = didYouMean(name, machineNames());
    throw new UserError(`unknown machine '${name}'${near ? ` (did you mean '${near}'?)` : ''}`, {
      hint: `known machines: ${machineNames().join(', ')} (see \`kdump-layer machines\`), or give --config with arch and kernel settings`,
    });
  }
  return m;
}
