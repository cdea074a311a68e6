/**
 * A simulated machine: the memory system, its cores and the mode switch, built from a
 * validated hardware configuration.
 */
import { Core } from './core.js';
import type { HwConfig } from './machine-config.js';
import { MemorySystem, type MemorySystemOptions } from './memory-system.js';
import { ModeSwitch } from './mode-switch.js';

export class Machine {
  readonly memory: MemorySystem;
  readonly cores: Core[];
  readonly modeSwitch: ModeSwitch;

  constructor(
    readonly hw: HwConfig,
    options: MemorySystemOptions = {},
  ) {
    this.memory = new MemorySystem(hw, options);
    this.cores = [];
    for (let i = 0; i < hw.cores; i++) this.cores.push(new Core(i, this.memory, hw));
    this.modeSwitch = new ModeSwitch(hw);
  }

  cyclesToNs(cycles: number): number {
    return cycles / this.hw.ghz;
  }
}
