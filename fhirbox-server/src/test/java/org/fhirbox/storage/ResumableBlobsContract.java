package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ResumableBlobs} must do, on a real backend. Pieces come in the sizes tus
 * clients send: tiny, odd, several parts at once, empty. Each test persists the states it keeps
 * as a caller would, by holding them, and throws away the ones it does not.
 */
abstract class ResumableBlobsContract {
  static final long MIB = 1024 * 1024;
  static final long NO_LIMIT = Long.MAX_VALUE;

  protected abstract BlobStore store();

  /** What the backend still holds of {@code blob} besides a completed blob (temporary files, parts, tails). */
  protected abstract boolean holdsAnything(PartialBlob blob) throws IOException;

  ResumableBlobs blobs() {
    return store().resumable();
  }

  static List<MessageDigest> digests() throws Exception {
    return List.of(MessageDigest.getInstance("SHA-256"), MessageDigest.getInstance("SHA-1"));
  }

  static String hex(MessageDigest md) {
    return HexFormat.of().formatHex(md.digest());
  }

  /** Appends bytes {@code from} to {@code to} of content {@code seed}. */
  PartialBlob append(PartialBlob blob, long seed, long from, long to, long finalLength,
      List<MessageDigest> digests) throws IOException {
    return append(blob, seed, from, to, finalLength, digests, null);
  }

  PartialBlob append(PartialBlob blob, long seed, long from, long to, long finalLength,
      List<MessageDigest> digests, TrailingDigests trailing) throws IOException {
    InputStream piece = TestContent.stream(seed, to);
    piece.skipNBytes(from);
    return blobs().append(blob, piece, NO_LIMIT, finalLength, digests, trailing, WriteFence.NONE);
  }

  String storedSha256(BlobKey key) throws IOException {
    try (InputStream in = store().open(key, 0)) {
      return TestContent.sha256(in);
    }
  }

  @Test
  void piecesOfAnySizeMakeTheBlobWithItsDigests() throws Exception {
    long size = 17 * MIB + 5;
    long[] ends = {1, 3 * MIB, 9 * MIB + 3, 9 * MIB + 3, 16 * MIB, size};
    List<MessageDigest> digests = digests();
    TrailingDigests trailing = new TrailingDigests(digests());
    PartialBlob blob = blobs().begin();
    long at = 0;
    for (long end : ends) {
      PartialBlob next = append(blob, 40, at, end, size, digests, trailing);
      assertThat(next.length()).isEqualTo(end);
      blobs().release(blob, next);
      blob = next;
      at = end;
    }
    assertThat(store().size(blob.key())).isEmpty();

    blobs().complete(blob);

    String[] expected = TestContent.digests(40, size);
    assertThat(store().size(blob.key())).contains(size);
    assertThat(storedSha256(blob.key())).isEqualTo(expected[0]);
    assertThat(hex(digests.get(0))).isEqualTo(expected[0]);
    assertThat(hex(digests.get(1))).isEqualTo(expected[1]);
    List<MessageDigest> settled = trailing.settled();
    assertThat(hex(settled.get(0))).isEqualTo(expected[0]);
    assertThat(hex(settled.get(1))).isEqualTo(expected[1]);
    assertThat(holdsAnything(blob)).isFalse();
  }

  @Test
  void aFailedAppendSpoilsTheTrailingDigestsButNotTheBlob() throws Exception {
    TrailingDigests trailing = new TrailingDigests(digests());
    PartialBlob kept = append(blobs().begin(), 47, 0, 3 * MIB + 1, -1, List.of(), trailing);
    InputStream tooMuch = TestContent.stream(47, 12 * MIB);
    tooMuch.skipNBytes(3 * MIB + 1);

    assertThatThrownBy(() -> blobs().append(kept, tooMuch, 8 * MIB, -1, List.of(), trailing, WriteFence.NONE))
        .isInstanceOf(BlobTooLargeException.class);

    assertThatThrownBy(trailing::settled).isInstanceOf(IOException.class);
    PartialBlob done = append(kept, 47, 3 * MIB + 1, 5 * MIB, 5 * MIB, List.of(), trailing);
    blobs().complete(done);
    assertThat(storedSha256(done.key())).isEqualTo(TestContent.digests(47, 5 * MIB)[0]);
    assertThatThrownBy(trailing::settled).isInstanceOf(IOException.class);
  }

  @Test
  void anAppendThatWasNotPersistedIsReplacedByTheNext() throws Exception {
    long size = 12 * MIB;
    PartialBlob kept = append(blobs().begin(), 41, 0, 6 * MIB + 1, size, List.of());
    // bytes of another content, as a discarded chunk (checksum mismatch) would be
    PartialBlob lost = append(kept, 42, 6 * MIB + 1, 11 * MIB, size, List.of());
    blobs().release(lost, kept);

    PartialBlob done = append(kept, 41, 6 * MIB + 1, size, size, List.of());
    blobs().complete(done);

    assertThat(storedSha256(done.key())).isEqualTo(TestContent.digests(41, size)[0]);
  }

  @Test
  void moreThanTheLimitIsRefusedAndTheStateStillHolds() throws Exception {
    PartialBlob kept = append(blobs().begin(), 43, 0, MIB, -1, List.of());
    InputStream tooMuch = TestContent.stream(43, 8 * MIB);
    tooMuch.skipNBytes(MIB);

    assertThatThrownBy(() -> blobs().append(kept, tooMuch, 6 * MIB, -1, List.of(), null, WriteFence.NONE))
        .isInstanceOf(BlobTooLargeException.class);

    PartialBlob done = append(kept, 43, MIB, 2 * MIB, 2 * MIB, List.of());
    blobs().complete(done);
    assertThat(storedSha256(done.key())).isEqualTo(TestContent.digests(43, 2 * MIB)[0]);
  }

  @Test
  void completingTwiceIsHarmless() throws Exception {
    PartialBlob done = append(blobs().begin(), 44, 0, 7 * MIB, 7 * MIB, List.of());
    blobs().complete(done);
    blobs().complete(done);

    assertThat(store().size(done.key())).contains(7 * MIB);
  }

  @Test
  void anAppendWhoseFenceFailsChangesNothingThatALaterAppendPersisted() throws Exception {
    PartialBlob start = blobs().begin();
    PartialBlob persisted = append(start, 50, 0, 6 * MIB, 7 * MIB, List.of());
    // a request that claimed the upload at the start, stalled past its lease, and comes back
    // after another request persisted its piece: its fence fails, and it must not cut that piece
    InputStream stale = TestContent.stream(51, 6 * MIB);
    assertThatThrownBy(() -> blobs().append(start, stale, NO_LIMIT, 7 * MIB, List.of(), null, () -> {
      throw new IOException("the lease was lost");
    })).hasMessageContaining("the lease was lost");

    PartialBlob done = append(persisted, 50, 6 * MIB, 7 * MIB, 7 * MIB, List.of());
    blobs().complete(done);
    assertThat(storedSha256(done.key())).isEqualTo(TestContent.digests(50, 7 * MIB)[0]);
  }

  @Test
  void anAppendThatStallsWhileReceivingStoresNothingOverWhatALaterAppendPersisted() throws Exception {
    PartialBlob base = append(blobs().begin(), 50, 0, 5 * MIB, 12 * MIB, List.of());
    // a request whose fence held when it began: it receives all but the last byte of a 5 MiB
    // part, stalls past its lease, and that byte arrives after another request persisted a piece
    // over the same range
    AtomicBoolean lost = new AtomicBoolean();
    InputStream other = TestContent.stream(51, 12 * MIB);
    other.skipNBytes(5 * MIB);
    StallingStream slow = new StallingStream(other, 5 * MIB - 1);
    CompletableFuture<PartialBlob> stale = CompletableFuture.supplyAsync(() -> {
      try {
        return blobs().append(base, slow, NO_LIMIT, 12 * MIB, List.of(), null, () -> {
          if (lost.get()) {
            throw new IOException("the lease was lost");
          }
        });
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    assertThat(slow.stalled.await(30, TimeUnit.SECONDS)).isTrue();
    lost.set(true);

    PartialBlob persisted;
    try {
      persisted = append(base, 50, 5 * MIB, 11 * MIB, 12 * MIB, List.of());
    } catch (ConcurrentAppendException e) {
      // a store that lets one append at a time write a blob: the stalled one goes on first
      slow.resume.countDown();
      stale.handle((r, x) -> r).join();
      persisted = append(base, 50, 5 * MIB, 11 * MIB, 12 * MIB, List.of());
    }
    slow.resume.countDown();
    // whatever it returns is never persisted
    stale.handle((r, x) -> r).join();

    PartialBlob done = append(persisted, 50, 11 * MIB, 12 * MIB, 12 * MIB, List.of());
    blobs().complete(done);
    assertThat(storedSha256(done.key())).isEqualTo(TestContent.digests(50, 12 * MIB)[0]);
  }

  @Test
  void anEmptyAppendAfterCompletionChangesNothing() throws Exception {
    // the caller's commit after complete() failed (a crash), and the client's next PATCH has no bytes
    PartialBlob done = append(blobs().begin(), 47, 0, 3 * MIB + 5, 3 * MIB + 5, List.of());
    blobs().complete(done);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");

    PartialBlob again = blobs().append(done, InputStream.nullInputStream(), NO_LIMIT, 3 * MIB + 5, List.of(sha),
        null, WriteFence.NONE);
    blobs().release(done, again);
    blobs().complete(again);

    assertThat(again.length()).isEqualTo(3 * MIB + 5);
    assertThat(storedSha256(again.key())).isEqualTo(TestContent.digests(47, 3 * MIB + 5)[0]);
  }

  @Test
  void anEmptyBlobCompletes() throws Exception {
    PartialBlob blob = blobs().begin();
    PartialBlob done = blobs().append(blob, InputStream.nullInputStream(), NO_LIMIT, 0, List.of(), null,
        WriteFence.NONE);
    blobs().complete(done);

    assertThat(store().size(done.key())).contains(0L);
  }

  @Test
  void aLengthDeclaredOnlyAfterTheLastByteCompletes() throws Exception {
    PartialBlob partial = append(blobs().begin(), 45, 0, 3 * MIB, -1, List.of());
    PartialBlob declared = blobs().append(partial, InputStream.nullInputStream(), NO_LIMIT, 3 * MIB, List.of(),
        null, WriteFence.NONE);
    blobs().release(partial, declared);
    blobs().complete(declared);

    assertThat(storedSha256(declared.key())).isEqualTo(TestContent.digests(45, 3 * MIB)[0]);
  }

  @Test
  void discardLeavesNothing() throws Exception {
    PartialBlob blob = append(blobs().begin(), 46, 0, 11 * MIB + 9, -1, List.of());
    assertThat(holdsAnything(blob)).isTrue();

    blobs().discard(blob);
    blobs().discard(blob);

    assertThat(holdsAnything(blob)).isFalse();
    assertThat(store().size(blob.key())).isEmpty();
    assertThatThrownBy(() -> store().open(blob.key(), 0).close()).isInstanceOf(NoSuchFileException.class);
  }
}
