package org.fhirbox.client;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * When and how files are uploaded resumably, with the tus 1.0.0 protocol the server speaks at
 * {@code Binary/$upload}: a file of at least {@code threshold} bytes is sent in pieces of
 * {@code chunkSize} bytes. After a failed piece (a dropped connection, the server restarting, a
 * 409, 423, 429, 500, 502, 503 or 504) the client waits as {@code retries} says, asks the server with
 * {@code HEAD} how many bytes it kept, and goes on from there; {@code retries.maxRetries()} is the
 * number of failures in a row, without a byte of progress, after which the upload gives up. The
 * first {@code HEAD} of an upload kept by an earlier run is retried the same way. A file that
 * cannot be read (deleted, unreadable, a disk error) ends the upload at once: no wait cures it.
 *
 * <p>With a {@code stateDirectory}, the upload's URL is kept there (one small file per upload,
 * named by a fingerprint of the server, the client id, the file's real path, inode and change time
 * where the file system has them, size, modification time, content type, file name and security
 * context) until the Binary exists, so that a later upload of the same unchanged file, by any
 * client of the same credentials and in any process, goes on where an interrupted one stopped.
 * Without it, an upload resumes only within one call.
 *
 * <pre>{@code
 * FhirboxClient client = FhirboxClient.builder()
 *     .baseUrl("http://localhost:8103/")
 *     .clientCredentials(clientId, clientSecret)
 *     .resumableUploads(ResumableUploads.DEFAULT.withThreshold(0)
 *         .withStateDirectory(Path.of(System.getProperty("user.home"), ".cache", "fhirbox", "uploads")))
 *     .build();
 * }</pre>
 *
 * @param threshold files of at least this many bytes go resumably ({@code Long.MAX_VALUE}: never);
 *     bytes in memory and streams are always sent in one request
 * @param chunkSize the bytes of one {@code PATCH} (at least 1; the server fsyncs once per piece)
 * @param retries how long to keep trying after failures
 * @param stateDirectory where upload URLs are kept between runs, or null
 */
public record ResumableUploads(long threshold, long chunkSize, RetryPolicy retries, Path stateDirectory) {
  /**
   * Files of 64 MiB and more, in 16 MiB pieces; up to 10 failures in a row with waits of up to
   * 0.5 s, 1 s, 2 s, ... capped at 30 s (a server restart fits easily); no state directory.
   */
  public static final ResumableUploads DEFAULT = new ResumableUploads(64L << 20, 16L << 20,
      new RetryPolicy(10, Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(60)), null);

  /** Validates the values. */
  public ResumableUploads {
    if (threshold < 0) {
      throw new IllegalArgumentException("threshold must not be negative");
    }
    if (chunkSize < 1) {
      throw new IllegalArgumentException("chunkSize must be at least 1");
    }
    Objects.requireNonNull(retries, "retries");
  }

  /**
   * A copy that uploads files of at least {@code bytes} bytes resumably (0: every file).
   *
   * <pre>{@code
   * ResumableUploads always = ResumableUploads.DEFAULT.withThreshold(0);
   * }</pre>
   */
  public ResumableUploads withThreshold(long bytes) {
    return new ResumableUploads(bytes, chunkSize, retries, stateDirectory);
  }

  /**
   * A copy that sends pieces of {@code bytes} bytes.
   *
   * <pre>{@code
   * ResumableUploads small = ResumableUploads.DEFAULT.withChunkSize(4 << 20);
   * }</pre>
   */
  public ResumableUploads withChunkSize(long bytes) {
    return new ResumableUploads(threshold, bytes, retries, stateDirectory);
  }

  /**
   * A copy that retries as {@code policy} says.
   *
   * <pre>{@code
   * ResumableUploads patient = ResumableUploads.DEFAULT.withRetries(
   *     new RetryPolicy(50, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofMinutes(1)));
   * }</pre>
   */
  public ResumableUploads withRetries(RetryPolicy policy) {
    return new ResumableUploads(threshold, chunkSize, policy, stateDirectory);
  }

  /**
   * A copy that keeps upload URLs in {@code directory} (created when needed), so that another run
   * resumes an interrupted upload of the same file.
   *
   * <pre>{@code
   * ResumableUploads kept = ResumableUploads.DEFAULT.withStateDirectory(Path.of("/var/cache/uploads"));
   * }</pre>
   */
  public ResumableUploads withStateDirectory(Path directory) {
    return new ResumableUploads(threshold, chunkSize, retries, directory);
  }
}
