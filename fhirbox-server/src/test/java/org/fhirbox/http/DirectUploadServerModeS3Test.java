package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fhirbox.http.DirectS3Fixture.ANONYMOUS;
import static org.fhirbox.http.DirectS3Fixture.sha1Base64;
import static org.fhirbox.testing.TestBytes.random;
import static org.fhirbox.testing.TestBytes.sha256;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.time.Instant;
import org.fhirbox.model.PendingUpload;
import org.fhirbox.signing.SigningKeys;
import org.fhirbox.signing.UploadUrlSigner;
import org.fhirbox.testing.SlowTest;
import org.fhirbox.testing.TestBytes;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Presigned uploads in the {@code server} signing mode over the S3 blob store, against s3proxy
 * checking SigV4 signatures: the URL is fhirbox's own, the node streams the bytes into the bucket.
 */
@SlowTest
class DirectUploadServerModeS3Test {
  static DirectS3Fixture f;

  @BeforeAll
  static void start() throws Exception {
    f = DirectS3Fixture.start("server");
  }

  @AfterAll
  static void stop() throws Exception {
    f.close();
  }

  record Issued(String binary, String url, Map<String, String> headers) {}

  static Issued issue(String requestBody) {
    HttpResponse<String> r = f.http.postJson("fhir/R4/Binary/$upload-url", requestBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    Parameters p = f.http.parse(r, Parameters.class);
    assertThat(p.getParameter("complete")).as("no confirmation step: the PUT itself creates the Binary").isNull();
    Map<String, String> headers = new LinkedHashMap<>();
    p.getParameter("headers").getPart().forEach(part -> headers.put(part.getName(), part.getValue().primitiveValue()));
    return new Issued(((Reference) p.getParameter("binary").getValue()).getReference(),
        p.getParameter("url").getValue().primitiveValue(), headers);
  }

  static HttpResponse<String> put(Issued issued, byte[] bytes) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(issued.url()))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes));
    issued.headers().forEach(b::header);
    return ANONYMOUS.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theSignedPutStreamsThroughTheNodeIntoTheBucketOnce() throws Exception {
    byte[] bytes = random(3 << 20, 31);
    String request = f.body(bytes.length, sha256(bytes));
    List<String> objectsBefore = f.objectKeys();
    double before = f.bytesIn();

    Issued issued = issue(request);
    assertThat(issued.url()).startsWith(f.server.baseUrl() + "storage/upload/" + issued.binary().substring(7) + "?");
    assertThat(issued.headers()).containsExactly(Map.entry("Content-Type", "application/octet-stream"));
    HttpResponse<String> r = put(issued, bytes);

    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(f.bytesIn() - before).as("the content passed through the node, with the $upload-url request")
        .isEqualTo(request.getBytes(StandardCharsets.UTF_8).length + bytes.length);
    List<String> added = new ArrayList<>(f.objectKeys());
    added.removeAll(objectsBefore);
    assertThat(added).as("one object in the bucket holds the content").hasSize(1);
    HttpResponse<byte[]> raw = f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET());
    assertThat(raw.statusCode()).isEqualTo(200);
    TestBytes.assertBlobEtag(raw.headers());
    assertThat(raw.body()).isEqualTo(bytes);
    HttpResponse<String> patient = f.http.postJson("fhir/R4/Patient",
        "{\"resourceType\":\"Patient\",\"photo\":[{\"url\":\"" + issued.binary() + "\"}]}");
    assertThat(patient.statusCode()).as(patient.body()).isEqualTo(201);
    assertThat(patient.body()).as("size and SHA-1 known at once").contains("\"size\":" + bytes.length)
        .contains("\"hash\":\"" + sha1Base64(bytes) + "\"");

    HttpResponse<String> again = put(issued, random(bytes.length, 32));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(409);
    assertThat(f.http.parse(again, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("can be used once");
    List<String> after = new ArrayList<>(f.objectKeys());
    after.removeAll(objectsBefore);
    assertThat(after).as("the second PUT left nothing in the bucket").isEqualTo(added);
    assertThat(f.http.sendBytes(f.http.request("fhir/R4/" + issued.binary()).GET()).body()).isEqualTo(bytes);
  }

  @Test
  void aCompletionUrlOfANodeInTheS3ModeIsRefusedHereWithAnOperationOutcome() throws Exception {
    // A node in the s3 signing mode on the same database, bucket and keys issued it (a mixed or
    // changing deployment behind one load balancer); this node takes bytes itself and confirms nothing.
    UploadUrlSigner signer = new UploadUrlSigner(SigningKeys.loadOrCreate(f.server.dataDir()), f.clock);
    String binaryId = "01a25195-7bb0-7b82-af62-3c61ee4c35ee";
    String sha256 = sha256("abcde".getBytes(StandardCharsets.UTF_8));
    String blob = "0bad72c965d2d98179bfea7f09cf2952";
    Instant expires = f.clock.instant().plusSeconds(600);
    String url = signer.sign(f.server.baseUrl(), new UploadUrlSigner.Grant(binaryId, "default", 5L,
        "text/plain", sha256, null, null, null, null, blob, null, TestServer.ADMIN_ID, null), expires);
    PendingUpload pending = new PendingUpload(binaryId, "default", TestServer.ADMIN_ID, null, blob, null, 5,
        sha256, null, "text/plain", null, null, expires, expires, false);
    f.server.server().store().inTransaction(tx -> {
      tx.pendingUploads().insert(pending);
      return null;
    });

    HttpResponse<String> r = ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("5");
    assertThat(f.http.parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
        .contains("FHIRBOX_SIGNED_URL_MODE=s3").contains("POST");
    Optional<PendingUpload> left = f.server.server().store().read(tx -> tx.pendingUploads().find(binaryId));
    assertThat(left).as("the upload is left to a node in the s3 mode").isPresent();
    assertThat(f.http.get("fhir/R4/Binary/" + binaryId).statusCode()).isEqualTo(404);

    // once the upload is over (here: refused, its row gone, no Binary), any node says so from the database
    f.server.server().store().inTransaction(tx -> {
      tx.pendingUploads().delete(binaryId);
      return null;
    });
    HttpResponse<String> over = ANONYMOUS.send(HttpRequest.newBuilder(URI.create(url))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(over.statusCode()).as(over.body()).isEqualTo(410);
  }
}
