'use strict';
const { io } = require('socket.io-client');

/** A raw socket.io-client on `/rt` (websocket, no reconnection), resolved on the server's `ready`. */
function connectReadySocket(url, token, timeoutMs = 30_000) {
  const socket = io(`${url}/rt`, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready')), timeoutMs);
    socket.once('ready', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

module.exports = { connectReadySocket };
