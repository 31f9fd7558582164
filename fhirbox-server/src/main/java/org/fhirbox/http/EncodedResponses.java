package org.fhirbox.http;

import java.util.LinkedHashMap;
import java.util.List;
import org.fhirbox.fhir.AttachmentSigner;
import org.fhirbox.fhir.FhirFormat;

/**
 * Encoded read responses, kept so that a resource version read again is not parsed and encoded
 * again. Safe because a stored version never changes and the only per-read transformation is
 * Attachment signing: an entry is reused only when signing its urls again, for this caller,
 * resolves to exactly the recorded URLs (signed URLs are stable within a signing window), so the
 * bytes sent are the bytes that would have been encoded. Bounded by total size, least recently
 * used first out. What signing resolved includes what the Attachment is told of the served version
 * (its size and SHA-1, the latter learnt after a presigned upload's version was stored), so an
 * entry encoded before that is not reused after.
 */
final class EncodedResponses {
  record Key(String project, String type, String id, long versionId, FhirFormat format, boolean pretty) {}

  record Entry(List<String> urls, AttachmentSigner.Signed signed, byte[] body) {}

  private final long budget;
  private long bytes;
  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(256, 0.75f, true);

  EncodedResponses(long budgetBytes) {
    this.budget = budgetBytes;
  }

  synchronized Entry get(Key key) {
    return entries.get(key);
  }

  synchronized void put(Key key, Entry entry) {
    if (entry.body().length > budget / 16) {
      return; // a large Bundle-sized resource would evict everything else
    }
    Entry old = entries.put(key, entry);
    bytes += entry.body().length - (old == null ? 0 : old.body().length);
    var it = entries.values().iterator();
    while (bytes > budget && it.hasNext()) {
      bytes -= it.next().body().length;
      it.remove();
    }
  }
}
