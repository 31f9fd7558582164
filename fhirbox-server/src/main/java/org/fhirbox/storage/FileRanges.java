package org.fhirbox.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/** Ranges of a {@link FileBlobStore}'s files sent to a channel (downloads, Range requests, copies). */
final class FileRanges {
  private static final int SMALL_READ = 64 * 1024;
  private static final int COPY_BUFFER = 1 << 20;
  private static final int COPY_BUFFERS = 8;
  private final BlockingQueue<ByteBuffer> copyBuffers = new ArrayBlockingQueue<>(COPY_BUFFERS);

  /**
   * Small ranges (a video player's probe, a thumbnail) take one positional read into a heap
   * array sized to the range; larger ones go through {@link #copyBuffers}. A file or blocking
   * socket target gets {@link FileChannel#transferTo}, which the kernel does without copying
   * through the JVM (copy_file_range(2), sendfile(2)).
   */
  void transferTo(Path file, BlobKey key, long offset, long length, WritableByteChannel target)
      throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long end = offset + length;
      if (offset < 0 || length < 0) {
        throw new IOException("blob " + key + ": no range " + offset + "+" + length);
      }
      if (end > ch.size()) {
        throw new ShortBlobException(key, ch.size(), end);
      }
      if (length == 0) {
        return;
      }
      if (target instanceof FileChannel
          || target instanceof SocketChannel socket && socket.isBlocking()) {
        for (long pos = offset; pos < end; ) {
          long sent = ch.transferTo(pos, end - pos, target);
          if (sent <= 0) {
            throw new IOException("blob " + key + " ended while being sent");
          }
          pos += sent;
        }
      } else if (length <= SMALL_READ) {
        ByteBuffer bb = ByteBuffer.allocate((int) length);
        readFully(ch, bb, offset, key);
        writeFully(target, bb.flip());
      } else {
        ByteBuffer bb = borrowCopyBuffer();
        try {
          for (long pos = offset; pos < end; pos += bb.limit()) {
            bb.clear().limit((int) Math.min(bb.capacity(), end - pos));
            readFully(ch, bb, pos, key);
            writeFully(target, bb.flip());
          }
        } finally {
          copyBuffers.offer(bb);
        }
      }
    }
  }

  /**
   * A pooled direct buffer: sockets write from direct memory without another copy, and reusing
   * them keeps native memory bounded (a dropped direct buffer is freed only by a later GC).
   * Beyond the pool's size, concurrent copies get fresh buffers that are not kept.
   */
  private ByteBuffer borrowCopyBuffer() {
    ByteBuffer bb = copyBuffers.poll();
    return bb != null ? bb : ByteBuffer.allocateDirect(COPY_BUFFER);
  }

  /** Fills {@code bb} (from its position 0) with the file's bytes from {@code position}. */
  private static void readFully(FileChannel ch, ByteBuffer bb, long position, BlobKey key)
      throws IOException {
    while (bb.hasRemaining()) {
      if (ch.read(bb, position + bb.position()) < 0) {
        throw new IOException("blob " + key + " ended while being read");
      }
    }
  }

  private static void writeFully(WritableByteChannel target, ByteBuffer bb) throws IOException {
    while (bb.hasRemaining()) {
      target.write(bb);
    }
  }
}
