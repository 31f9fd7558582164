package org.fhirbox.client;

/**
 * Receives transfer progress for an upload or a download.
 *
 * <p>Called on a thread of the transfer (for an upload, one of the HTTP client's own threads,
 * not the caller's; calls of one transfer never overlap), with {@code bytesDone} never decreasing within one
 * attempt (a download that must restart from zero starts again at 0). {@code totalBytes} is -1
 * while the size is unknown (an {@link java.io.InputStream} upload of unknown length, a download
 * whose response has no {@code Content-Length}); such a transfer ends with one call where
 * {@code bytesDone == totalBytes}. Keep the callback cheap: it
 * runs once per buffer.
 *
 * <pre>{@code
 * ProgressListener bar = (done, total) ->
 *     System.err.printf("\r%d / %d bytes", done, total);
 * client.download("Binary/123", Path.of("scan.dcm"), bar);
 * }</pre>
 */
@FunctionalInterface
public interface ProgressListener {
  /** A listener that ignores every call. */
  ProgressListener NONE = (bytesDone, totalBytes) -> { };

  /**
   * Reports {@code bytesDone} of {@code totalBytes} (-1 when unknown).
   *
   * <pre>{@code
   * ProgressListener log = (done, total) -> System.out.println(done + "/" + total);
   * log.onProgress(512, 1024);
   * }</pre>
   */
  void onProgress(long bytesDone, long totalBytes);
}
