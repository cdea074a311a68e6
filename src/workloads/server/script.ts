/**
 * From a recorded script step (`mixes.json`) to the syscall catalog: which kernel path a
 * call runs. Calls on sockets take the network paths; calls on files, the paths Table 1
 * calibrated (`newfstatat` is stat, `openat` is open, a file `write` is write).
 */
import type { ScriptStep } from './mixes.js';

export function catalogKind(step: Pick<ScriptStep, 'name' | 'fd'>): string {
  const socket = step.fd.startsWith('TCP') || step.fd.startsWith('UDP');
  switch (step.name) {
    case 'read':
    case 'recvfrom':
    case 'recvmsg':
      return socket ? 'recv' : step.fd === 'pipe' ? 'pipe-read' : 'read';
    case 'write':
    case 'writev':
    case 'sendto':
    case 'sendmsg':
      return socket ? 'send' : step.fd === 'pipe' ? 'pipe-write' : 'write';
    case 'close':
      return socket ? 'close-socket' : 'close';
    case 'newfstatat':
    case 'fstat':
    case 'stat':
      return 'stat';
    case 'openat':
    case 'open':
      return 'open';
    case 'pwrite64':
      return 'pwrite';
    case 'pread64':
      return 'pread';
    default:
      return step.name;
  }
}
