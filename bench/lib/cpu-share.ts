/**
 * How much of the machine's CPU went to processes other than this benchmark (and the
 * twilio-run servers and function processes it started) while it ran: the figures of a shared
 * machine are only as good as its quiet. Linux only (/proc); elsewhere it reports nothing.
 */
import fs from 'node:fs';

interface Sample {
  busy: number;
  total: number;
  ours: number;
}

function readSample(rootPid: number): Sample | undefined {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const total = cpu.reduce((a, b) => a + b, 0);
    const parents = new Map<number, number>();
    const jiffies = new Map<number, number>();
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      // Fields after the command (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      parents.set(pid, Number(fields[1]));
      // utime, stime, and the CPU of children already gone (cutime, cstime)
      jiffies.set(pid, Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
    }
    const inTree = (pid: number): boolean => {
      for (let p = pid, hops = 0; p > 1 && hops < 64; p = parents.get(p) ?? 0, hops++) if (p === rootPid) return true;
      return false;
    };
    let ours = 0;
    for (const [pid, used] of jiffies) if (inTree(pid)) ours += used;
    return { busy: total - idle, total, ours };
  } catch {
    return undefined;
  }
}

export interface CpuTotals {
  /** Jiffies of all cores, of other processes' work, and of ours. */
  total: number;
  others: number;
  ours: number;
}

export interface CpuShareMonitor {
  /** Totals so far (subtract two readings for a stretch of the run). */
  read(): CpuTotals;
  stop(): CpuTotals;
}

/** Share (0..1) of the cores' time between two readings; undefined when /proc gave nothing. */
export function share(from: CpuTotals, to: CpuTotals): { others?: number; ours?: number } {
  const total = to.total - from.total;
  if (total <= 0) return {};
  const round = (v: number) => Math.round((v / total) * 1000) / 1000;
  return { others: round(to.others - from.others), ours: round(to.ours - from.ours) };
}

export function monitorCpuShare(intervalMs = 2000): CpuShareMonitor {
  const root = process.pid;
  const totals: CpuTotals = { total: 0, others: 0, ours: 0 };
  let last = readSample(root);
  const tick = () => {
    const next = readSample(root);
    if (!last || !next) return;
    const dBusy = next.busy - last.busy;
    // Children that exited and were not yet reaped drop out of the tree for a moment: clamp.
    const dOurs = Math.min(dBusy, Math.max(0, next.ours - last.ours));
    totals.total += next.total - last.total;
    totals.ours += dOurs;
    totals.others += Math.max(0, dBusy - dOurs);
    last = next;
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    read: () => {
      tick();
      return { ...totals };
    },
    stop() {
      clearInterval(timer);
      tick();
      return { ...totals };
    },
  };
}
