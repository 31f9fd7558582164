// tus-js-client (npm, Node.js) uploads a file to fhirbox's tus endpoint, as tus-js-logged-upload.mjs
// sets it up. With TUS_PAUSE_AT it stops before the first PATCH at or past that offset, prints
// {"paused":offset}, and goes on when a line "go" arrives on stdin (the test kills the server, or
// gets ready to cut the connection, meanwhile). Prints one JSON line with the outcome and the
// requests the client made.
import * as tus from 'tus-js-client';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { startUpload } from './tus-js-logged-upload.mjs';

const env = process.env;
let release = null;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'go' && release) {
    release();
  }
});

startUpload(tus, readFileSync(env.TUS_FILE), {
  endpoint: env.TUS_ENDPOINT,
  authorization: env.TUS_AUTHORIZATION,
  chunkSize: Number(env.TUS_CHUNK),
  pauseAt: env.TUS_PAUSE_AT ? Number(env.TUS_PAUSE_AT) : -1,
}, {
  paused: (offset) => {
    console.log(JSON.stringify({ paused: offset }));
    return new Promise((resolve) => { release = resolve; });
  },
  done: (result) => {
    console.log(JSON.stringify(result));
    process.exit(result.error ? 1 : 0);
  },
});
