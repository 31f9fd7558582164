package org.fhirbox.binary;

import java.time.Duration;
import java.time.Instant;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;

/**
 * The caps on unfinished, unexpired resumable uploads: {@code FHIRBOX_UPLOAD_MAX_OPEN} per owner (a
 * project's client, and user for a person's token) and {@code FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT}
 * per project (0: none). One creation more is 429 with {@code Retry-After}.
 *
 * <p>A creation counts and stores its upload in one transaction that first takes a named lock
 * ({@link ResourceStore.Tx#lockCondition}), held until it commits, on every node sharing the
 * database: its project's when the project has a cap, else its owner's. Creations under the same
 * lock count one after the other, each seeing the uploads the earlier ones stored, so that
 * creations at the same moment, on one node or several, fill the last place once. Owners of other
 * projects (and, without a project cap, other owners) take other locks and do not wait for each
 * other, but for the rare one that shares a lock's row ({@link ResourceStore.Tx#lockCondition}).
 */
final class OpenUploadCaps {
  /** {@code Retry-After} of a creation refused for too many open uploads. */
  static final long RETRY_AFTER_SECONDS = 60;
  private final int perOwner;
  private final int perProject;
  private final Duration expiry;

  /**
   * @param perOwner the most open uploads of one owner ({@code FHIRBOX_UPLOAD_MAX_OPEN})
   * @param perProject the most open uploads of one project's owners together, 0 for no cap
   *     ({@code FHIRBOX_UPLOAD_MAX_OPEN_PER_PROJECT})
   * @param expiry how long an upload lives after its last piece (said in the refusal)
   */
  OpenUploadCaps(int perOwner, int perProject, Duration expiry) {
    this.perOwner = perOwner;
    this.perProject = perProject;
    this.expiry = expiry;
  }

  /**
   * 429 when {@code principal}'s owner or project has no room for another upload, counted without
   * a lock: a creation refused here starts no storage. Creations at the same moment may all pass
   * it; {@link #reserve} decides.
   */
  void require(ResourceStore store, Principal principal, Instant now) {
    store.read(tx -> {
      requireRoom(tx, principal, now);
      return null;
    });
  }

  /**
   * In the transaction that then stores the new upload: takes the lock of {@code principal}'s
   * creations and counts; 429 when there is no room for another.
   */
  void reserve(ResourceStore.Tx tx, Principal principal, Instant now) {
    tx.lockCondition(lockName(principal));
    requireRoom(tx, principal, now);
  }

  private String lockName(Principal principal) {
    if (perProject > 0) {
      return "resumable-upload-project\n" + principal.project();
    }
    return "resumable-upload-owner\n" + principal.project() + "\n" + principal.clientId() + "\n"
        + principal.user().map(u -> "user " + u).orElse("");
  }

  private void requireRoom(ResourceStore.Tx tx, Principal principal, Instant now) {
    String user = principal.user().orElse(null);
    int open = tx.uploads().countOpen(principal.project(), principal.clientId(), user, now);
    if (open >= perOwner) {
      // 429, not 403: the client frees room itself (or its uploads expire), and may then go on
      throw full((user == null ? "this client" : "this user, with this client,") + " already has " + open
          + " unfinished resumable uploads, the most the server allows at once (" + perOwner + "); finish them"
          + " or end those no longer needed with DELETE on their URL (an abandoned one ends by itself "
          + duration(expiry) + " after its last piece) before creating another");
    }
    if (perProject > 0) {
      int inProject = tx.uploads().countOpenInProject(principal.project(), now);
      if (inProject >= perProject) {
        throw full("this project already has " + inProject + " unfinished resumable uploads of its clients"
            + " together, the most the server allows a project at once (" + perProject + "); there is room"
            + " again once one of them is finished, ended with DELETE on its URL, or expired (an abandoned one"
            + " ends by itself " + duration(expiry) + " after its last piece)");
      }
    }
  }

  private static FhirException full(String why) {
    return FhirException.tooManyRequests(why, RETRY_AFTER_SECONDS);
  }

  /** {@code d} as a person reads it: "24 h", "90 min", "75 s". */
  private static String duration(Duration d) {
    long s = d.toSeconds();
    return s % 3600 == 0 ? s / 3600 + " h" : s % 60 == 0 ? s / 60 + " min" : s + " s";
  }
}
