package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.apache.commons.io.input.BoundedInputStream;
import org.apache.commons.io.input.ProxyInputStream;

/**
 * {@code length} bytes of a file from {@code offset}, read from disk as they are sent (one piece of
 * a resumable upload), reporting the bytes handed over so far to {@code progress}. Every
 * subscription (the piece sent again) reads the range afresh, and closes its file when it ends:
 * at the range's end, on an error, or when the request gives up part way (the JDK's
 * input-stream publisher closes its stream only at the end, so a cut upload's file would stay open
 * until the garbage collector ran).
 */
final class FileRangePublisher implements BodyPublisher {
  /**
   * Reading the file failed (it was deleted, cannot be read, EIO): a fault of this side, which
   * the HTTP client reports as a failed request, but which no retry of the request cures.
   */
  static final class ReadFailure extends IOException {
    ReadFailure(Path file, IOException cause) {
      super("cannot read " + file + ": " + LocalFiles.readReason(cause), cause);
    }
  }

  /** Whether {@code e} or any of its causes is a {@link ReadFailure}. */
  static boolean causedReadFailure(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ReadFailure) {
        return true;
      }
    }
    return false;
  }

  /** In place of a subscription's stream once it is closed. */
  private static final InputStream CLOSED = InputStream.nullInputStream();

  private final Path file;
  private final long offset;
  private final long length;
  private final LongConsumer progress;

  FileRangePublisher(Path file, long offset, long length, LongConsumer progress) {
    this.file = file;
    this.offset = offset;
    this.length = length;
    this.progress = progress;
  }

  @Override
  public long contentLength() {
    return length;
  }

  @Override
  public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
    AtomicReference<InputStream> opened = new AtomicReference<>();
    BodyPublisher reading = BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(() -> open(opened)), length);
    reading.subscribe(new Flow.Subscriber<ByteBuffer>() {
      @Override
      public void onSubscribe(Flow.Subscription subscription) {
        subscriber.onSubscribe(new Flow.Subscription() {
          @Override
          public void request(long n) {
            subscription.request(n);
          }

          @Override
          public void cancel() {
            subscription.cancel();
            close(opened);
          }
        });
      }

      @Override
      public void onNext(ByteBuffer item) {
        subscriber.onNext(item);
      }

      @Override
      public void onError(Throwable e) {
        close(opened);
        subscriber.onError(e);
      }

      @Override
      public void onComplete() {
        close(opened);
        subscriber.onComplete();
      }
    });
  }

  private InputStream open(AtomicReference<InputStream> opened) {
    try {
      FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
      InputStream in = new Counted(BoundedInputStream.builder().setInputStream(Channels.newInputStream(channel))
          .setMaxCount(length).get());
      if (!opened.compareAndSet(null, in)) {
        in.close(); // closed before it was opened: the request gave up already
        throw new UncheckedIOException(new IOException("the upload of " + file + " was cancelled"));
      }
      return in;
    } catch (IOException e) {
      throw new UncheckedIOException(new ReadFailure(file, e));
    }
  }

  /** Closes the subscription's file if it was opened, and makes a later opening fail. */
  private static void close(AtomicReference<InputStream> opened) {
    InputStream in = opened.getAndSet(CLOSED);
    if (in != null && in != CLOSED) {
      try {
        in.close();
      } catch (IOException ignored) {
        // a file opened only for reading: nothing was written that closing could lose
      }
    }
  }

  /** Reports the bytes read so far. */
  private final class Counted extends ProxyInputStream {
    private long read;

    Counted(InputStream in) {
      super(in);
    }

    @Override
    protected void handleIOException(IOException e) throws IOException {
      throw e instanceof ReadFailure ? e : new ReadFailure(file, e);
    }

    @Override
    protected void afterRead(int n) {
      if (n > 0) {
        read += n;
        progress.accept(read);
      }
    }
  }
}
