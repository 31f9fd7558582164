// tus-js-client (npm, Node.js) uploads a file to fhirbox's tus endpoint. With TUS_PAUSE_AT it stops
// before the first PATCH at or past that offset, prints {"paused":offset}, and goes on when a line
// "go" arrives on stdin (the test kills and restarts the server meanwhile); its retryDelays then
// carry it over the outage. Prints one JSON line with the outcome.
import * as tus from 'tus-js-client';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const env = process.env;
const content = readFileSync(env.TUS_FILE);
const pauseAt = env.TUS_PAUSE_AT ? Number(env.TUS_PAUSE_AT) : -1;
let paused = false;
let release = null;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'go' && release) {
    release();
  }
});

const patches = [];
let contentLocation = null;
const upload = new tus.Upload(content, {
  endpoint: env.TUS_ENDPOINT,
  headers: { Authorization: env.TUS_AUTHORIZATION },
  chunkSize: Number(env.TUS_CHUNK),
  metadata: { filename: 'clip.mp4', filetype: 'video/mp4' },
  retryDelays: [0, 500, 1000, 2000, 3000, 5000, 5000, 5000, 5000, 5000, 10000],
  onBeforeRequest: async (req) => {
    if (req.getMethod() !== 'PATCH' || pauseAt < 0 || paused) {
      return;
    }
    const offset = Number(req.getHeader('Upload-Offset'));
    if (offset >= pauseAt) {
      paused = true;
      console.log(JSON.stringify({ paused: offset }));
      await new Promise((resolve) => { release = resolve; });
    }
  },
  onAfterResponse: (req, res) => {
    if (req.getMethod() === 'PATCH') {
      patches.push({ offset: Number(req.getHeader('Upload-Offset')), status: res.getStatus() });
    }
    const location = res.getHeader('Content-Location');
    if (location) {
      contentLocation = location;
    }
  },
  onError: (e) => {
    console.log(JSON.stringify({ error: String(e) }));
    process.exit(1);
  },
  onSuccess: () => {
    console.log(JSON.stringify({ url: upload.url, contentLocation, patches }));
    process.exit(0);
  },
});
upload.start();
