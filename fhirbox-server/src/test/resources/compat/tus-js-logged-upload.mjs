// One tus-js-client upload as TusJsClientTest runs it, in Node.js (tus-js-upload.mjs) and in
// Chromium (the test's page): pieces of `chunkSize`, retryDelays long enough to ride over a server
// restart, a hold before the first PATCH at or past `pauseAt` (-1: none) until the promise
// `paused(offset)` returns settles, and a log of every request the client began, in order:
// { method, url, offset (a PATCH's Upload-Offset) } and, when an answer came, its status and
// Upload-Offset. `done` gets { url, contentLocation, requests } or { error, requests }.
export function startUpload(tus, content, { endpoint, authorization, chunkSize, pauseAt }, { paused, done }) {
  const requests = [];
  const entries = new WeakMap();
  let held = false;
  let contentLocation = null;
  const tusUpload = new tus.Upload(content, {
    endpoint,
    headers: { Authorization: authorization },
    chunkSize,
    metadata: { filename: 'clip.mp4', filetype: 'video/mp4' },
    retryDelays: [0, 500, 1000, 2000, 3000, 5000, 5000, 5000, 5000, 5000, 10000],
    onBeforeRequest: async (req) => {
      const entry = { method: req.getMethod(), url: req.getURL() };
      if (entry.method === 'PATCH') {
        entry.offset = Number(req.getHeader('Upload-Offset'));
      }
      requests.push(entry);
      entries.set(req, entry);
      if (entry.method === 'PATCH' && pauseAt >= 0 && !held && entry.offset >= pauseAt) {
        held = true;
        await paused(entry.offset);
      }
    },
    onAfterResponse: (req, res) => {
      const entry = entries.get(req);
      entry.status = res.getStatus();
      const offset = res.getHeader('Upload-Offset');
      if (offset != null) {
        entry.uploadOffset = Number(offset);
      }
      const location = res.getHeader('Content-Location');
      if (location) {
        contentLocation = location;
      }
    },
    onError: (e) => done({ error: String(e), requests }),
    onSuccess: () => done({ url: tusUpload.url, contentLocation, requests }),
  });
  tusUpload.start();
}
