package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.fhirbox.testing.ServerForClass;
import org.fhirbox.testing.Tus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code X-HTTP-Method-Override} (tus 1.0.0 core): followed on a POST, as clients without PATCH
 * or DELETE send it; on another method, naming another method, refused with 400 and nothing
 * changed, so that a GET or HEAD never becomes a PATCH or DELETE.
 */
class TusMethodOverrideTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();
  private static Tus tus;

  @BeforeAll
  static void client() {
    tus = new Tus(fhirbox.http());
  }

  private static HttpResponse<String> send(String url, String method, String override) {
    return tus.client().send(tus.request(url).header("X-HTTP-Method-Override", override)
        .method(method, HttpRequest.BodyPublishers.noBody()));
  }

  @Test
  void aPostOverriddenToDeleteTerminatesTheUpload() {
    String url = tus.upload(10, null);

    HttpResponse<String> r = send(url, "POST", "DELETE");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
    assertThat(tus.head(url).statusCode()).isEqualTo(404);
  }

  @Test
  void aGetOrHeadOverriddenToDeleteIsRefusedAndTheUploadStays() {
    String url = tus.upload(10, null);
    assertThat(tus.patch(url, 0, new byte[4]).statusCode()).isEqualTo(204);

    HttpResponse<String> get = send(url, "GET", "DELETE");
    HttpResponse<String> head = send(url, "HEAD", "DELETE");

    assertThat(get.statusCode()).as(get.body()).isEqualTo(400);
    assertThat(get.body()).contains("OperationOutcome", "X-HTTP-Method-Override", "POST");
    assertThat(get.headers().firstValue("Tus-Resumable")).contains("1.0.0");
    assertThat(head.statusCode()).isEqualTo(400);
    assertThat(tus.offset(url)).isEqualTo(4);
  }

  @Test
  void aPatchOverriddenToDeleteIsRefusedAndStoresNothing() {
    String url = tus.upload(10, null);

    HttpResponse<String> r = tus.patch(url, 0, new byte[4], "X-HTTP-Method-Override", "DELETE");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(tus.offset(url)).isZero();
  }

  @Test
  void anOverrideSentTwiceIsRefusedRatherThanItsFirstLineFollowed() {
    String url = tus.upload(4, null);
    assertThat(tus.patch(url, 0, new byte[2]).statusCode()).isEqualTo(204);

    HttpResponse<String> r = tus.client().send(tus.request(url).header("X-HTTP-Method-Override", "PATCH")
        .header("X-HTTP-Method-Override", "DELETE").header("Content-Type", Tus.OCTETS).header("Upload-Offset", "2")
        .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[2])));

    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("X-HTTP-Method-Override", "more than once");
    assertThat(tus.offset(url)).isEqualTo(2);
  }

  @Test
  void anOverrideNamingTheRequestsOwnMethodIsFollowed() {
    String url = tus.upload(4, null);

    HttpResponse<String> r = tus.patch(url, 0, new byte[4], "X-HTTP-Method-Override", "patch");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(204);
    assertThat(r.headers().firstValue("Content-Location")).isPresent();
  }
}
