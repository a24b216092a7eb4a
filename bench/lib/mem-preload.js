'use strict';
/**
 * Preloaded into a server under test (`node --expose-gc -r bench/lib/mem-preload.js ...`) by the
 * connections scenario; adds nothing to the server's code path. Over IPC:
 *   {type:'bench:mem', gc:true} -> runs a full GC (when --expose-gc), answers
 *   {type:'bench:mem-report', rssKb, heapUsedKb, heapTotalKb, externalKb, arrayBuffersKb}
 * so RSS can be read both as is and after a forced full collection (retained vs not yet collected).
 */
process.on('message', (message) => {
  if (!message || message.type !== 'bench:mem') return;
  if (message.gc && typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
  const m = process.memoryUsage();
  const kb = (n) => Math.round(n / 1024);
  process.send({ type: 'bench:mem-report', rssKb: kb(m.rss), heapUsedKb: kb(m.heapUsed), heapTotalKb: kb(m.heapTotal), externalKb: kb(m.external), arrayBuffersKb: kb(m.arrayBuffers) });
});
