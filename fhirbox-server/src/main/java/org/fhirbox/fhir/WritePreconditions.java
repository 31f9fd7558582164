package org.fhirbox.fhir;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import org.fhirbox.core.FhirException;
import org.fhirbox.model.StoredResource;

/**
 * The preconditions an update, patch or delete carries (RFC 9110 §13.1), checked against the
 * current version inside the write's own transaction, so that no write slips in between the check
 * and the write. They are evaluated in RFC 9110 §13.2.2's order: {@code If-Match}; without it,
 * {@code If-Unmodified-Since}; then {@code If-None-Match}. A failed one is 412.
 *
 * @param ifMatch the version {@code If-Match} names, {@link ResourceRepository#IF_MATCH_ANY} for
 *     {@code *}, or null; checked by the write itself, which knows what an absent resource means to it
 * @param ifNoneMatch the versions {@code If-None-Match} names, {@link ResourceRepository#IF_MATCH_ANY}
 *     among them for {@code *}; empty without the header
 * @param ifUnmodifiedSince {@code If-Unmodified-Since}, or null
 */
public record WritePreconditions(Long ifMatch, List<Long> ifNoneMatch, Instant ifUnmodifiedSince) {
  public static final WritePreconditions NONE = new WritePreconditions(null, List.of(), null);

  public WritePreconditions {
    ifNoneMatch = List.copyOf(ifNoneMatch);
  }

  /** Only {@code If-Match} (null: none), as a Bundle entry's {@code ifMatch} and the server's own writes give it. */
  public static WritePreconditions ifMatch(Long version) {
    return version == null ? NONE : new WritePreconditions(version, List.of(), null);
  }

  /**
   * Every precondition of an update (or create by update) against {@code current}, as the write
   * itself checks them: {@code If-Match *} needs a current version, {@code If-Match} of a version
   * needs that version current, then {@link #requireAfterIfMatch}. 412 for the first that fails.
   */
  public void requireForUpdate(Optional<StoredResource> current, String type, String id) {
    requireAnyIfStar(ifMatch, current, type, id);
    if (ifMatch != null && ifMatch != ResourceRepository.IF_MATCH_ANY) {
      long have = current.map(StoredResource::versionId).orElse(0L);
      if (current.isEmpty() || have != ifMatch) {
        throw FhirException.preconditionFailed("If-Match W/\"" + ifMatch + "\" does not match the current version "
            + (current.isEmpty() ? "(none)" : "W/\"" + have + "\""));
      }
    }
    requireAfterIfMatch(current, type, id);
  }

  /** 412 when {@code ifMatch} is {@link ResourceRepository#IF_MATCH_ANY} and {@code current} is absent or deleted. */
  static void requireAnyIfStar(Long ifMatch, Optional<StoredResource> current, String type, String id) {
    if (ifMatch != null && ifMatch == ResourceRepository.IF_MATCH_ANY
        && (current.isEmpty() || current.get().deleted())) {
      throw FhirException.preconditionFailed("If-Match * needs a current version: " + type + "/" + id
          + (current.isEmpty() ? " does not exist" : " is deleted"));
    }
  }

  /**
   * 412 for any {@code ifMatch} (not null) when there is no current version, {@code absent} saying
   * why: If-Match needs a current representation (RFC 9110 §13.1.1), whether the write names a
   * resource that does not exist or a condition that matches nothing.
   */
  static void requireNoIfMatch(Long ifMatch, String absent) {
    if (ifMatch != null) {
      throw FhirException.preconditionFailed("If-Match " + (ifMatch == ResourceRepository.IF_MATCH_ANY ? "*"
          : "W/\"" + ifMatch + "\"") + " needs a current version: " + absent);
    }
  }

  /** Whether the request carries none. */
  public boolean none() {
    return ifMatch == null && ifNoneMatch.isEmpty() && ifUnmodifiedSince == null;
  }

  /**
   * The checks that follow {@code If-Match}, against {@code current} (a deleted version, or empty
   * when the resource never existed):
   * <ul>
   *   <li>{@code If-Unmodified-Since}, unless {@code If-Match} was sent (RFC 9110 §13.1.4: it is then
   *       ignored): fails when the current version is later. HTTP dates have whole seconds, so
   *       {@code lastUpdated} is compared to the second, as {@code Last-Modified} showed it. A
   *       resource that never existed has no modification date, and the condition is ignored; a
   *       deletion is a modification of its own;
   *   <li>{@code If-None-Match} (RFC 9110 §13.1.2): {@code *} fails when a current, not deleted,
   *       version exists; a list of versions fails when it names that version. A deleted resource
   *       has no representation to match, so a PUT with {@code *} may create it again.
   * </ul>
   */
  public void requireAfterIfMatch(Optional<StoredResource> current, String type, String id) {
    if (ifMatch == null && ifUnmodifiedSince != null && current.isPresent()) {
      Instant changed = current.get().lastUpdated().truncatedTo(ChronoUnit.SECONDS);
      if (changed.isAfter(ifUnmodifiedSince)) {
        throw FhirException.preconditionFailed("If-Unmodified-Since " + ifUnmodifiedSince + " does not hold: "
            + type + "/" + id + " was " + (current.get().deleted() ? "deleted" : "last updated") + " at "
            + current.get().lastUpdated());
      }
    }
    Optional<StoredResource> live = current.filter(c -> !c.deleted());
    if (live.isEmpty() || ifNoneMatch.isEmpty()) {
      return;
    }
    if (ifNoneMatch.contains(ResourceRepository.IF_MATCH_ANY)) {
      throw FhirException.preconditionFailed("If-None-Match * does not hold: " + type + "/" + id + " exists");
    }
    if (ifNoneMatch.contains(live.get().versionId())) {
      throw FhirException.preconditionFailed("If-None-Match W/\"" + live.get().versionId()
          + "\" does not hold: it is the current version of " + type + "/" + id);
    }
  }
}
