package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.ServerForClass;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code $upload-url} takes the parameters it names and no others: a misspelt one ({@code
 * securitycontext}, {@code sha-256}) would otherwise be dropped in silence, and the URL issued
 * for a Binary without the compartment or the checksum its client asked for. Medplum's
 * {@code $presigned-url?upload=true} likewise takes none of a download URL's parameters.
 */
class UploadUrlParametersTest {
  @RegisterExtension
  static final ServerForClass fhirbox = new ServerForClass();

  static TestClient http() {
    return fhirbox.http();
  }

  @Test
  void aParameterTheOperationDoesNotTakeGetsNoUrl() {
    String patient = http().create("{\"resourceType\":\"Patient\"}");
    for (String name : List.of("securitycontext", "sha-256", "expires_in")) {
      HttpResponse<String> r = http().postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
          + "\"parameter\":[{\"name\":\"size\",\"valueInteger\":5},{\"name\":\"" + name + "\",\"valueString\":"
          + "\"Patient/" + patient + "\"}]}");

      assertThat(r.statusCode()).as(name + ": " + r.body()).isEqualTo(400);
      OperationOutcome.OperationOutcomeIssueComponent issue = http().parse(r, OperationOutcome.class).getIssueFirstRep();
      assertThat(issue.getDiagnostics()).contains("'" + name + "'", "securityContext", "sha256");
      assertThat(issue.getExpression()).extracting(Object::toString).containsExactly(name);
    }
  }

  @Test
  void aParameterInTheQueryOrWithAValueThatIsNotSimpleGetsNoUrl() {
    String patient = http().create("{\"resourceType\":\"Patient\"}");
    String size = "{\"name\":\"size\",\"valueInteger\":5}";
    HttpResponse<String> query = http().postJson("fhir/R4/Binary/$upload-url?securityContext=Patient/" + patient,
        "{\"resourceType\":\"Parameters\",\"parameter\":[" + size + "]}");
    assertThat(query.statusCode()).as(query.body()).isEqualTo(400);
    assertThat(query.body()).contains("securityContext", "query");

    for (String param : List.of("{\"name\":\"securityContext\",\"valueIdentifier\":{\"value\":\"Patient/" + patient
        + "\"}}", "{\"name\":\"securityContext\",\"part\":[{\"name\":\"reference\",\"valueString\":\"Patient/"
        + patient + "\"}]}", "{\"name\":\"securityContext\"}")) {
      HttpResponse<String> r = http().postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
          + "\"parameter\":[" + size + "," + param + "]}");
      assertThat(r.statusCode()).as(param + ": " + r.body()).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("'securityContext'", "primitive type or a Reference");
    }
    assertThat(http().postJson("fhir/R4/Binary/$upload-url?_format=json", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[" + size + "]}").statusCode()).isEqualTo(200);
  }

  @Test
  void everyParameterItNamesIsTaken() {
    String patient = http().create("{\"resourceType\":\"Patient\"}");
    HttpResponse<String> r = http().postJson("fhir/R4/Binary/$upload-url", "{\"resourceType\":\"Parameters\","
        + "\"parameter\":[{\"name\":\"size\",\"valueInteger\":3},{\"name\":\"contentType\",\"valueString\":\"text/plain\"},"
        + "{\"name\":\"sha256\",\"valueString\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"},"
        + "{\"name\":\"sha1\",\"valueString\":\"a9993e364706816aba3e25717850c26c9cd0d89d\"},"
        + "{\"name\":\"filename\",\"valueString\":\"abc.txt\"},"
        + "{\"name\":\"securityContext\",\"valueReference\":{\"reference\":\"Patient/" + patient + "\"}},"
        + "{\"name\":\"multipart\",\"valueBoolean\":false},{\"name\":\"expiresIn\",\"valueInteger\":60}]}");

    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @Test
  void medplumsUploadFormTakesNoParameterOfADownloadUrl() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}"));
    // expiresIn=60 answered with a URL that lives 15 minutes would outlive what its caller asked for
    // an empty download= asks for the file's own name: still a download URL's parameter
    for (String query : List.of("expiresIn=60", "download=a.txt", "download=", "thumbnail=true")) {
      HttpResponse<String> r = http().get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true&" + query);

      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("upload=true", query.substring(0, query.indexOf('=')));
    }
    assertThat(http().get("fhir/R4/Binary/" + id + "/$presigned-url?upload=true").statusCode()).isEqualTo(200);
  }

  @Test
  void aParameterOfPresignedUrlNamedTwiceGetsNoUrl() {
    String id = TestClient.createdId(http().postJson("fhir/R4/Binary",
        "{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\",\"data\":\"aGk=\"}"));
    // upload=false&upload=true answered with a download URL, and upload=true&upload=false with an
    // upload URL, would leave the client (or a proxy that reads the last value) with what it did not ask for
    for (String query : List.of("upload=true&upload=false", "upload=false&upload=true", "upload=true&upload=true",
        "expiresIn=60&expiresIn=600", "download=a.txt&download=b.txt", "thumbnail=true&thumbnail=false")) {
      String name = query.substring(0, query.indexOf('='));
      HttpResponse<String> r = http().get("fhir/R4/Binary/" + id + "/$presigned-url?" + query);

      assertThat(r.statusCode()).as(query + ": " + r.body()).isEqualTo(400);
      OperationOutcome.OperationOutcomeIssueComponent issue = http().parse(r, OperationOutcome.class).getIssueFirstRep();
      assertThat(issue.getDiagnostics()).contains(name, "more than once");
      assertThat(issue.getExpression()).extracting(Object::toString).containsExactly(name);
    }
    assertThat(http().get("fhir/R4/Binary/" + id + "/$presigned-url?expiresIn=600&download=a.txt").statusCode())
        .isEqualTo(200);
  }

  @Test
  void aParametersBodyNotSentAsFhirIsRefusedAsSuch() {
    // fetch() with a string body and no headers sends text/plain;charset=UTF-8; curl -d a form type
    String body = "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"size\",\"valueInteger\":5}]}";
    for (String type : List.of("text/plain;charset=UTF-8", "application/x-www-form-urlencoded")) {
      HttpResponse<String> r = http().postBytes("fhir/R4/Binary/$upload-url", type,
          body.getBytes(StandardCharsets.UTF_8));

      assertThat(r.statusCode()).as(type + ": " + r.body()).isEqualTo(415);
      assertThat(http().parse(r, OperationOutcome.class).getIssueFirstRep().getDiagnostics())
          .contains("application/fhir+json").containsIgnoringCase(type);
    }
    assertThat(http().postBytes("fhir/R4/Binary/$upload-url", "application/json",
        body.getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(200);
  }
}
