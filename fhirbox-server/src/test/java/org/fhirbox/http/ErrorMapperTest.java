package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.FileSystemException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.List;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.db.StoreException;
import org.fhirbox.fhir.FhirCodec;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.s3.model.S3Exception;

class ErrorMapperTest {
  private final ErrorMapper mapper = new ErrorMapper(new FhirCodec(TestServer.FHIR));

  @Test
  void writeThatLostARaceIsAConflict() {
    FhirException e = mapper.translate(new StoreException("insert", new SQLException("duplicate key", "23505")));

    assertThat(e.status()).isEqualTo(409);
    assertThat(e.issues().get(0).type()).isEqualTo(IssueType.CONFLICT);
  }

  @Test
  void textTheDatabaseCannotHoldIsTheCallersFault() {
    for (String state : List.of("22021", "22P05")) {
      FhirException e = mapper.translate(new StoreException("query",
          new SQLException("invalid byte sequence for encoding \"UTF8\": 0x00", state)));

      assertThat(e.status()).isEqualTo(400);
      assertThat(e.issues().get(0).diagnostics()).contains("U+0000");
    }
  }

  @Test
  void exhaustedConnectionPoolIsUnavailable() {
    FhirException e = mapper.translate(new StoreException("query",
        new SQLTransientConnectionException("fhirbox - Connection is not available, request timed out after 1000ms")));

    assertThat(e.status()).isEqualTo(503);
    assertThat(e.headers()).containsEntry("Retry-After", "10");
    assertThat(e.issues().get(0).type()).isEqualTo(IssueType.TRANSIENT);
  }

  @Test
  void fullDatabaseDiskIsUnavailable() {
    FhirException e = mapper.translate(
        new StoreException("insert", new SQLException("could not extend file", "53100")));

    assertThat(e.status()).isEqualTo(503);
  }

  @Test
  void fullBlobDiskIsUnavailable() {
    FhirException e = mapper.translate(new UncheckedIOException("could not store the upload",
        new FileSystemException("/data/blobs/ab/tmp-1: No space left on device")));

    assertThat(e.status()).isEqualTo(503);
    assertThat(e.headers()).containsEntry("Retry-After", "10");
    assertThat(e.issues().get(0).diagnostics()).startsWith("the blob store's disk is full; try again later");
  }

  @Test
  void missingOrDeniedBucketIsUnavailable() {
    S3Exception missing = (S3Exception) S3Exception.builder().statusCode(404)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode("NoSuchBucket").build()).build();
    S3Exception denied = (S3Exception) S3Exception.builder().statusCode(403)
        .awsErrorDetails(AwsErrorDetails.builder().errorCode("AccessDenied").build()).build();

    FhirException m = mapper.translate(new UncheckedIOException(new IOException("PutObject failed", missing)));
    FhirException d = mapper.translate(new UncheckedIOException(new IOException("PutObject failed", denied)));

    assertThat(m.status()).isEqualTo(503);
    assertThat(m.issues().get(0).diagnostics()).startsWith("the object store's bucket does not exist");
    assertThat(d.status()).isEqualTo(503);
    assertThat(d.issues().get(0).diagnostics()).startsWith("the object store denies access to its bucket");
  }

  /** A connect or read timeout of the S3 client (packets dropped on the way, an overloaded server), as a refused connection is. */
  @Test
  void objectStoreThatDoesNotAnswerInTimeIsUnavailable() {
    for (String timeout : List.of("Connect timed out", "Read timed out")) {
      SdkClientException sdk = SdkClientException.builder().message("Unable to execute HTTP request: " + timeout)
          .cause(new SocketTimeoutException(timeout)).build();

      FhirException e = mapper.translate(new UncheckedIOException(new IOException("GetObject failed", sdk)));

      assertThat(e.status()).as(timeout).isEqualTo(503);
      assertThat(e.headers()).containsEntry("Retry-After", "10");
      assertThat(e.issues().get(0).diagnostics()).startsWith("the object store did not answer in time");
    }
    // a timeout of anything else (a database driver's socket) names no object store
    assertThat(mapper.translate(new IOException("query failed", new SocketTimeoutException("Read timed out"))).status())
        .isEqualTo(500);
  }

  @Test
  void otherFailuresAreInternalErrors() {
    FhirException e = mapper.translate(new StoreException("query", new SQLException("syntax error", "42601")));

    assertThat(e.status()).isEqualTo(500);
    assertThat(e.headers()).doesNotContainKey("Retry-After");
    assertThat(e.issues().get(0).diagnostics()).startsWith("internal error; reference ");
  }

  @Test
  void theKindDecidesStatusAndIssueType() {
    assertThat(FhirException.methodNotAllowed("x", "GET").status()).isEqualTo(405);
    assertThat(FhirException.methodNotAllowed("x", "GET", "HEAD").headers()).containsEntry("Allow", "GET, HEAD");
    assertThat(FhirException.preconditionFailed("x").issues().get(0).type()).isEqualTo(IssueType.CONFLICT);
    assertThat(FhirException.preconditionFailed("x").status()).isEqualTo(412);
    assertThatThrownBy(() -> new FhirException(IssueKind.NOT_FOUND,
        List.of(new FhirException.Issue(IssueSeverity.ERROR, IssueType.INVALID, "x", null)), Map.of(), null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
