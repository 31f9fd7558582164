package org.fhirbox.binary;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fhirbox.storage.TrailingDigests;

/**
 * The SHA-1 of each resumable upload's first {@code offset} bytes, as this node computed it while
 * receiving: the next piece continues it at full speed. The JDK's digests cannot export their
 * state, so it lives only here; an upload that resumes on another node, or after a restart, finds
 * none and reads its stored bytes back (a file), or its whole blob once more when complete (S3);
 * see the README for the measurements behind that choice. Bounded: the least recently used
 * entries go first, and their uploads take that slower path.
 */
final class RunningDigests {
  /**
   * The digest over the first {@code offset} bytes of an upload: the SHA-1, which every upload
   * computes (no SHA-256: see {@code FileBlobStore}'s upload digests). The store may still be
   * feeding it the last piece's bytes (see {@link TrailingDigests}).
   */
  record Entry(long offset, TrailingDigests digests) {
    static Entry empty() {
      return new Entry(0, new TrailingDigests(List.of(ResumableUploads.digest("SHA-1"))));
    }

    Entry at(long newOffset) {
      return new Entry(newOffset, digests);
    }

    /** Hex SHA-1 once every piece reached it; IOException when one did not. */
    String sha1Hex() throws IOException {
      return ResumableUploads.hex(digests.settled().get(0));
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
