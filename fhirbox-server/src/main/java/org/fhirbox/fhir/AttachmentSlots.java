package org.fhirbox.fhir;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;

/**
 * The compact JSON of a resource being written, encoded once with each Attachment url that names
 * a Binary ({@code Binary/{id}}, pinned or not) left as a slot. Filled with the urls as written it
 * is the storage form; filled with the signed urls it is the answer to the write. Encoding the
 * resource a second time for the answer cost as much as the first (HAPI's encoder, 7-9 % of a
 * create's request thread).
 *
 * <p>While HAPI encodes, each such url is replaced by a marker that holds a random number drawn
 * once per process, which no request can know, and the slot's index; the markers are found in the
 * output afterwards. Unless each marker is found exactly once, inside a JSON string of its own,
 * {@link #encode} answers empty and the caller encodes as before.
 */
public final class AttachmentSlots {
  private static final String MARK = "fhirbox-slot-" + HexFormat.of().formatHex(randomBytes()) + "-";
  private final String json;
  private final List<String> urls;
  /** Slot {@code i}'s JSON string, quotes included: {@code json[starts[i], ends[i])}. */
  private final int[] starts;
  private final int[] ends;
  /** The slot indexes in the order they appear in {@code json}. */
  private final int[] order;

  private AttachmentSlots(String json, List<String> urls, int[] starts, int[] ends, int[] order) {
    this.json = json;
    this.urls = List.copyOf(urls);
    this.starts = starts;
    this.ends = ends;
    this.order = order;
  }

  /**
   * Encodes {@code resource} with {@code encoder} (compact JSON) and the Binary urls of
   * {@code attachments} (all of the resource's, in any order) as slots; the Attachments have their
   * urls back before this returns. Empty when the markers cannot be told apart in the output.
   */
  public static Optional<AttachmentSlots> encode(Resource resource, List<Attachment> attachments,
      Function<Resource, String> encoder) {
    List<Attachment> slotted = new ArrayList<>();
    List<String> urls = new ArrayList<>();
    for (Attachment a : attachments) {
      if (a.hasUrl() && BinaryRef.tryParseRelative(a.getUrl()).isPresent()) {
        urls.add(a.getUrl());
        a.setUrl(MARK + slotted.size());
        slotted.add(a);
      }
    }
    String json;
    try {
      json = encoder.apply(resource);
    } finally {
      for (int i = 0; i < slotted.size(); i++) {
        slotted.get(i).setUrl(urls.get(i));
      }
    }
    int[] starts = new int[urls.size()];
    int[] ends = new int[urls.size()];
    int[] order = new int[urls.size()];
    Arrays.fill(starts, -1);
    int found = 0;
    // left to right: the slots are found in the order they are filled
    for (int at = json.indexOf(MARK); at >= 0; at = json.indexOf(MARK, at + MARK.length())) {
      int close = json.indexOf('"', at);
      int slot = close < 0 ? -1 : slotIndex(json, at + MARK.length(), close);
      if (slot < 0 || slot >= urls.size() || starts[slot] >= 0 || json.charAt(at - 1) != '"') {
        return Optional.empty();
      }
      starts[slot] = at - 1;
      ends[slot] = close + 1;
      order[found++] = slot;
    }
    return found == urls.size() ? Optional.of(new AttachmentSlots(json, urls, starts, ends, order))
        : Optional.empty();
  }

  /** The storage form: every slot holds its url as written. */
  public String stored() {
    return urls.isEmpty() ? json : fill(UnaryOperator.identity());
  }

  /** The JSON with each slot holding {@code url.apply(its url as written)}. */
  public String fill(UnaryOperator<String> url) {
    StringBuilder out = new StringBuilder(json.length() + 256 * urls.size());
    int from = 0;
    for (int slot : order) {
      out.append(json, from, starts[slot]).append('"');
      JsonStringEncoder.getInstance().quoteAsString(url.apply(urls.get(slot)), out);
      out.append('"');
      from = ends[slot];
    }
    return out.append(json, from, json.length()).toString();
  }

  /**
   * The same slots in a JSON whose first {@code length} characters are {@code head} instead: the
   * resource's stamp rewritten without encoding it again. Empty when a slot lies in those characters.
   */
  public Optional<AttachmentSlots> withHead(int length, String head) {
    int shift = head.length() - length;
    int[] s = starts.clone();
    int[] e = ends.clone();
    for (int i = 0; i < s.length; i++) {
      if (s[i] < length) {
        return Optional.empty();
      }
      s[i] += shift;
      e[i] += shift;
    }
    return Optional.of(new AttachmentSlots(head + json.substring(length), urls, s, e, order));
  }

  /** The marker prefix of this process (for tests that forge a collision). */
  static String marker() {
    return MARK;
  }

  private static int slotIndex(String s, int from, int to) {
    if (to == from || to - from > 9) {
      return -1;
    }
    int n = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static byte[] randomBytes() {
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    return b;
  }
}
