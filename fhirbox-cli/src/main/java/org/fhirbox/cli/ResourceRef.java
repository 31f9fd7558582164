package org.fhirbox.cli;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Resource;

/** {@code TYPE/ID} or {@code TYPE/ID/_history/VERSION}, as typed on the command line. */
record ResourceRef(String type, String id, String version) {
  private static final Pattern FORM = Pattern.compile(
      "([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\\-.]{1,64})(?:/_history/([A-Za-z0-9\\-.]{1,64}))?/?");

  static ResourceRef parse(String text) {
    Matcher m = FORM.matcher(text.trim());
    if (!m.matches()) {
      throw new UsageException("'" + text + "' is not TYPE/ID or TYPE/ID/_history/VERSION");
    }
    return new ResourceRef(m.group(1), m.group(2), m.group(3));
  }

  /** The HAPI model class of a resource type name, e.g. {@code Patient}. */
  static Class<? extends Resource> javaType(FhirContext fhir, String type) {
    try {
      return fhir.getResourceDefinition(type).getImplementingClass().asSubclass(Resource.class);
    } catch (DataFormatException e) {
      throw new UsageException("'" + type + "' is not a FHIR R4 resource type");
    }
  }

  Class<? extends Resource> javaType(FhirContext fhir) {
    return javaType(fhir, type);
  }

  /** {@code TYPE/ID}, without the version. */
  String reference() {
    return type + "/" + id;
  }
}
