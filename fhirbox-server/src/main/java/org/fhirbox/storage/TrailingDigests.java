package org.fhirbox.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Digests that run over every piece of a resumable upload, in order, and that a store may go on
 * feeding after {@link ResumableBlobs#append} returned: a piece is acknowledged once its bytes are
 * durable, while its last buffers may still be on their way through the digests. Whatever
 * feeds the next piece, and whoever reads the digests ({@link #settled}), waits for that first.
 *
 * <p>Why: a pipelined piece ended only when its slowest digest had caught up with the bytes
 * received, and the cores then idled through the answer, the client's next request and the first
 * buffer of the next piece. With 16 MiB pieces that was a few milliseconds in every 25.
 *
 * <p>A store feeds a piece either on the caller's thread ({@link #feedHere}) or from threads of its
 * own ({@link #handOver}). A piece whose feeding failed, or whose append failed after feeding
 * began, spoils the digests for good: {@link #settled} then throws, and the caller has to compute
 * them some other way (fhirbox reads the stored bytes once more).
 */
public final class TrailingDigests {
  private static final long WAIT_SECONDS = 120;
  private final List<MessageDigest> digests;
  /** Completes when every piece handed over so far has reached the digests. */
  private CompletableFuture<Void> fed = CompletableFuture.completedFuture(null);

  public TrailingDigests(List<MessageDigest> digests) {
    this.digests = List.copyOf(digests);
  }

  /**
   * The digests once every piece appended so far has reached them.
   *
   * @throws IOException when a piece did not reach them whole: they are of no use
   */
  public List<MessageDigest> settled() throws IOException {
    await(current());
    return digests;
  }

  /**
   * For whoever feeds bytes on the calling thread (a store appending a piece, or a caller
   * catching up from stored bytes): waits for the pieces before and returns the digests to
   * update, or none when they are spoilt already (the append goes on without them). If feeding
   * then fails part way, the feeder calls {@link #spoil} or drops the digests.
   */
  public List<MessageDigest> feedHere() throws InterruptedIOException {
    try {
      return settled();
    } catch (InterruptedIOException e) {
      throw e;
    } catch (IOException e) {
      spoil(e);
      return List.of();
    }
  }

  /**
   * {@code digests} and, after {@link #feedHere} of {@code trailing} (null: none), its digests: all
   * that a piece fed on the calling thread updates.
   */
  static List<MessageDigest> withFedHere(List<MessageDigest> digests, TrailingDigests trailing)
      throws InterruptedIOException {
    if (trailing == null) {
      return digests;
    }
    List<MessageDigest> all = new ArrayList<>(digests);
    all.addAll(trailing.feedHere());
    return all;
  }

  /** The digests, for lanes that wait for {@link #handOver}'s answer before they touch them. */
  List<MessageDigest> digests() {
    return digests;
  }

  /**
   * For a store that feeds a piece from threads of its own: {@code piece} completes once the
   * piece has reached the digests (exceptionally when it did not). Returns what that feeding must
   * wait for before it touches the digests: the pieces handed over before it.
   */
  synchronized CompletableFuture<Void> handOver(CompletableFuture<Void> piece) {
    CompletableFuture<Void> before = fed;
    fed = before.thenCompose(x -> piece);
    return before;
  }

  /** A piece fed on the calling thread failed part way: the digests are of no use any more. */
  synchronized void spoil(Throwable why) {
    fed = CompletableFuture.failedFuture(why);
  }

  private synchronized CompletableFuture<Void> current() {
    return fed;
  }

  /** Waits for {@code f}; IOException when it failed or took more than two minutes. */
  static void await(CompletableFuture<Void> f) throws IOException {
    try {
      f.get(WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for an upload's digests");
    } catch (ExecutionException e) {
      throw new IOException("a piece of the upload did not reach its digests", e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("an upload's digests were not fed within " + WAIT_SECONDS + " s", e);
    }
  }
}
