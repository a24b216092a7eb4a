'use strict';
/**
 * A fleet of SDK clients that send at a steady total rate and record everything needed for the
 * reconciliation: every send (clientMsgId, times, outcome), every attempt's error code, every
 * delivered event, every disconnect/ready.
 */
const { randomBytes } = require('node:crypto');
const lib = require('./lib');

class Fleet {
  /**
   * @param sdk the compiled client SDK module
   * @param users [{id, accessToken, channelId}]
   * @param urlFor (index) => base URL the client connects to
   */
  constructor(sdk, users, urlFor, { tag, requestTimeoutMs = 5000, maxOutstanding = 20 } = {}) {
    this.sdk = sdk;
    this.tag = tag || 'chaos';
    this.maxOutstanding = maxOutstanding;
    this.sends = []; // {clientMsgId, client, channelId, tSent, tAck, ok, seq, messageId, error}
    this.errors = {}; // code -> count (every failed attempt of every request)
    this.errorTimes = []; // [t, code]
    this.skipped = 0;
    this.stopped = false;
    this.clients = users.map((user, index) => {
      const client = new sdk.PigeonClient({
        url: urlFor(index),
        token: user.accessToken,
        requestTimeoutMs,
        gapWindowMs: 200,
        backoff: { initialDelayMs: 250, maxDelayMs: 2000 },
        ioOptions: { forceNew: true },
      });
      const state = { index, user, client, channelId: user.channelId, delivered: [], outstanding: 0, seqNo: 0, disconnects: [], readies: [], listenerErrors: [] };
      client.on('event', (e) => {
        if (e.channelId === state.channelId) state.delivered.push({ seq: e.seq, type: e.type, id: e.data && e.data.id, cmid: e.data && e.data.clientMsgId, t: Date.now() });
      });
      client.on('disconnect', (reason) => state.disconnects.push({ t: Date.now(), reason }));
      client.on('ready', () => state.readies.push(Date.now()));
      client.on('error', (error) => state.listenerErrors.push(`${error.code || ''} ${error.message}`));
      // Count every failed attempt (send() retries internally; this sees each attempt's answer).
      const request = client.request.bind(client);
      client.request = async (event, payload, options) => {
        try {
          return await request(event, payload, options);
        } catch (error) {
          const code = `${event}:${error.code || 'UNKNOWN'}`;
          this.errors[code] = (this.errors[code] || 0) + 1;
          this.errorTimes.push([Date.now(), code]);
          throw error;
        }
      };
      return state;
    });
  }

  async connect(concurrency = 20) {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < this.clients.length) {
          const s = this.clients[next++];
          await s.client.connect();
          await s.client.synced();
          s.startSeq = s.client.lastSeq(s.channelId) ?? 0;
        }
      }),
    );
  }

  send(state) {
    if (state.outstanding >= this.maxOutstanding) {
      this.skipped++;
      return;
    }
    const clientMsgId = `${this.tag}-${state.index}-${state.seqNo++}-${randomBytes(4).toString('hex')}`;
    const record = { clientMsgId, client: state.index, channelId: state.channelId, tSent: Date.now(), tAck: 0, ok: false };
    this.sends.push(record);
    state.outstanding++;
    state.client.send({ channelId: state.channelId, clientMsgId, body: `chaos ${clientMsgId}` }).then(
      (message) => {
        record.tAck = Date.now();
        record.ok = true;
        record.seq = message.seq;
        record.messageId = message.id;
      },
      (error) => {
        record.tAck = Date.now();
        record.error = error.code || String(error);
      },
    ).finally(() => state.outstanding--);
  }

  /** Sends `rate` per second in total, round-robin over the clients, until stop(). */
  start(rate) {
    const tickMs = 20;
    let credit = 0;
    let cursor = 0;
    this.stopped = false;
    this.timer = setInterval(() => {
      credit += (rate * tickMs) / 1000;
      while (credit >= 1) {
        credit--;
        this.send(this.clients[cursor]);
        cursor = (cursor + 1) % this.clients.length;
      }
    }, tickMs);
  }

  stop() {
    clearInterval(this.timer);
    this.stopped = true;
  }

  pending() {
    return this.sends.filter((s) => s.tAck === 0).length;
  }

  allReady() {
    return this.clients.every((s) => s.client.isReady);
  }

  /** Waits for every outstanding send to settle (or the timeout). */
  async drain(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (this.pending() > 0 && Date.now() < deadline) await lib.sleep(200);
    return this.pending();
  }

  /** Waits until every client delivered up to its channel head (or the timeout). */
  async converge(heads, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    const behind = () => this.clients.filter((s) => (s.client.lastSeq(s.channelId) ?? 0) < (heads.get(s.channelId) ?? 0));
    while (behind().length > 0 && Date.now() < deadline) await lib.sleep(250);
    await Promise.all(this.clients.map((s) => s.client.synced()));
    return behind().length;
  }

  close() {
    for (const s of this.clients) s.client.disconnect();
  }
}

module.exports = { Fleet };
