package org.fhirbox.client;

import java.io.FilterInputStream;
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
      return new Range(Channels.newInputStream(channel));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Ends after the range, and counts what was read. */
  private final class Range extends FilterInputStream {
    private long left = length;

    Range(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = super.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
        progress.accept(length - left);
      }
      return n;
    }
  }
}
