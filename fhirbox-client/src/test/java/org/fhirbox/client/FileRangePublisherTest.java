package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileRangePublisherTest {
  @TempDir Path dir;

  @Test
  void aPieceGivenUpPartWayClosesItsFile() throws Exception {
    Path file = file(4 << 20);
    FileRangePublisher publisher = new FileRangePublisher(file, 1 << 20, 2 << 20, n -> { });
    CompletableFuture<ByteBuffer> first = new CompletableFuture<>();
    Flow.Subscription[] held = new Flow.Subscription[1];
    publisher.subscribe(new Flow.Subscriber<ByteBuffer>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        held[0] = s;
        s.request(1);
      }

      @Override
      public void onNext(ByteBuffer item) {
        first.complete(item);
      }

      @Override
      public void onError(Throwable e) {
        first.completeExceptionally(e);
      }

      @Override
      public void onComplete() { }
    });
    assertThat(first.get(10, TimeUnit.SECONDS).remaining()).isPositive();
    assertThat(UploadCleanupTest.openDescriptorsOf(file)).as("the piece's file is open while it is sent").isEqualTo(1);

    held[0].cancel(); // what the HTTP client does when the connection breaks part way

    assertThat(UploadCleanupTest.openDescriptorsOf(file)).isZero();
  }

  @Test
  void aPieceSentWholeClosesItsFileAndEverySendingReadsTheRangeAgain() throws Exception {
    Path file = file(3 << 20);
    List<Long> progress = new ArrayList<>();
    FileRangePublisher publisher = new FileRangePublisher(file, 100, 1 << 20, progress::add);
    for (int sending = 0; sending < 2; sending++) {
      CompletableFuture<Long> done = new CompletableFuture<>();
      publisher.subscribe(new Flow.Subscriber<ByteBuffer>() {
        long bytes;

        @Override
        public void onSubscribe(Flow.Subscription s) {
          s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(ByteBuffer item) {
          bytes += item.remaining();
        }

        @Override
        public void onError(Throwable e) {
          done.completeExceptionally(e);
        }

        @Override
        public void onComplete() {
          done.complete(bytes);
        }
      });
      assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(1 << 20);
      assertThat(UploadCleanupTest.openDescriptorsOf(file)).isZero();
    }
    assertThat(progress).last().isEqualTo((long) (1 << 20));
  }

  private Path file(int size) throws IOException {
    byte[] bytes = new byte[size];
    new java.util.Random(7).nextBytes(bytes);
    return Files.write(dir.resolve("piece.bin"), bytes);
  }

  /** The error a whole sending of {@code publisher} ends with (signalled, or thrown by subscribe as the JDK's does). */
  private static Throwable errorOf(FileRangePublisher publisher) throws Exception {
    CompletableFuture<Throwable> error = new CompletableFuture<>();
    try {
      subscribe(publisher, error);
    } catch (RuntimeException e) {
      return e;
    }
    return error.get(10, TimeUnit.SECONDS);
  }

  private static void subscribe(FileRangePublisher publisher, CompletableFuture<Throwable> error) {
    publisher.subscribe(new Flow.Subscriber<ByteBuffer>() {
      @Override
      public void onSubscribe(Flow.Subscription s) {
        s.request(Long.MAX_VALUE);
      }

      @Override
      public void onNext(ByteBuffer item) { }

      @Override
      public void onError(Throwable e) {
        error.complete(e);
      }

      @Override
      public void onComplete() {
        error.complete(null);
      }
    });
  }

  @Test
  void aFileThatCannotBeReadFailsAsAReadFailureNotAsANetworkOne() throws Exception {
    Throwable missing = errorOf(new FileRangePublisher(dir.resolve("deleted.bin"), 0, 10, n -> { }));
    // a directory opens, and fails on the first read (EISDIR), as a disk error mid-file does
    Throwable unreadable = errorOf(new FileRangePublisher(java.nio.file.Files.createDirectory(dir.resolve("d")), 0, 10, n -> { }));

    assertThat(FileRangePublisher.causedReadFailure(missing)).as(String.valueOf(missing)).isTrue();
    assertThat(FileRangePublisher.causedReadFailure(unreadable)).as(String.valueOf(unreadable)).isTrue();
  }
}
