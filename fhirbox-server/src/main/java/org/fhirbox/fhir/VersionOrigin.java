package org.fhirbox.fhir;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.model.StoredResource;

/**
 * How a stored version came to be, for the {@code request} and {@code response} of its history
 * entry (FHIR R4 http.html#history). The store keeps no method, so it is told from the versions:
 * a deletion is a DELETE; a version after a deletion was created again, which only a PUT does
 * (201); a first version was created by POST when its id has the form of the ids this server
 * assigns (a UUID: version 4 in early releases, version 7 since), else by a PUT with the client's
 * id (201). A client that PUT a UUID of its own is listed as a POST: nothing stored tells them apart.
 * A later version that a PATCH made is recorded so (migration V31; {@link ResourceStore.Tx#patched}),
 * as PUT would be wrong for it (R4 Bundle.entry.request.method has PATCH); one stored before that
 * record was kept is listed as a PUT.
 */
public enum VersionOrigin {
  /** POST to the type, 201. */
  CREATED,
  /** PUT of an id that did not exist, or had been deleted: 201. */
  CREATED_BY_PUT,
  /** PUT of an existing resource: 200. */
  UPDATED,
  /** PATCH of an existing resource: 200. */
  PATCHED,
  DELETED;

  private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

  /**
   * The origin of each of {@code versions} (of one project), by {@link #key}: a later version is
   * judged by the version before it, from {@code versions} when there, else read.
   */
  static Map<String, VersionOrigin> of(ResourceStore.Tx tx, List<StoredResource> versions) {
    Map<String, Boolean> deleted = new HashMap<>();
    versions.forEach(s -> deleted.put(key(s.type(), s.id(), s.versionId()), s.deleted()));
    Map<String, VersionOrigin> out = new HashMap<>();
    for (StoredResource s : versions) {
      VersionOrigin o;
      if (s.deleted()) {
        o = DELETED;
      } else if (s.versionId() == 1) {
        o = UUID.matcher(s.id()).matches() ? CREATED : CREATED_BY_PUT;
      } else {
        Boolean before = deleted.get(key(s.type(), s.id(), s.versionId() - 1));
        if (before == null) {
          before = tx.version(s.project(), s.type(), s.id(), s.versionId() - 1).map(StoredResource::deleted)
              .orElse(false);
        }
        o = before ? CREATED_BY_PUT : UPDATED;
      }
      out.put(key(s.type(), s.id(), s.versionId()), o);
    }
    List<StoredResource> updated = versions.stream()
        .filter(s -> out.get(key(s.type(), s.id(), s.versionId())) == UPDATED).toList();
    if (!updated.isEmpty()) {
      tx.patched(updated).forEach(s -> out.put(key(s.type(), s.id(), s.versionId()), PATCHED));
    }
    return out;
  }

  /** The key of version {@code versionId} of {@code type/id}. */
  public static String key(String type, String id, long versionId) {
    return type + "/" + id + "/" + versionId;
  }
}
