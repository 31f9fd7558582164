package org.fhirbox.metrics;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.fhirbox.storage.BlobInfo;
import org.fhirbox.storage.BlobKey;
import org.fhirbox.storage.BlobStore;
import org.fhirbox.storage.PartialBlob;
import org.fhirbox.storage.ResumableBlobs;
import org.fhirbox.storage.TrailingDigests;
import org.fhirbox.storage.WriteFence;

/**
 * Times every call to another {@link BlobStore} into {@code fhirbox_blobstore_operation_seconds}
 * ({@code transferTo} as {@code op="read"}). The wiring wraps every store in one, whatever its
 * backend. Closing it closes the wrapped store.
 */
public final class MeteredBlobStore implements BlobStore {
  private final BlobStore delegate;
  private final Metrics metrics;

  public MeteredBlobStore(BlobStore delegate, Metrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
  }

  private interface Call<T> {
    T run() throws IOException;
  }

  private <T> T timed(String op, Call<T> call) throws IOException {
    long start = System.nanoTime();
    try {
      return call.run();
    } finally {
      metrics.recordBlobOperation(op, (System.nanoTime() - start) / 1e9);
    }
  }

  @Override
  public BlobInfo put(InputStream in, long maxBytes) throws IOException {
    return timed("put", () -> delegate.put(in, maxBytes));
  }

  @Override
  public Optional<Long> size(BlobKey key) throws IOException {
    return timed("size", () -> delegate.size(key));
  }

  @Override
  public void transferTo(BlobKey key, long offset, long length, WritableByteChannel target)
      throws IOException {
    timed("read", () -> {
      delegate.transferTo(key, offset, length, target);
      return null;
    });
  }

  @Override
  public InputStream open(BlobKey key, long offset) throws IOException {
    return timed("open", () -> delegate.open(key, offset));
  }

  @Override
  public BlobInfo digest(BlobKey key, long maxBytes) throws IOException {
    return timed("digest", () -> delegate.digest(key, maxBytes));
  }

  @Override
  public void delete(BlobKey key) throws IOException {
    timed("delete", () -> {
      delegate.delete(key);
      return null;
    });
  }

  @Override
  public void listOlderThan(Instant cutoff, Consumer<BlobKey> visitor, Predicate<BlobKey> resuming)
      throws IOException {
    timed("list", () -> {
      delegate.listOlderThan(cutoff, visitor, resuming);
      return null;
    });
  }

  /** The delegate's, with {@code append} and {@code complete} timed too. */
  @Override
  public ResumableBlobs resumable() {
    ResumableBlobs d = delegate.resumable();
    return new ResumableBlobs() {
      @Override
      public PartialBlob begin() throws IOException {
        return timed("begin", d::begin);
      }

      @Override
      public PartialBlob append(PartialBlob blob, InputStream in, long maxLength, long finalLength,
          List<MessageDigest> digests, TrailingDigests trailing, WriteFence fence) throws IOException {
        return timed("append", () -> d.append(blob, in, maxLength, finalLength, digests, trailing, fence));
      }

      @Override
      public boolean readBack(PartialBlob blob, long from, List<MessageDigest> digests) throws IOException {
        return timed("read back", () -> d.readBack(blob, from, digests));
      }

      @Override
      public void complete(PartialBlob blob) throws IOException {
        timed("complete", () -> {
          d.complete(blob);
          return null;
        });
      }

      @Override
      public void discard(PartialBlob blob) throws IOException {
        timed("delete", () -> {
          d.discard(blob);
          return null;
        });
      }

      @Override
      public void release(PartialBlob obsolete, PartialBlob current) throws IOException {
        timed("delete", () -> {
          d.release(obsolete, current);
          return null;
        });
      }
    };
  }

  @Override
  public boolean isReachable() {
    long start = System.nanoTime();
    try {
      return delegate.isReachable();
    } finally {
      metrics.recordBlobOperation("ping", (System.nanoTime() - start) / 1e9);
    }
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
