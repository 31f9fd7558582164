package org.fhirbox.binary;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.storage.TrailingDigests;

/**
 * The SHA-256 and SHA-1 of each resumable upload's first {@code offset} bytes, as this node
 * computed them while receiving: the next piece continues them at full speed. The JDK's digests
 * cannot export their state, so they live only here; an upload that resumes on another node, or
 * after a restart, finds none and has its stored bytes read once more when complete (see the
 * README for the measurements behind that choice). Bounded: the least recently used entries go
 * first, and their uploads take that slower path.
 */
final class RunningDigests {
  /**
   * Digests over the first {@code offset} bytes of an upload: SHA-256, then SHA-1. The store may
   * still be feeding them the last piece's bytes (see {@link TrailingDigests}).
   */
  record Entry(long offset, TrailingDigests digests) {
    static Entry empty() {
      try {
        return new Entry(0, new TrailingDigests(List.of(MessageDigest.getInstance("SHA-256"),
            MessageDigest.getInstance("SHA-1"))));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    Entry at(long newOffset) {
      return new Entry(newOffset, digests);
    }

    /** Hex SHA-256 and SHA-1 once every piece reached them; IOException when one did not. */
    String[] hex() throws IOException {
      List<MessageDigest> settled = digests.settled();
      return new String[] {ResumableUploads.hex(settled.get(0)), ResumableUploads.hex(settled.get(1))};
    }
  }

  private final Map<String, Entry> entries;

  RunningDigests(int capacity) {
    this.entries = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
        return size() > capacity;
      }
    };
  }

  /** Removes and returns the upload's digests, whatever offset they are at; null when there are none. */
  synchronized Entry take(String uploadId) {
    return entries.remove(uploadId);
  }

  synchronized void put(String uploadId, Entry entry) {
    entries.put(uploadId, entry);
  }

  synchronized void remove(String uploadId) {
    entries.remove(uploadId);
  }
}
