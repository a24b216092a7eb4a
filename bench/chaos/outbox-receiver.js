'use strict';
/**
 * The outbox scenario's loopback receivers in a process of their own, so a busy harness never
 * answers late (a late answer makes the sender time out and retry, which is not what is measured).
 * POST /hook: a webhook delivery (counted by Pigeon-Delivery). POST /push/<id>: a push (body kept).
 * GET /__dump: everything received. Prints its port to the parent over IPC.
 */
const http = require('node:http');

const hooks = {};
const pushes = [];
const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (c) => chunks.push(c));
  request.on('end', () => {
    if (request.method === 'GET' && request.url === '/__dump') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ hooks, pushes }));
      return;
    }
    if (request.url.startsWith('/push/')) {
      pushes.push({ path: request.url, body: Buffer.concat(chunks).toString('base64'), t: Date.now() });
      response.statusCode = 201;
    } else {
      const id = String(request.headers['pigeon-delivery']);
      hooks[id] = (hooks[id] || 0) + 1;
      response.statusCode = 204;
    }
    response.end();
  });
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
