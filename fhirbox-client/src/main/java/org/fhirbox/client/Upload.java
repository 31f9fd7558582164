package org.fhirbox.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * What to upload: the content (bytes, a file, or a stream of known or unknown length), its
 * content type, and the optional file name, security context and progress listener. Immutable;
 * the {@code with...} methods return a copy. Files and streams are sent as they are read, never
 * loaded into memory; a stream of unknown length is sent with chunked transfer encoding.
 *
 * <pre>{@code
 * Binary b = client.createBinary(Upload.of(Path.of("scan.pdf"), "application/pdf")
 *     .withSecurityContext("Patient/123")
 *     .withProgress((done, total) -> System.err.printf("\r%d%%", 100 * done / total)));
 * }</pre>
 */
public final class Upload {
  private final byte[] bytes;
  private final Path file;
  private final InputStream stream;
  private final long length;
  private final String contentType;
  private final String filename;
  private final String securityContext;
  private final ProgressListener progress;

  private Upload(byte[] bytes, Path file, InputStream stream, long length, String contentType, String filename,
      String securityContext, ProgressListener progress) {
    this.bytes = bytes;
    this.file = file;
    this.stream = stream;
    this.length = length;
    this.contentType = contentType == null || contentType.isBlank() ? "application/octet-stream" : contentType;
    this.filename = filename;
    this.securityContext = securityContext;
    this.progress = progress == null ? ProgressListener.NONE : progress;
  }

  /**
   * Content held in memory.
   *
   * <pre>{@code
   * Upload u = Upload.of("hello".getBytes(StandardCharsets.UTF_8), "text/plain").withFilename("hello.txt");
   * }</pre>
   */
  public static Upload of(byte[] data, String contentType) {
    Objects.requireNonNull(data, "data");
    return new Upload(data, null, null, data.length, contentType, null, null, null);
  }

  /**
   * A file, streamed from disk; the file name defaults to the path's last element.
   *
   * <pre>{@code
   * Upload u = Upload.of(Path.of("/scans/chest.dcm"), "application/dicom");
   * }</pre>
   */
  public static Upload of(Path file, String contentType) {
    Objects.requireNonNull(file, "file");
    Path name = file.getFileName();
    return new Upload(null, file, null, -1, contentType, name == null ? null : name.toString(), null, null);
  }

  /**
   * A stream of {@code length} bytes, or of unknown length when {@code length} is -1 (sent
   * chunked). The stream is read once and closed after the upload, also one that failed; an upload from a stream is
   * therefore never retried.
   *
   * <pre>{@code
   * try (InputStream in = socket.getInputStream()) {
   *   client.createBinary(Upload.of(in, -1, "video/mp4").withFilename("capture.mp4"));
   * }
   * }</pre>
   */
  public static Upload of(InputStream in, long length, String contentType) {
    Objects.requireNonNull(in, "in");
    if (length < -1) {
      throw new IllegalArgumentException("length must be -1 (unknown) or the byte count");
    }
    return new Upload(null, null, in, length, contentType, null, null, null);
  }

  /**
   * A copy with {@code filename} (sent as {@code _filename}; becomes the Attachment's title).
   *
   * <pre>{@code
   * Upload u = Upload.of(bytes, "application/pdf").withFilename("report.pdf");
   * }</pre>
   */
  public Upload withFilename(String filename) {
    return new Upload(bytes, file, stream, length, contentType, filename, securityContext, progress);
  }

  /**
   * A copy whose Binary gets {@code securityContext} (a reference such as {@code Patient/123}),
   * sent as the {@code X-Security-Context} header: who may read the Binary follows who may read
   * that resource. Null means none; a blank one is refused (IllegalArgumentException), rather than
   * taken for none, so that an unset value never leaves a Binary unguarded unnoticed.
   *
   * <pre>{@code
   * Upload u = Upload.of(bytes, "image/png").withSecurityContext("Patient/123");
   * }</pre>
   */
  public Upload withSecurityContext(String securityContext) {
    if (securityContext != null && securityContext.isBlank()) {
      throw new IllegalArgumentException("securityContext is blank; pass a reference such as Patient/123, or null"
          + " for none");
    }
    return new Upload(bytes, file, stream, length, contentType, filename, securityContext, progress);
  }

  /**
   * A copy that reports upload progress to {@code listener}.
   *
   * <pre>{@code
   * Upload u = Upload.of(Path.of("big.mp4"), "video/mp4")
   *     .withProgress((done, total) -> System.err.printf("\r%d / %d", done, total));
   * }</pre>
   */
  public Upload withProgress(ProgressListener listener) {
    return new Upload(bytes, file, stream, length, contentType, filename, securityContext, listener);
  }

  String contentType() {
    return contentType;
  }

  String filename() {
    return filename;
  }

  String securityContext() {
    return securityContext;
  }

  ProgressListener progress() {
    return progress;
  }

  /** The file to send, or null for bytes and streams. */
  Path file() {
    return file;
  }

  /** Bytes and files can be sent again (after a token refresh); a stream cannot. */
  boolean replayable() {
    return stream == null;
  }

  /** The body publisher; the length is known for bytes, files and sized streams. */
  BodyPublisher publisher() {
    if (bytes != null) {
      return BodyPublishers.ofByteArray(bytes);
    }
    if (file != null) {
      // not BodyPublishers.ofFile: it closes its file only at the end, so a request cut part way
      // (or sent again) would leave the file open until the garbage collector ran
      return new FileRangePublisher(file, 0, size(), done -> { });
    }
    if (length == 0) {
      return BodyPublishers.noBody(); // fromPublisher takes positive lengths only; the stream is closed after
    }
    BodyPublisher streamed = BodyPublishers.ofInputStream(() -> stream);
    return length > 0 ? BodyPublishers.fromPublisher(streamed, length) : streamed;
  }

  /**
   * {@code length} bytes from {@code offset}, for bytes and files, reporting the bytes of the range
   * handed over so far to {@code progress}.
   */
  BodyPublisher range(long offset, long length, LongConsumer progress) {
    if (file != null) {
      return new FileRangePublisher(file, offset, length, progress);
    }
    if (bytes == null) {
      throw new IllegalStateException("a stream can be read once only");
    }
    BodyPublisher slice = BodyPublishers.ofByteArray(bytes, (int) offset, (int) length);
    return new MeteredPublisher(slice, (done, total) -> progress.accept(done));
  }

  /**
   * Closes the stream of a stream upload, which the HTTP client closes only when it read it to
   * the end: not when the request failed first (a broken connection, an error answer).
   */
  void closeStream() {
    if (stream != null) {
      try {
        stream.close();
      } catch (IOException ignored) {
        // the upload's own outcome is what the caller learns
      }
    }
  }

  /** The content from its start, for bytes and files (those that can be read twice). */
  InputStream open() throws IOException {
    if (bytes != null) {
      return new ByteArrayInputStream(bytes);
    }
    if (file != null) {
      return Files.newInputStream(file);
    }
    throw new IllegalStateException("a stream can be read once only");
  }

  /**
   * Fails, closing nothing, when the upload is of a file that cannot be read (missing, a
   * directory, no permission); bytes and streams pass.
   */
  void requireReadable() {
    if (file != null) {
      LocalFiles.requireReadable(file);
    }
  }

  /** The size in bytes, or -1 when unknown. */
  long size() {
    if (file != null) {
      try {
        return Files.size(file);
      } catch (IOException e) {
        throw FhirboxException.client("cannot read " + file + ": " + LocalFiles.readReason(e),
            new UncheckedIOException(e));
      }
    }
    return length;
  }
}
