package org.fhirbox.http;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.ResourceIds;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.model.StoredResource;

/**
 * {@code If-Match} (RFC 9110 §13.1.1): {@code *} or a list of entity tags, every field read as one
 * list. A member matches the current version when it names it as the {@code ETag} of a read does
 * ({@code W/"3"}: FHIR R4 http.html#concurrency sends the weak version tag, so it is compared by its
 * version) or, for a Binary, when it is the strong {@code ETag} a raw read of the current version's
 * content answers (compared strongly). A list matches when one member does; otherwise 412.
 */
final class IfMatchField {
  /** What a member can match: the current version, and its raw content's entity tag (a Binary's) or null. */
  record Current(long version, String contentEtag) {}

  private IfMatchField() {}

  /** The field's value, every line joined by commas; null without one. */
  static String field(Exchange ex) {
    String h = String.join(",", Collections.list(ex.request().getHeaders("If-Match")));
    return h.isBlank() ? null : h.trim();
  }

  /**
   * The list's tags; 400 when it is none, or when a member is weak or a number yet names no version
   * ({@code W/"0"}, {@code "-1"}: only {@code *} means any version), as no ETag issued looks so.
   */
  private static List<EntityTag> tags(String h) {
    List<EntityTag> tags = EntityTag.parseList(h).orElse(List.of());
    if (tags.isEmpty() || tags.stream().anyMatch(t -> ResourceIds.ifMatch(t.toString()) == null
        && (t.weak() || t.opaque().matches("-?\\d+")))) {
      throw FhirException.badRequest("If-Match must be *, or a list of version ETags like W/\"3\" (or of a raw"
          + " Binary's content ETag)");
    }
    return tags;
  }

  private static boolean matches(List<EntityTag> tags, Current current) {
    for (EntityTag tag : tags) {
      Long v = ResourceIds.ifMatch(tag.toString());
      if (v != null && v == current.version()
          || current.contentEtag() != null && !tag.weak() && tag.toString().equals(current.contentEtag())) {
        return true;
      }
    }
    return false;
  }

  /**
   * The version a write's {@code If-Match} names, checked again in the write's own transaction
   * ({@link WritePreconditions}); null without the field. One version tag or
   * {@code *} is taken as it is; a list, or a content ETag, is matched against {@code current}
   * (empty when nothing current exists: 412), and is the current version when a member matches it,
   * else 412. Without {@code current} (a conditional write, whose target its search finds) only a
   * single version tag or {@code *} is taken.
   */
  static Long version(Exchange ex, Supplier<Optional<Current>> current) {
    String h = field(ex);
    if (h == null) {
      return null;
    }
    Long single = ResourceIds.ifMatch(h);
    if (single != null) {
      return single;
    }
    List<EntityTag> tags = tags(h);
    if (current == null) {
      throw FhirException.badRequest("If-Match on a conditional write must be one version ETag like W/\"3\", or *");
    }
    Current now = current.get().orElseThrow(() -> FhirException.preconditionFailed("If-Match " + h
        + " needs a current version, and there is none"));
    if (!matches(tags, now)) {
      throw FhirException.preconditionFailed("If-Match " + h + " does not match the current version W/\""
          + now.version() + "\"");
    }
    return now.version();
  }

  /**
   * A read's preconditions, those of {@code ex}'s fields ({@link #requireOnRead(String, Instant,
   * StoredResource, String)}).
   */
  static void requireOnRead(Exchange ex, StoredResource s, String contentEtag) {
    requireOnRead(field(ex), StorageResponder.dateField(ex.request(), "If-Unmodified-Since").orElse(null), s,
        contentEtag);
  }

  /**
   * A read's preconditions, against the version read (RFC 9110 §13.2.2 steps 1 and 2): 412 unless
   * {@code ifMatch} (the {@code If-Match} value, or null) matches it; without it, 412 when it was
   * written after {@code ifUnmodifiedSince} (to the second, as {@code Last-Modified} shows it; null:
   * none, or a value that is no HTTP date, which is ignored).
   */
  static void requireOnRead(String ifMatch, Instant ifUnmodifiedSince, StoredResource s, String contentEtag) {
    String h = ifMatch;
    if (h != null) {
      if (!h.equals("*") && !matches(tags(h), new Current(s.versionId(), contentEtag))) {
        throw FhirException.preconditionFailed("If-Match " + h + " does not match the version read W/\""
            + s.versionId() + "\"");
      }
      return;
    }
    Optional<Instant> since = Optional.ofNullable(ifUnmodifiedSince);
    if (since.isPresent() && s.lastUpdated().truncatedTo(ChronoUnit.SECONDS).isAfter(since.get())) {
      throw FhirException.preconditionFailed("If-Unmodified-Since does not hold: " + s.type() + "/" + s.id()
          + " was last updated at " + s.lastUpdated());
    }
  }

  /**
   * The request a raw read of {@code s} answers with its content, whose entity tag is
   * {@code contentEtag}: with {@code If-Match}, {@link #requireOnRead} judges it (and with it
   * {@code If-Unmodified-Since}, which it overrides), and the request is returned without both;
   * without it, as it is.
   */
  static HttpServletRequest judgedOnRead(Exchange ex, StoredResource s, String contentEtag) {
    if (field(ex) == null) {
      return ex.request();
    }
    requireOnRead(ex, s, contentEtag);
    return new HttpServletRequestWrapper(ex.request()) {
      private boolean judged(String name) {
        return name.equalsIgnoreCase("If-Match") || name.equalsIgnoreCase("If-Unmodified-Since");
      }

      @Override
      public String getHeader(String name) {
        return judged(name) ? null : super.getHeader(name);
      }

      @Override
      public Enumeration<String> getHeaders(String name) {
        return judged(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
      }

      @Override
      public long getDateHeader(String name) {
        return judged(name) ? -1 : super.getDateHeader(name);
      }
    };
  }

  /** What {@code type/id} is now, as the caller reads it: empty when it does not exist or is deleted. */
  static Optional<Current> current(ResourceService resources, BinaryRoutes binaries, Principal principal,
      String type, String id) {
    StoredResource s;
    try {
      s = resources.read(principal, type, id, null);
    } catch (FhirException e) {
      if (e.status() == 404 || e.status() == 410) {
        return Optional.empty();
      }
      throw e;
    }
    return Optional.of(new Current(s.versionId(), type.equals("Binary") ? binaries.contentEtag(principal, s) : null));
  }
}
