import * as fs from 'node:fs';
import * as path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function lives, for the per-area split. */
function area(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)' || fn === '(root)') return 'v8/program';
  if (url.includes('node_modules/bullmq')) return 'bullmq';
  if (url.includes('node_modules/ioredis') || url.includes('node_modules/redis-parser'))
    return 'ioredis';
  if (url.includes('node_modules/msgpackr')) return 'msgpackr';
  if (url.includes('node_modules/')) return 'other deps';
  if (url.includes('/build/src/')) return 'engine (src)';
  if (url.includes('/build/bench/')) return 'bench pod';
  if (url.startsWith('node:') || url === '') return 'node core';
  return 'other';
}

/**
 * Self time by area and the top functions by self time, from a `node --cpu-prof` file, as text.
 * Percentages are of the busy (non-idle) time.
 */
export function summarizeCpuProfile(file: string, top = 12): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const a = area(url, functionName);
    if (a === 'idle') {
      idle += us;
      continue;
    }
    busy += us;
    areas.set(a, (areas.get(a) ?? 0) + us);
    const where = url ? `${url.replace(/^.*\/(node_modules|build)\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / Math.max(1, busy)).toFixed(1)}%`;
  const lines = [
    `${path.basename(file)}: busy ${(busy / 1000).toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`,
    `  by area: ${[...areas]
      .sort((a, b) => b[1] - a[1])
      .map(([a, us]) => `${a} ${pct(us)}`)
      .join(', ')}`,
    '  top functions (self time):',
    ...[...fns]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([fn, us]) => `    ${pct(us).padStart(6)}  ${fn}`),
  ];
  return lines.join('\n');
}

/** Summaries of every .cpuprofile in `dir`. */
export function summarizeCpuProfiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summarizeCpuProfile(path.join(dir, f)));
}
