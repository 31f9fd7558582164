package org.fhirbox.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectWritesTest {
  private static final int MIB = 1 << 20;
  @TempDir Path dir;

  @Test
  void bytesFromAnUnalignedStartReachTheFileWithTheirPartialLastBlock() throws IOException {
    DirectWrites direct = new DirectWrites(dir, MIB, 2);
    requireDirectWrites(direct);
    Path file = dir.resolve("f");
    byte[] prefix = TestContent.bytes(7, 0, 1000);
    Files.write(file, prefix);
    int[] pieces = {5, MIB, 3 * MIB + 17, 4096, 1, 700_000};
    long total = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.position(prefix.length);
      try (DirectWrites.Output out = direct.open(file, ch).orElseThrow()) {
        for (int n : pieces) {
          out.write(TestContent.bytes(8, total, n), n);
          total += n;
        }
        out.finish();
      }
      assertThat(ch.position()).isEqualTo(prefix.length + total);
      ch.force(false);
    }

    byte[] stored = Files.readAllBytes(file);
    assertThat(stored).hasSize((int) (prefix.length + total));
    assertThat(ByteBuffer.wrap(stored, 0, prefix.length)).isEqualTo(ByteBuffer.wrap(prefix));
    assertThat(ByteBuffer.wrap(stored, prefix.length, (int) total))
        .isEqualTo(ByteBuffer.wrap(TestContent.bytes(8, 0, (int) total)));
  }

  @Test
  void aWholeNumberOfBlocksFromTheStartLeavesNoTail() throws IOException {
    DirectWrites direct = new DirectWrites(dir, MIB, 1);
    requireDirectWrites(direct);
    Path file = dir.resolve("g");
    int size = 2 * MIB + 8 * direct.alignment();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        DirectWrites.Output out = direct.open(file, ch).orElseThrow()) {
      out.write(TestContent.bytes(9, 0, size), size);
      out.finish();
      assertThat(ch.position()).isEqualTo(size);
    }
    assertThat(Files.readAllBytes(file)).isEqualTo(TestContent.bytes(9, 0, size));
  }

  @Test
  void whenEveryBufferIsInUseTheCallerWritesThroughThePageCache() throws IOException {
    DirectWrites direct = new DirectWrites(dir, MIB, 1);
    requireDirectWrites(direct);
    Path a = Files.createFile(dir.resolve("a"));
    Path b = Files.createFile(dir.resolve("b"));
    try (FileChannel ca = FileChannel.open(a, StandardOpenOption.WRITE);
        FileChannel cb = FileChannel.open(b, StandardOpenOption.WRITE)) {
      Optional<DirectWrites.Output> first = direct.open(a, ca);
      assertThat(first).isPresent();
      assertThat(direct.open(b, cb)).isEmpty();
      first.get().close();
      Optional<DirectWrites.Output> again = direct.open(b, cb);
      assertThat(again).isPresent();
      again.get().close();
    }
  }

  @Test
  void noBuffersMeansNoDirectWrites() throws IOException {
    DirectWrites off = new DirectWrites(dir, MIB, 0);
    Path file = Files.createFile(dir.resolve("h"));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      assertThat(off.open(file, ch)).isEmpty();
    }
  }

  @Test
  void aBufferThatIsNotAWholeNumberOfBlocksIsRefused() throws IOException {
    int align = new DirectWrites(dir, MIB, 1).alignment();
    assertThat(align).isPositive();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DirectWrites(dir, MIB + align / 2, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block size");
  }

  /**
   * Fails unless the test's file system takes O_DIRECT (ext4, xfs, btrfs; tmpfs from Linux 6.6), so
   * that these tests never pass without writing directly.
   */
  private void requireDirectWrites(DirectWrites direct) throws IOException {
    assertThat(directWritesWork(direct)).as("the test's file system takes O_DIRECT").isTrue();
  }

  private boolean directWritesWork(DirectWrites direct) throws IOException {
    Path probe = dir.resolve("probe");
    try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      Optional<DirectWrites.Output> out = direct.open(probe, ch);
      if (out.isEmpty()) {
        return false;
      }
      out.get().close();
      return true;
    } finally {
      Files.delete(probe);
    }
  }
}
