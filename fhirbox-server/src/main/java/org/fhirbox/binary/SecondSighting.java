package org.fhirbox.binary;

import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.fhirbox.storage.BlobKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The orphan sweeper's two-pass rule: a key found unwanted is deleted only when the previous pass
 * found it unwanted too, so nothing is deleted on the pass that first sees it. A pass calls
 * {@link #start}, then {@link #unwanted} for each key it finds, then {@link #finish}; a key whose
 * deletion failed is tried again by the next pass.
 */
final class SecondSighting {
  private static final Logger LOG = LoggerFactory.getLogger(SecondSighting.class);
  /** Bounds the memory of one pass; the rest are found again by the next. */
  private static final int MAX_SUSPECTS = 100_000;

  /** Deletes one key. */
  interface Deletion {
    void delete(BlobKey key) throws IOException;
  }

  private final String what;
  private final Deletion deletion;
  private Set<BlobKey> previous = Set.of();
  private Set<BlobKey> current = new HashSet<>();
  private int deleted;

  /** @param what what the keys name, for the log ("orphan blob") */
  SecondSighting(String what, Deletion deletion) {
    this.what = what;
    this.deletion = deletion;
  }

  void start() {
    current = new HashSet<>();
    deleted = 0;
  }

  /** {@code key} is unwanted on this pass: deleted if it was on the previous one, else remembered. */
  void unwanted(BlobKey key) {
    if (!previous.contains(key)) {
      if (current.size() < MAX_SUSPECTS) {
        current.add(key);
      }
      return;
    }
    try {
      deletion.delete(key);
      deleted++;
    } catch (IOException e) {
      LOG.warn("could not delete {} {}", what, key, e);
      current.add(key);
    }
  }

  /** Ends the pass; the number of keys it deleted. */
  int finish() {
    previous = current;
    return deleted;
  }
}
