package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The FHIR resource interactions of {@link FhirboxClient} (FHIR R4 http.html: create, read, vread,
 * update, patch, delete, search, history, batch), apart from its binary transfers so that each
 * stays readable. Package-private and sealed, as {@code java.lang.AbstractStringBuilder} is to
 * {@code StringBuilder}: its public methods are {@link FhirboxClient}'s, documented there, and no
 * other class extends it.
 */
abstract sealed class ResourceInteractions permits FhirboxClient {
  final Resources resources;
  private final FhirContext fhirContext;

  ResourceInteractions(Resources resources, FhirContext fhirContext) {
    this.resources = resources;
    this.fhirContext = fhirContext;
  }

  /**
   * Creates {@code resource} ({@code POST /{type}}) and returns it as stored, with id and meta.
   *
   * <pre>{@code
   * Patient p = client.createResource(new Patient().addName(new HumanName().setFamily("Smith")));
   * String id = p.getIdElement().getIdPart();
   * }</pre>
   */
  public <T extends Resource> T createResource(T resource) {
    return resources.create(resource);
  }

  /**
   * Creates {@code resource} unless {@code query} finds one ({@code If-None-Exist}): returns the new
   * resource, or the one match unchanged; more than one match throws 412.
   *
   * <pre>{@code
   * Patient p = client.createResourceIfNoneExist(patient, "identifier=urn:mrn|123");
   * }</pre>
   */
  public <T extends Resource> T createResourceIfNoneExist(T resource, String query) {
    return resources.createIfNoneExist(resource, query);
  }

  /**
   * Updates the one resource {@code query} finds, or creates {@code resource} when none does
   * ({@code PUT /{type}?query}, a conditional update); more than one match throws 412.
   *
   * <pre>{@code
   * Patient p = client.upsertResource(patient, "identifier=urn:mrn|123");
   * }</pre>
   */
  public <T extends Resource> T upsertResource(T resource, String query) {
    return resources.upsert(resource, query);
  }

  /**
   * Applies a JSON Patch (RFC 6902) to {@code type/id} and returns the new version; a failed
   * {@code test} operation throws 412.
   *
   * <pre>{@code
   * Patient p = client.patchResource(Patient.class, "123",
   *     "[{\"op\":\"replace\",\"path\":\"/active\",\"value\":false}]");
   * }</pre>
   */
  public <T extends Resource> T patchResource(Class<T> type, String id, String jsonPatch) {
    return resources.patch(type, id, jsonPatch);
  }

  /**
   * Reads the current version of {@code type/id}; a missing or deleted one throws 404 / 410.
   *
   * <pre>{@code
   * Patient p = client.readResource(Patient.class, "123");
   * }</pre>
   */
  public <T extends Resource> T readResource(Class<T> type, String id) {
    return resources.read(type, id, null);
  }

  /**
   * Reads what {@code reference} points at, as Medplum's {@code readReference} does:
   * {@code Type/id} or {@code Type/id/_history/vid}, relative to the FHIR base or an absolute URL
   * under it. A URL of another server is refused ({@link IllegalArgumentException}), never
   * fetched, so that the client's credentials go nowhere else; so are a contained ({@code #id})
   * reference and one by identifier or display only.
   *
   * <pre>{@code
   * Resource subject = client.readReference(observation.getSubject());
   * }</pre>
   */
  public Resource readReference(Reference reference) {
    return resources.readReference(reference.getReference(), Resource.class);
  }

  /**
   * Reads what {@code reference} points at as a {@code type}; a reference to another type is refused.
   *
   * <pre>{@code
   * Patient patient = client.readReference(observation.getSubject(), Patient.class);
   * }</pre>
   */
  public <T extends Resource> T readReference(Reference reference, Class<T> type) {
    return resources.readReference(reference.getReference(), type);
  }

  /**
   * Reads version {@code versionId} of {@code type/id} ({@code GET /{type}/{id}/_history/{vid}}).
   *
   * <pre>{@code
   * Patient first = client.readVersion(Patient.class, "123", "1");
   * }</pre>
   */
  public <T extends Resource> T readVersion(Class<T> type, String id, String versionId) {
    return resources.read(type, id, versionId);
  }

  /**
   * Updates {@code resource} ({@code PUT /{type}/{id}}). When it carries a version
   * ({@code meta.versionId}), sends {@code If-Match} so a concurrent change fails with 412
   * instead of being overwritten. A repeat of that {@code PUT} (its answer lost) that gets 412 is
   * checked by reading the resource: when it holds what was sent, the write was this call's own
   * first attempt and the resource is returned.
   *
   * <pre>{@code
   * Patient p = client.readResource(Patient.class, "123");
   * p.setActive(false);
   * p = client.updateResource(p);
   * }</pre>
   */
  public <T extends Resource> T updateResource(T resource) {
    return resources.update(resource, true);
  }

  /**
   * Updates {@code resource}, with {@code If-Match} only when {@code ifMatch} is true and the
   * resource carries a version; {@code false} overwrites whatever is stored.
   *
   * <pre>{@code
   * Patient p = new Patient().setActive(true);
   * p.setId("123");
   * client.updateResource(p, false);
   * }</pre>
   */
  public <T extends Resource> T updateResource(T resource, boolean ifMatch) {
    return resources.update(resource, ifMatch);
  }

  /**
   * Deletes {@code type/id}.
   *
   * <pre>{@code
   * client.deleteResource(Patient.class, "123");
   * }</pre>
   */
  public void deleteResource(Class<? extends Resource> type, String id) {
    resources.delete(fhirContext.getResourceType(type), id);
  }

  /**
   * Deletes {@code type/id}, naming the type as a string.
   *
   * <pre>{@code
   * client.deleteResource("Observation", "obs-1");
   * }</pre>
   */
  public void deleteResource(String type, String id) {
    resources.delete(type, id);
  }

  /**
   * Searches {@code type} with a FHIR query string and streams the matches of that type,
   * requesting the next page only when the stream reaches it. Close nothing; just stop reading.
   * The query is form-encoded, as {@code URLEncoder} or {@code URLSearchParams} write it: a
   * {@code +} is a space ({@code name=van+der+Berg}), a literal {@code +} such as a timezone
   * offset is written {@code %2B} ({@code date=ge2024-01-01T00:00:00%2B01:00}); characters that
   * may not appear raw in a URL ({@code |}, a space) are percent-encoded for you.
   *
   * <pre>{@code
   * List<Patient> smiths = client.search(Patient.class, "family=Smith&_count=50")
   *     .limit(200)
   *     .toList();
   * }</pre>
   */
  public <T extends Resource> Stream<T> search(Class<T> type, String query) {
    return resources.search(type, query);
  }

  /**
   * Searches {@code type} and returns the first page as the server sent it. The query is
   * form-encoded as for {@link #search(Class, String)}: {@code +} is a space, {@code %2B} a plus.
   *
   * <pre>{@code
   * Bundle page = client.searchBundle(Observation.class, "subject=Patient/123&_count=10&_total=accurate");
   * int total = page.getTotal(); // without _total, only the last page carries it
   * }</pre>
   */
  public Bundle searchBundle(Class<? extends Resource> type, String query) {
    return resources.searchBundle(type, query);
  }

  /**
   * The version history of {@code type/id}, newest first ({@code GET /{type}/{id}/_history}).
   *
   * <pre>{@code
   * Bundle history = client.readHistory(Patient.class, "123");
   * history.getEntry().forEach(e -> System.out.println(e.getResponse().getEtag()));
   * }</pre>
   */
  public Bundle readHistory(Class<? extends Resource> type, String id) {
    return resources.history(type, id);
  }

  /**
   * Sends a batch or transaction Bundle to the base and returns the response Bundle.
   *
   * <pre>{@code
   * Bundle batch = new Bundle().setType(Bundle.BundleType.BATCH);
   * batch.addEntry().setResource(new Patient()).getRequest()
   *     .setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
   * Bundle result = client.executeBatch(batch);
   * }</pre>
   */
  public Bundle executeBatch(Bundle bundle) {
    return resources.batch(bundle);
  }
}
