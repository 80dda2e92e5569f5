import { cpus, loadavg, totalmem } from 'node:os';

/** The 1, 5 and 15 minute load averages at one moment. */
export interface LoadSample {
  readonly at: string;
  readonly loadavg: [number, number, number];
}

/** The machine a run happened on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly platform: string;
}

/** CPU model, core count, memory and platform of this machine. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The load averages now. */
export function loadSample(): LoadSample {
  const [one, five, fifteen] = loadavg().map((value) => Math.round(value * 100) / 100) as [number, number, number];
  return { at: new Date().toISOString(), loadavg: [one, five, fifteen] };
}
