package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.TimeZone;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.TestClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An update that changes nothing makes no new version (as HAPI FHIR and Medplum do): 200 with the
 * current version, its {@code ETag} and {@code lastUpdated} unchanged, and no history entry; a
 * change makes the next version as before. Binaries are the exception: each update is a version.
 */
class NoChangeUpdateTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  private static String patient(String family) {
    return http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}");
  }

  private static HttpResponse<String> put(String path, String json, String... headers) {
    HttpRequest.Builder req = http().request("fhir/R4/" + path).header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString(json));
    return http().send(headers.length == 0 ? req : req.headers(headers));
  }

  private static int historyCount(String path) {
    HttpResponse<String> r = http().get("fhir/R4/" + path + "/_history");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return http().parse(r, Bundle.class).getEntry().size();
  }

  @Test
  void theSameBodyAgainKeepsTheCurrentVersionAndItsTime() {
    String id = patient("Same");
    HttpResponse<String> read = http().get("fhir/R4/Patient/" + id);
    Patient before = http().parse(read, Patient.class);

    HttpResponse<String> again = put("Patient/" + id, read.body(), "If-Match", "W/\"1\"");
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.headers().firstValue("ETag")).hasValue("W/\"1\"");
    Patient answered = http().parse(again, Patient.class);
    assertThat(answered.getMeta().getVersionId()).isEqualTo("1");
    assertThat(answered.getMeta().getLastUpdatedElement().getValueAsString())
        .isEqualTo(before.getMeta().getLastUpdatedElement().getValueAsString());
    assertThat(historyCount("Patient/" + id)).isEqualTo(1);

    // the same body without its meta, as a client that never kept it sends it
    String bare = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Same\"}]}";
    assertThat(put("Patient/" + id, bare).headers().firstValue("ETag")).hasValue("W/\"1\"");
    // the If-Match the client still holds is still the current version
    HttpResponse<String> changed = put("Patient/" + id, bare.replace("Same", "Changed"), "If-Match", "W/\"1\"");
    assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
    assertThat(changed.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(historyCount("Patient/" + id)).isEqualTo(2);
  }

  @Test
  void theSameBodyIsNoChangeOnANodeInAnotherTimeZone() {
    String id = patient("Zoned");
    String bare = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Zoned\"}]}";
    TimeZone zone = TimeZone.getDefault();
    try {
      // the server of this test is the node: its zone now that of a node elsewhere
      TimeZone.setDefault(TimeZone.getTimeZone("Asia/Kolkata"));
      HttpResponse<String> again = put("Patient/" + id, bare);
      assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
      assertThat(again.headers().firstValue("ETag")).hasValue("W/\"1\"");
      assertThat(http().parse(again, Patient.class).getMeta().getLastUpdatedElement().getValueAsString()).endsWith("Z");
    } finally {
      TimeZone.setDefault(zone);
    }
    assertThat(historyCount("Patient/" + id)).isEqualTo(1);
  }

  @Test
  void aReadBodyWithItsSignedPhotoUrlPutBackIsNoChange() {
    String binary = http().createBinary("fhir/R4/Binary", "image/png", "Patient/" + patient("Owner"),
        "png bytes".getBytes(StandardCharsets.UTF_8));
    String id = http().create("{\"resourceType\":\"Patient\",\"photo\":[{\"contentType\":\"image/png\","
        + "\"url\":\"Binary/" + binary + "\"}]}");
    HttpResponse<String> read = http().get("fhir/R4/Patient/" + id);
    String signed = http().parse(read, Patient.class).getPhotoFirstRep().getUrl();
    assertThat(signed).as("the read shows a signed URL, which a write turns back into Binary/{id}")
        .startsWith("http").contains(binary);

    HttpResponse<String> again = put("Patient/" + id, read.body());
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(historyCount("Patient/" + id)).isEqualTo(1);
  }

  /**
   * A change is stored with the new version's stamp written over the one the comparison encoded
   * (version 10's is a character longer than 9's), and the photo's url after it is still the
   * Binary's, signed on the way out.
   */
  @Test
  void eachChangeIsStoredWithItsOwnStampAndItsPhotoUrlIntact() {
    String binary = http().createBinary("fhir/R4/Binary", "image/png", "Patient/" + patient("Stamped"),
        "png bytes".getBytes(StandardCharsets.UTF_8));
    String id = http().create("{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"v1\"}],"
        + "\"photo\":[{\"contentType\":\"image/png\",\"url\":\"Binary/" + binary + "\"}]}");
    for (int v = 2; v <= 10; v++) {
      HttpResponse<String> changed = put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id
          + "\",\"name\":[{\"family\":\"v" + v + "\"}],\"photo\":[{\"contentType\":\"image/png\","
          + "\"url\":\"Binary/" + binary + "\"}]}");
      assertThat(changed.headers().firstValue("ETag")).as(changed.body()).hasValue("W/\"" + v + "\"");
    }
    for (String path : new String[] {"Patient/" + id, "Patient/" + id + "/_history/9"}) {
      HttpResponse<String> read = http().get("fhir/R4/" + path);
      assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
      Patient p = http().parse(read, Patient.class);
      String v = p.getMeta().getVersionId();
      assertThat(path).endsWith(v.equals("10") ? id : "/" + v);
      assertThat(p.getNameFirstRep().getFamily()).isEqualTo("v" + v);
      assertThat(read.headers().firstValue("Last-Modified")).isPresent();
      assertThat(p.getMeta().getLastUpdatedElement().getValueAsString()).endsWith("Z");
      String url = p.getPhotoFirstRep().getUrl();
      assertThat(url).startsWith("http").contains(binary);
      HttpResponse<String> photo = http().send(HttpRequest.newBuilder(URI.create(url)).GET());
      assertThat(photo.statusCode()).isEqualTo(200);
      assertThat(photo.body()).isEqualTo("png bytes");
    }
    assertThat(historyCount("Patient/" + id)).isEqualTo(10);
  }

  /** A Meta with an extension is encoded before its versionId: such a change is encoded once more, stamped. */
  @Test
  void aChangeWhoseMetaCarriesAnExtensionIsStoredWithItsNewStamp() {
    String id = patient("Extended");
    String ext = "\"meta\":{\"extension\":[{\"url\":\"http://example.org/origin\",\"valueString\":\"import\"}]}";
    HttpResponse<String> changed = put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\","
        + ext + ",\"name\":[{\"family\":\"Extended2\"}]}");
    assertThat(changed.headers().firstValue("ETag")).as(changed.body()).hasValue("W/\"2\"");

    HttpResponse<String> read = http().get("fhir/R4/Patient/" + id);
    Patient p = http().parse(read, Patient.class);
    assertThat(p.getMeta().getVersionId()).isEqualTo("2");
    assertThat(p.getMeta().getExtensionByUrl("http://example.org/origin").getValue().primitiveValue()).isEqualTo("import");
    assertThat(p.getMeta().getLastUpdatedElement().getValueAsString())
        .isEqualTo(http().parse(changed, Patient.class).getMeta().getLastUpdatedElement().getValueAsString());
    assertThat(read.headers().firstValue("ETag")).hasValue("W/\"2\"");
  }

  @Test
  void aPatchThatChangesNothingAndATransactionEntryMakeNoVersion() {
    String id = patient("Patched");
    HttpResponse<String> patched = http().send(http().request("fhir/R4/Patient/" + id)
        .header("Content-Type", "application/json-patch+json")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(
            "[{\"op\":\"test\",\"path\":\"/meta/versionId\",\"value\":\"1\"},"
                + "{\"op\":\"replace\",\"path\":\"/name/0/family\",\"value\":\"Patched\"}]")));
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    assertThat(patched.headers().firstValue("ETag")).hasValue("W/\"1\"");

    String entry = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Patched\"}]}";
    HttpResponse<String> tx = http().postJson("fhir/R4", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":[{\"resource\":" + entry + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}}]}");
    assertThat(tx.statusCode()).as(tx.body()).isEqualTo(200);
    Bundle.BundleEntryResponseComponent response = http().parse(tx, Bundle.class).getEntryFirstRep().getResponse();
    assertThat(response.getStatus()).startsWith("200");
    assertThat(response.getEtag()).isEqualTo("W/\"1\"");
    assertThat(historyCount("Patient/" + id)).isEqualTo(1);
  }

  @Test
  void aDeletedResourcePutBackIsANewVersionAndABinaryUpdateAlwaysIs() {
    String id = patient("Back");
    String body = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Back\"}]}";
    assertThat(http().delete("fhir/R4/Patient/" + id).statusCode()).isIn(200, 204);
    HttpResponse<String> back = put("Patient/" + id, body);
    assertThat(back.statusCode()).as(back.body()).isEqualTo(201);
    assertThat(back.headers().firstValue("ETag")).hasValue("W/\"3\"");

    String binary = http().createBinary("fhir/R4/Binary", "text/plain", "Patient/" + id,
        "same".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> raw = http().send(http().request("fhir/R4/Binary/" + binary)
        .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("same")));
    assertThat(raw.statusCode()).as(raw.body()).isEqualTo(200);
    assertThat(raw.headers().firstValue("ETag")).hasValue("W/\"2\"");
  }
}
