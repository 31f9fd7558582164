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
import java.util.function.LongConsumer;
import org.apache.commons.io.input.BoundedInputStream;
import org.apache.commons.io.input.ProxyInputStream;

/**
 * {@code length} bytes of a file from {@code offset}, read from disk as they are sent (one piece of
 * a resumable upload), reporting the bytes handed over so far to {@code progress}. Every
 * subscription (the piece sent again) reads the range afresh.
 */
final class FileRangePublisher implements BodyPublisher {
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
    BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(this::open), length).subscribe(subscriber);
  }

  private InputStream open() {
    try {
      FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
      return new Counted(BoundedInputStream.builder().setInputStream(Channels.newInputStream(channel))
          .setMaxCount(length).get());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reports the bytes read so far. */
  private final class Counted extends ProxyInputStream {
    private long read;

    Counted(InputStream in) {
      super(in);
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
