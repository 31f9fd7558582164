package org.fhirbox.http;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.Scopes;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.ResourceService;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/**
 * Finds the patients a person may choose for a standalone launch (SMART App Launch,
 * {@code context-standalone-patient}): a search by name and one by identifier, run as the person
 * with their own scopes, so the picker shows only what they could search themselves.
 */
final class PatientPicker {
  static final int MAX_RESULTS = 20;

  /** One patient as the picker shows it. */
  record Choice(String id, String name, String details) {}

  private final ResourceService resources;

  PatientPicker(ResourceService resources) {
    this.resources = resources;
  }

  /** Patients whose name or identifier matches {@code q}; throws {@link FhirException} when the person may not search. */
  List<Choice> search(Principal person, String q) throws IOException {
    Map<String, Choice> found = new LinkedHashMap<>();
    for (String param : new String[] {"name", "identifier"}) {
      Map<String, List<String>> params = Map.of(param, List.of(q), "_count", List.of(Integer.toString(MAX_RESULTS)));
      ResourceService.SearchPage page = resources.search(person, "Patient", () -> params, false);
      for (StoredResource s : page.matches()) {
        if (found.size() < MAX_RESULTS) {
          choice(s).ifPresent(c -> found.putIfAbsent(c.id(), c));
        }
      }
    }
    return new ArrayList<>(found.values());
  }

  /** The patient {@code id}, if the person may read it. */
  Optional<Choice> readable(Principal person, String id) {
    try {
      return choice(resources.read(person, "Patient", id, null));
    } catch (FhirException e) {
      return Optional.empty();
    }
  }

  /** The patient {@code id} of {@code project}, looked up by the server itself (a Patient user's own record). */
  Optional<Choice> find(String project, String clientId, String id) {
    return readable(new Principal(clientId, project, Scopes.parse("system/Patient.r")), id);
  }

  private Optional<Choice> choice(StoredResource s) {
    if (s.deleted() || s.json() == null) {
      return Optional.empty();
    }
    Optional<Resource> r = resources.readable(s);
    if (r.isEmpty() || !(r.get() instanceof Patient p)) {
      return Optional.empty();
    }
    String name = p.hasName() ? p.getNameFirstRep().getNameAsSingleString() : "";
    List<String> details = new ArrayList<>();
    if (p.hasBirthDate()) {
      details.add("born " + p.getBirthDateElement().getValueAsString());
    }
    if (p.hasGender()) {
      details.add(p.getGender().getDisplay().toLowerCase(Locale.ROOT));
    }
    for (Identifier i : p.getIdentifier()) {
      if (i.hasValue()) {
        details.add((i.hasType() && i.getType().hasText() ? i.getType().getText() + " " : "") + i.getValue());
        break;
      }
    }
    return Optional.of(new Choice(s.id(), name.isBlank() ? "Patient/" + s.id() : name, String.join(", ", details)));
  }
}
