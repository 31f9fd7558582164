package org.fhirbox.auth;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import org.fhirbox.core.FhirException;

/**
 * Who is calling: the client, the project (tenant) it acts in, and what it may do. A token issued
 * to a person also names the user who signed in, and a SMART patient launch the patient whose
 * compartment {@code patient/} scopes are limited to (the id of a {@code Patient} in the project).
 */
public record Principal(String clientId, String project, AccessPolicy access, Optional<String> user,
    Optional<String> patient) {

  public Principal {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(patient, "patient");
  }

  /** A client acting for itself (client credentials, Basic): no user, no patient context. */
  public Principal(String clientId, String project, AccessPolicy access) {
    this(clientId, project, access, Optional.empty(), Optional.empty());
  }

  /** 403 unless the caller's scopes permit {@code interaction} on {@code type}. */
  public void require(String type, AccessPolicy.Interaction interaction) {
    if (!access.allows(type, interaction)) {
      throw FhirException.insufficientScope("the access token does not permit "
          + interaction.name().toLowerCase(Locale.ROOT) + " on " + type);
    }
  }
}
