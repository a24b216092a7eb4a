'use strict';
/** Summarizes a .cpuprofile: top functions by self time, and self time by package/area. */
const fs = require('node:fs');

function area(url) {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node core';
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `pigeon ${url.slice(dist + 6).split('/')[0]}`;
  return url.replace(/^file:\/\//, '');
}

function summarize(file, top = 15) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas || [];
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (deltas[i] ?? 0)));
  const totalUs = deltas.reduce((a, b) => a + Math.max(0, b), 0) || 1;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of self) {
    const node = byId.get(id);
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    const short = cf.url ? cf.url.replace(/^.*\/(node_modules\/|dist\/)/, '$1') : '';
    const key = `${name} ${short}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const a = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : area(cf.url);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const pct = (us) => Math.round((us / totalUs) * 1000) / 10;
  const sort = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    file,
    durationMs: Math.round(totalUs / 1000),
    topFunctions: sort(fns)
      .slice(0, top)
      .map(([fn, us]) => ({ fn, selfMs: Math.round(us / 1000), pct: pct(us) })),
    byArea: sort(areas)
      .slice(0, top)
      .map(([name, us]) => ({ area: name, selfMs: Math.round(us / 1000), pct: pct(us) })),
  };
}

module.exports = { summarize };

if (require.main === module) {
  const out = summarize(process.argv[2], Number(process.argv[3] ?? 25));
  console.log(JSON.stringify(out, null, 2));
}
