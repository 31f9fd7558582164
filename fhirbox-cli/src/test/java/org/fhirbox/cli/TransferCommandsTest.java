package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** upload, download, url and --attach-to against a real server. */
class TransferCommandsTest extends ServerFixture {

  @TempDir
  Path dir;

  private Path file(String name, int size) throws Exception {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return Files.write(dir.resolve(name), data);
  }

  private static HttpResponse<byte[]> fetchWithoutCredentials(String url) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void uploadThenGetThenDownloadRoundTripsTheBytes() throws Exception {
    Path scan = file("chest.dcm", 300_000);

    Cli.Result up = cli.run("upload", scan.toString());
    assertThat(up.exitCode()).as(up.toString()).isZero();
    JsonNode binary = up.json();
    assertThat(binary.path("resourceType").asText()).isEqualTo("Binary");
    assertThat(binary.path("contentType").asText()).isEqualTo("application/dicom");
    String id = binary.path("id").asText();

    Cli.Result get = cli.run("get", "Binary/" + id);
    assertThat(get.exitCode()).as(get.toString()).isZero();
    assertThat(get.json().path("id").asText()).isEqualTo(id);
    assertThat(get.json().path("url").asText()).as("the signed url the server sent, as upload prints it")
        .contains("/storage/" + id + "/1?").contains("Signature=");

    Path named = dir.resolve("out.dcm");
    Cli.Result down = cli.run("download", "Binary/" + id, "-o", named.toString());
    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(down.out().strip()).isEqualTo(named.toString());
    assertThat(Files.readAllBytes(named)).isEqualTo(Files.readAllBytes(scan));
    assertThat(dir.resolve("out.dcm.part")).doesNotExist();

    Cli.Result piped = cli.run("download", "Binary/" + id, "-o", "-");
    assertThat(piped.exitCode()).as(piped.toString()).isZero();
    assertThat(piped.stdoutBytes()).isEqualTo(Files.readAllBytes(scan));
  }

  @Test
  void downloadToAStdoutThatFailsExitsOne() throws Exception {
    Path scan = file("full-disk.bin", 1 << 20);
    String id = cli.run("upload", scan.toString()).json().path("id").asText();

    Cli.Result down = cli.runWithStdout(new PrintStream(Cli.failingAfter(1024)), "download", "Binary/" + id, "-o", "-");

    assertThat(down.exitCode()).as(down.toString()).isEqualTo(1);
    assertThat(down.err()).startsWith("fhirbox: ").contains("cannot write to standard output");
  }

  @Test
  void uploadDirectGoesThroughAPresignedUrlAndAttachesToo() throws Exception {
    Path scan = file("direct.pdf", 200_000);
    Cli.Result up = cli.run("upload", scan.toString(), "--direct");
    assertThat(up.exitCode()).as(up.toString()).isZero();
    String id = up.json().path("id").asText();
    assertThat(up.json().path("contentType").asText()).isEqualTo("application/pdf");
    Path back = dir.resolve("direct-back.pdf");
    assertThat(cli.run("download", "Binary/" + id, "-o", back.toString()).exitCode()).isZero();
    assertThat(Files.readAllBytes(back)).isEqualTo(Files.readAllBytes(scan));

    Path patientJson = Files.writeString(dir.resolve("direct-patient.json"), "{\"resourceType\":\"Patient\"}");
    String patientId = cli.run("create", patientJson.toString()).json().path("id").asText();
    Path photo = file("direct.png", 4_000);
    Cli.Result attached = cli.run("upload", photo.toString(), "--direct", "--attach-to", "Patient/" + patientId,
        "--path", "photo");
    assertThat(attached.exitCode()).as(attached.toString()).isZero();
    JsonNode photoJson = attached.json().path("photo").get(0);
    assertThat(photoJson.path("size").asInt()).isEqualTo(4_000);
    assertThat(photoJson.path("title").asText()).isEqualTo("direct.png");
    HttpResponse<byte[]> fetched = fetchWithoutCredentials(
        cli.run("get", "Patient/" + patientId).json().path("photo").get(0).path("url").asText());
    assertThat(fetched.body()).isEqualTo(Files.readAllBytes(photo));
  }

  @Test
  void downloadResumesFromAPartFileAndItsValidatorSidecar() throws Exception {
    Path scan = file("ct.dcm", 400_000);
    byte[] bytes = Files.readAllBytes(scan);
    String id = cli.run("upload", scan.toString()).json().path("id").asText();
    String signed = cli.run("url", "Binary/" + id).out().strip();
    HttpResponse<Void> head = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(signed)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.discarding());
    assertThat(head.statusCode()).isEqualTo(200);
    String etag = head.headers().firstValue("ETag").orElseThrow();
    assertThat(etag).doesNotStartWith("W/");

    // what a killed run leaves: the first half, and the validator of the response it came from
    Path target = dir.resolve("resumed.dcm");
    int half = bytes.length / 2;
    Files.write(dir.resolve("resumed.dcm.part"), java.util.Arrays.copyOf(bytes, half));
    Files.writeString(dir.resolve("resumed.dcm.part.validator"),
        "fhirbox-partial 1\nvalidator " + etag + "\nlength " + bytes.length + "\n");
    long partialBefore = partialResponses();
    long bytesOutBefore = metric("fhirbox_bytes_out_total");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", target.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readAllBytes(target)).isEqualTo(bytes);
    assertThat(dir.resolve("resumed.dcm.part")).doesNotExist();
    assertThat(dir.resolve("resumed.dcm.part.validator")).doesNotExist();
    assertThat(partialResponses()).isEqualTo(partialBefore + 1);
    assertThat(metric("fhirbox_bytes_out_total") - bytesOutBefore).isLessThan(bytes.length);
  }

  private static String scrape() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(server.baseUrl() + "metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  /** How many 206 answers the server has sent. */
  private static long partialResponses() throws Exception {
    return scrape().lines().filter(l -> l.startsWith("fhirbox_http_requests_total{") && l.contains("status=\"206\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static long metric(String name) throws Exception {
    return scrape().lines().filter(l -> l.startsWith(name + " "))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  @Test
  void downloadIntoADirectoryUsesTheUploadedFileName() throws Exception {
    Path photo = file("portrait.jpg", 2_000);
    String id = cli.run("upload", photo.toString(), "--filename", "me-2024.jpg").json().path("id").asText();
    Path into = Files.createDirectory(dir.resolve("downloads"));

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", into.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readAllBytes(into.resolve("me-2024.jpg"))).isEqualTo(Files.readAllBytes(photo));
  }

  @Test
  void aNameFromTheServerNeverReplacesAnExistingFile() throws Exception {
    Path report = file("report.txt", 3_000);
    String id = cli.run("upload", report.toString(), "--content-type", "text/plain").json().path("id").asText();
    Path into = Files.createDirectory(dir.resolve("mine"));
    Path existing = Files.writeString(into.resolve("report.txt"), "my own notes\n");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", into.toString());

    assertThat(down.exitCode()).as(down.toString()).isEqualTo(1);
    assertThat(down.err()).contains("report.txt").contains("already exists").contains("-o FILE");
    assertThat(Files.readString(existing)).isEqualTo("my own notes\n");
    assertThat(into.resolve("report.txt.part")).doesNotExist();
  }

  @Test
  void aPickedNameNeverTruncatesAnExistingDotPartFile() throws Exception {
    Path payload = file("payload.bin", 3_000);
    String id = cli.run("upload", payload.toString(), "--filename", "report").json().path("id").asText();
    Path into = Files.createDirectory(dir.resolve("notes"));
    Path mine = Files.writeString(into.resolve("report.part"), "my own notes\n");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", into.toString());

    assertThat(down.exitCode()).as(down.toString()).isEqualTo(1);
    assertThat(down.err()).contains("report.part").contains("already exists");
    assertThat(Files.readString(mine)).isEqualTo("my own notes\n");
    assertThat(into.resolve("report")).doesNotExist();
    assertThat(into.resolve("report.part.validator")).doesNotExist();
  }

  @Test
  void aPickedNameResumesThePartAnEarlierRunLeft() throws Exception {
    Path payload = file("resumable.bin", 200_000);
    byte[] bytes = Files.readAllBytes(payload);
    String id = cli.run("upload", payload.toString(), "--filename", "again").json().path("id").asText();
    String signed = cli.run("url", "Binary/" + id).out().strip();
    String etag = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(signed)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.discarding()).headers().firstValue("ETag").orElseThrow();
    // what a killed run leaves: the part and the sidecar that makes it the command's own
    Path into = Files.createDirectory(dir.resolve("again"));
    Files.write(into.resolve("again.part"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
    Files.writeString(into.resolve("again.part.validator"),
        "fhirbox-partial 1\nvalidator " + etag + "\nlength " + bytes.length + "\n");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", into.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readAllBytes(into.resolve("again"))).isEqualTo(bytes);
    assertThat(into.resolve("again.part")).doesNotExist();
    assertThat(into.resolve("again.part.validator")).doesNotExist();
  }

  @Test
  void aServerFileNameStartingWithADotLosesTheDot() throws Exception {
    Path payload = file("payload.txt", 1_000);
    String id = cli.run("upload", payload.toString(), "--content-type", "text/plain", "--filename", ".bashrc")
        .json().path("id").asText();
    Path home = Files.createDirectory(dir.resolve("home"));
    Path bashrc = Files.writeString(home.resolve(".bashrc"), "# my shell settings\n");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", home.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(down.out().strip()).isEqualTo(home.resolve("bashrc").toString());
    assertThat(Files.readAllBytes(home.resolve("bashrc"))).isEqualTo(Files.readAllBytes(payload));
    assertThat(Files.readString(bashrc)).isEqualTo("# my shell settings\n");
  }

  @Test
  void aServerFileNameLosesItsInvisibleCharactersAndIsCutToALengthAFileSystemTakes() throws Exception {
    // another host's Attachment.url, which fhirbox's own file name rules do not bound
    byte[] body = "content".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    com.sun.net.httpserver.HttpServer other = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    other.createContext("/", ex -> {
      String name = ex.getRequestURI().getRawPath().substring(1); // percent-encoded, as filename* is
      ex.getResponseHeaders().set("Content-Disposition", "attachment; filename*=UTF-8''" + name);
      ex.sendResponseHeaders(200, "HEAD".equals(ex.getRequestMethod()) ? -1 : body.length);
      try (var out = ex.getResponseBody()) {
        if (!"HEAD".equals(ex.getRequestMethod())) {
          out.write(body);
        }
      }
    });
    other.start();
    try {
      String root = "http://127.0.0.1:" + other.getAddress().getPort() + "/";
      Path into = Files.createDirectory(dir.resolve("names"));

      // a right-to-left override shows scan\u202Efdp.exe as "scanexe.pdf"
      Cli.Result shown = cli.run("download", root + "scan%E2%80%AEfdp.exe", "-o", into.toString());
      Cli.Result cut = cli.run("download", root + "a".repeat(300) + ".pdf", "-o", into.toString());

      assertThat(shown.exitCode()).as(shown.toString()).isZero();
      assertThat(shown.out().strip()).isEqualTo(into.resolve("scanfdp.exe").toString());
      assertThat(cut.exitCode()).as(cut.toString()).isZero();
      String name = Path.of(cut.out().strip()).getFileName().toString();
      assertThat(name).startsWith("aaaa").endsWith(".pdf");
      assertThat(name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThanOrEqualTo(200);
      assertThat(Files.readAllBytes(into.resolve(name))).isEqualTo(body);
    } finally {
      other.stop(0);
    }
  }

  @Test
  void anOutputFileTheUserNamedIsReplaced() throws Exception {
    Path report = file("replaced.txt", 2_000);
    String id = cli.run("upload", report.toString(), "--content-type", "text/plain").json().path("id").asText();
    Path target = Files.writeString(dir.resolve("old.txt"), "old\n");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", target.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(report));
  }

  @Test
  void aSignedUrlDownloadsWithNoCredentialsConfigured() throws Exception {
    Path scan = file("signed.bin", 50_000);
    String id = cli.run("upload", scan.toString()).json().path("id").asText();
    String signed = cli.run("url", "Binary/" + id).out().strip();
    Path target = dir.resolve("from-signed.bin");

    Cli.Result down = Cli.withEnv(java.util.Map.of()).run("download", signed, "-o", target.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readAllBytes(target)).isEqualTo(Files.readAllBytes(scan));
  }

  /** The hint to check --server is for the configured server; another host that cannot be reached is named. */
  @Test
  void aDownloadFromAnotherHostThatCannotBeReachedNamesThatHost() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }

    Cli.Result down = Cli.withEnv(java.util.Map.of("FHIRBOX_SERVER", server.baseUrl()))
        .run("download", "http://127.0.0.1:" + port + "/files/x.pdf?sig=s1gnature", "-o", dir.resolve("x.pdf").toString());

    assertThat(down.exitCode()).as(down.toString()).isEqualTo(1);
    assertThat(down.err()).startsWith("fhirbox: cannot connect to 127.0.0.1:" + port + ":")
        .doesNotContain("--server", "FHIRBOX_SERVER", "s1gnature");
  }

  /** An Attachment.url another host serves (content fhirbox did not ingest): no credentials go there, so none are needed. */
  @Test
  void aUrlOutsideTheServersFhirBaseDownloadsWithNoCredentialsConfigured() throws Exception {
    String elsewhere = server.baseUrl().replace("//localhost:", "//127.0.0.1:") + "fhir/R4/metadata";
    assertThat(elsewhere).as("another origin than the configured server's").doesNotContain("localhost");
    Path target = dir.resolve("metadata.json");

    Cli.Result down = Cli.withEnv(java.util.Map.of("FHIRBOX_SERVER", server.baseUrl()))
        .run("download", elsewhere, "-o", target.toString());

    assertThat(down.exitCode()).as(down.toString()).isZero();
    assertThat(Files.readString(target)).contains("CapabilityStatement");
  }

  /** Only a Binary is content: a Patient's reference or URL is refused as the url command refuses it, nothing written. */
  @Test
  void aReferenceOrUrlThatIsNoBinaryIsAUsageError() throws Exception {
    Path json = Files.writeString(dir.resolve("patient.json"), "{\"resourceType\":\"Patient\"}");
    String id = cli.run("create", json.toString()).json().path("id").asText();
    Path target = dir.resolve("patient-out");

    for (String source : new String[] {"Patient/" + id, server.baseUrl() + "fhir/R4/Patient/" + id}) {
      Cli.Result down = cli.run("download", source, "-o", target.toString());

      assertThat(down.exitCode()).as(down.toString()).isEqualTo(2);
      assertThat(down.err()).isEqualTo("fhirbox: not a Binary reference or URL: '" + source + "'\n");
      assertThat(target).doesNotExist();
    }
    Path into = Files.createDirectory(dir.resolve("into"));
    Cli.Result named = cli.run("download", server.baseUrl() + "fhir/R4/Patient/" + id, "-o", into.toString());
    assertThat(named.exitCode()).as(named.toString()).isEqualTo(2);
    assertThat(into).isEmptyDirectory();
  }

  @Test
  void anEmptyOutputOrADirectoryOutputThatIsNotThereIsAUsageErrorAndWritesNothing() throws Exception {
    Path upload = file("empty-output-" + System.nanoTime() + ".bin", 1_000);
    String id = cli.run("upload", upload.toString()).json().path("id").asText();
    // an empty -o (an unset shell variable) would otherwise mean the working directory
    Path inWorkingDirectory = Path.of(upload.getFileName().toString());
    try {
      for (String output : new String[] {"", " "}) {
        Cli.Result r = cli.run("download", "Binary/" + id, "-o", output);
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).startsWith("fhirbox: -o is empty");
      }
      assertThat(inWorkingDirectory).doesNotExist();
    } finally {
      Files.deleteIfExists(inWorkingDirectory);
    }
    String folder = dir.resolve("folder").toString() + "/";
    Cli.Result r = cli.run("download", "Binary/" + id, "-o", folder);
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("fhirbox: no such directory: " + folder + "\n");
    assertThat(dir.resolve("folder")).doesNotExist();
  }

  @Test
  void anOutputInADirectoryThatIsNotThereSaysSo() throws Exception {
    String id = cli.run("upload", file("nowhere.bin", 1_000).toString()).json().path("id").asText();
    Path target = dir.resolve("missing").resolve("x.txt");

    Cli.Result down = cli.run("download", "Binary/" + id, "-o", target.toString());

    assertThat(down.exitCode()).as(down.toString()).isEqualTo(1);
    assertThat(down.err()).isEqualTo("fhirbox: cannot write " + target + ": no such directory\n");
  }

  @Test
  void urlPrintsASignedUrlThatWorksWithoutCredentials() throws Exception {
    Path pdf = file("report.pdf", 10_000);
    String id = cli.run("upload", pdf.toString(), "--content-type", "application/pdf").json().path("id").asText();

    Cli.Result url = cli.run("url", "Binary/" + id);
    assertThat(url.exitCode()).as(url.toString()).isZero();
    HttpResponse<byte[]> inline = fetchWithoutCredentials(url.out().strip());
    assertThat(inline.statusCode()).isEqualTo(200);
    assertThat(inline.body()).isEqualTo(Files.readAllBytes(pdf));
    assertThat(inline.headers().firstValue("Content-Type")).hasValue("application/pdf");

    Cli.Result download = cli.run("url", "Binary/" + id, "--download");
    HttpResponse<byte[]> attachment = fetchWithoutCredentials(download.out().strip());
    assertThat(attachment.headers().firstValue("Content-Disposition").orElse("")).startsWith("attachment");

    Path viaSignedUrl = dir.resolve("again.pdf");
    assertThat(cli.run("download", url.out().strip(), "-o", viaSignedUrl.toString()).exitCode()).isZero();
    assertThat(Files.readAllBytes(viaSignedUrl)).isEqualTo(Files.readAllBytes(pdf));
  }

  @Test
  void attachToPatientPhotoAddsTheAttachmentAndReadingItBackGivesASignedUrl() throws Exception {
    Path patientJson = Files.writeString(dir.resolve("patient.json"),
        "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Chalmers\"}]}");
    String patientId = cli.run("create", patientJson.toString()).json().path("id").asText();
    Path photo = file("face.png", 5_000);

    Cli.Result up = cli.run("upload", photo.toString(), "--attach-to", "Patient/" + patientId, "--path", "photo");

    assertThat(up.exitCode()).as(up.toString()).isZero();
    JsonNode updated = up.json();
    assertThat(updated.path("resourceType").asText()).isEqualTo("Patient");
    assertThat(updated.path("meta").path("versionId").asText()).isEqualTo("2");
    assertThat(updated.path("photo").size()).isEqualTo(1);
    assertThat(updated.path("photo").get(0).path("contentType").asText()).isEqualTo("image/png");
    assertThat(updated.path("photo").get(0).path("title").asText()).isEqualTo("face.png");

    JsonNode read = cli.run("get", "Patient/" + patientId).json();
    String url = read.path("photo").get(0).path("url").asText();
    assertThat(url).contains("/storage/");
    HttpResponse<byte[]> fetched = fetchWithoutCredentials(url);
    assertThat(fetched.statusCode()).isEqualTo(200);
    assertThat(fetched.body()).isEqualTo(Files.readAllBytes(photo));
  }

  @Test
  void attachToMediaContentAndDocumentReferenceContentAttachment() throws Exception {
    String mediaId = cli.runWithStdin("{\"resourceType\":\"Media\",\"status\":\"completed\",\"content\":{\"title\":\"x\"}}",
        "create", "-").json().path("id").asText();
    String docId = cli.runWithStdin("{\"resourceType\":\"DocumentReference\",\"status\":\"current\","
        + "\"content\":[{\"attachment\":{\"title\":\"old\"}}]}", "create", "-").json().path("id").asText();
    Path clip = file("clip.mp4", 4_000);

    Cli.Result media = cli.run("upload", clip.toString(), "--attach-to", "Media/" + mediaId, "--path", "content");
    Cli.Result doc = cli.run("upload", clip.toString(), "--attach-to", "DocumentReference/" + docId,
        "--path", "content.attachment");

    assertThat(media.exitCode()).as(media.toString()).isZero();
    assertThat(media.json().path("content").path("contentType").asText()).isEqualTo("video/mp4");
    assertThat(media.json().path("content").path("title").asText()).isEqualTo("clip.mp4");
    assertThat(doc.exitCode()).as(doc.toString()).isZero();
    assertThat(doc.json().path("content").size()).isEqualTo(2);
    assertThat(doc.json().path("content").get(1).path("attachment").path("url").asText()).isNotEmpty();
  }

  @Test
  void attachToAnElementThatIsNotAnAttachmentFailsBeforeUploading() throws Exception {
    String patientId = cli.runWithStdin("{\"resourceType\":\"Patient\"}", "create", "-")
        .json().path("id").asText();
    Path photo = file("face.jpg", 100);

    Cli.Result r = cli.run("upload", photo.toString(), "--attach-to", "Patient/" + patientId, "--path", "gender");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).isEqualTo("fhirbox: Patient.gender is not an Attachment" + System.lineSeparator());
    assertThat(cli.run("get", "Patient/" + patientId).json().path("meta").path("versionId").asText()).isEqualTo("1");
  }
}
