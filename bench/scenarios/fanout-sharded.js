'use strict';
/**
 * fanout-sharded: the fanout scenario with Pigeon's fan-out on a private three-master Redis Cluster
 * (SOCKET_ADAPTER=sharded), on two API nodes so events cross nodes through the shards. Options as
 * fanout's (e.g. --nodes=3, --targets=baseline,pigeon).
 */
const fanout = require('./fanout');

const DEFAULTS = { ...fanout.DEFAULTS, adapter: 'sharded', nodes: 2, targets: 'pigeon' };

module.exports = { DEFAULTS, run: (cfg, context) => fanout.run({ ...DEFAULTS, ...cfg, adapter: 'sharded' }, context) };
