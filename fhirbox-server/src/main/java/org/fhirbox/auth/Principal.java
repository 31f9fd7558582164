package org.fhirbox.auth;

import java.util.Locale;
import org.fhirbox.core.FhirException;

/** Who is calling: the client, the project (tenant) it acts in, and what it may do. */
public record Principal(String clientId, String project, AccessPolicy access) {

  /** 403 unless the caller's scopes permit {@code interaction} on {@code type}. */
  public void require(String type, AccessPolicy.Interaction interaction) {
    if (!access.allows(type, interaction)) {
      throw FhirException.forbidden("the access token does not permit "
          + interaction.name().toLowerCase(Locale.ROOT) + " on " + type);
    }
  }
}
