// Minimal machine lookup for `validate --machine`; the full machine profiles replace this file.
import type { KernelArch } from '../kernel/arch.js';
import { UserError } from '../errors.js';

export interface MachineProfile {
  name: string;
  arch: KernelArch;
  kernel: { version: string };
}

const MACHINES: readonly MachineProfile[] = [
  { name: 'as5712', arch: 'x86_64', kernel: { version: '3.9.11' } },
  { name: 'qemux86-64', arch: 'x86_64', kernel: { version: '6.6' } },
  { name: 'qemuarm64', arch: 'arm64', kernel: { version: '6.6' } },
];

export function listMachines(): readonly MachineProfile[] {
  return MACHINES;
}

export function findMachine(name: string): MachineProfile {
  const m = MACHINES.find((x) => x.name === name);
  if (!m) {
    throw new UserError(`unknown machine '${name}'`, { hint: `known machines: ${MACHINES.map((x) => x.name).join(', ')}` });
  }
  return m;
}
