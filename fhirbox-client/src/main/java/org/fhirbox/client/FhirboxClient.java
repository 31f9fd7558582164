package org.fhirbox.client;

import ca.uhn.fhir.context.FhirContext;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Media;

/**
 * A client for one fhirbox server: FHIR resources, streaming binary uploads and resumable
 * downloads. Immutable and thread-safe: build one, share it, and derive variants (another
 * timeout, other credentials) with {@link #newBuilder()}, which keeps the HTTP connections,
 * the {@link FhirContext} and, for the same credentials, the cached access token.
 *
 * <pre>{@code
 * FhirboxClient client = FhirboxClient.builder()
 *     .baseUrl("http://localhost:8103/")
 *     .clientCredentials(System.getenv("FHIRBOX_CLIENT_ID"), System.getenv("FHIRBOX_CLIENT_SECRET"))
 *     .build();
 * Patient p = client.createResource(new Patient().addName(new HumanName().setFamily("Chalmers")));
 * }</pre>
 *
 * <p>Every failure is a {@link FhirboxException}. Idempotent requests are retried according to
 * the {@link RetryPolicy}; creates are not.
 */
public final class FhirboxClient extends ResourceInteractions {
  final FhirboxClientBuilder settings;
  private final Endpoints endpoints;
  private final Binaries binaries;
  private final DirectUploader direct;
  private final Downloader downloader;
  private final ServerCalls calls;

  FhirboxClient(FhirboxClientBuilder settings, Endpoints endpoints, Transport transport) {
    this(settings, endpoints, transport, new Codec(settings.fhirContext, settings.maxResponseBody));
  }

  private FhirboxClient(FhirboxClientBuilder settings, Endpoints endpoints, Transport transport, Codec codec) {
    super(new Resources(transport, codec, endpoints), settings.fhirContext);
    this.settings = settings;
    this.endpoints = endpoints;
    this.binaries = new Binaries(transport, codec, endpoints, resources,
        new TusUploader(transport, endpoints, resources, settings.resumableUploads, settings.principal()));
    this.direct = new DirectUploader(transport, codec, endpoints, resources, settings.resumableUploads.threshold());
    this.downloader = new Downloader(transport, endpoints);
    this.calls = new ServerCalls(transport, codec, endpoints, downloader);
  }

  /**
   * A builder for a new client.
   *
   * <pre>{@code
   * FhirboxClient client = FhirboxClient.builder()
   *     .baseUrl("https://fhirbox.example.org/")
   *     .basicAuth("my-client", "my-secret")
   *     .build();
   * }</pre>
   */
  public static FhirboxClientBuilder builder() {
    return new FhirboxClientBuilder();
  }

  /**
   * A builder holding this client's settings; the clients it builds share this one's HTTP
   * client, FhirContext and (for the same credentials and server) token cache.
   *
   * <pre>{@code
   * FhirboxClient patient = client.newBuilder().requestTimeout(Duration.ofMinutes(10)).build();
   * }</pre>
   */
  public FhirboxClientBuilder newBuilder() {
    return settings.copy();
  }

  /**
   * The FhirContext used to parse and encode resources.
   *
   * <pre>{@code
   * String json = client.fhirContext().newJsonParser().encodeResourceToString(patient);
   * }</pre>
   */
  public FhirContext fhirContext() {
    return settings.fhirContext;
  }

  /**
   * The FHIR base URL, e.g. {@code http://localhost:8103/fhir/R4/}.
   *
   * <pre>{@code
   * System.out.println("talking to " + client.fhirBase());
   * }</pre>
   */
  public String fhirBase() {
    return endpoints.fhirBase().toString();
  }

  /**
   * Uploads {@code data} as a new Binary. The result carries the server's signed URL, if any,
   * in {@link #signedUrl(Binary)}.
   *
   * <pre>{@code
   * Binary b = client.createBinary("hello".getBytes(StandardCharsets.UTF_8), "hello.txt", "text/plain");
   * }</pre>
   */
  public Binary createBinary(byte[] data, String filename, String contentType) {
    return createBinary(Upload.of(data, contentType).withFilename(filename));
  }

  /**
   * Uploads a file as a new Binary, streaming it from disk; a null {@code filename} sends the
   * file's own name, as {@link Upload#of(Path, String)} does.
   *
   * <pre>{@code
   * Binary b = client.createBinary(Path.of("chest.dcm"), null, "application/dicom"); // named chest.dcm
   * }</pre>
   */
  public Binary createBinary(Path file, String filename, String contentType) {
    return createBinary(fileUpload(file, filename, contentType));
  }

  private static Upload fileUpload(Path file, String filename, String contentType) {
    Upload upload = Upload.of(file, contentType);
    return filename == null ? upload : upload.withFilename(filename);
  }

  /**
   * Uploads {@code length} bytes from {@code in} (-1: unknown, sent chunked) as a new Binary.
   *
   * <pre>{@code
   * try (InputStream in = Files.newInputStream(Path.of("note.pdf"))) {
   *   Binary b = client.createBinary(in, -1, "note.pdf", "application/pdf");
   * }
   * }</pre>
   */
  public Binary createBinary(InputStream in, long length, String filename, String contentType) {
    return createBinary(Upload.of(in, length, contentType).withFilename(filename));
  }

  /**
   * Uploads as a new Binary, with the security context and progress listener of {@code upload}.
   *
   * <pre>{@code
   * Binary b = client.createBinary(Upload.of(Path.of("scan.pdf"), "application/pdf")
   *     .withSecurityContext("Patient/123")
   *     .withProgress((done, total) -> System.err.printf("\r%d/%d", done, total)));
   * }</pre>
   */
  public Binary createBinary(Upload upload) {
    return binaries.upload(Objects.requireNonNull(upload, "upload")).binary();
  }

  /**
   * Uploads a file resumably whatever its size, with the tus protocol ({@code Binary/$upload}) in
   * pieces, resuming by itself after a dropped connection or a server restart from the offset the
   * server kept, as {@link ResumableUploads} says ({@link #createBinary(Upload)} does the same for
   * files at or above the threshold). With a state directory, an interrupted run's upload of the
   * same unchanged file is continued. The first progress report is the offset the upload starts
   * from (0 for a new one); {@code bytesDone} goes back when the server kept less than was sent.
   *
   * <pre>{@code
   * Binary b = client.uploadResumably(Upload.of(Path.of("ultrasound.mp4"), "video/mp4")
   *     .withSecurityContext("Patient/123")
   *     .withProgress((done, total) -> System.err.printf("\r%d / %d", done, total)));
   * }</pre>
   */
  public Binary uploadResumably(Upload upload) {
    return binaries.uploadResumably(Objects.requireNonNull(upload, "upload")).binary();
  }

  /**
   * Uploads through a presigned URL ({@code POST Binary/$upload-url}): the bytes go, without
   * credentials, to the URL the server answers, which in the server's {@code s3} mode is the
   * bucket itself; the SHA-256 is read from the content first and the server refuses other
   * bytes. Content at or above the resumable threshold ({@link ResumableUploads#threshold()}) is
   * asked for in parts: where the server answers S3 part URLs, each byte range goes to its own
   * URL, one after the other (a part whose connection fails is sent again), then the completion
   * confirms them. Bytes and files only (a stream cannot be read twice: it is refused, and closed). fhirbox's own upload URL
   * takes one {@code PUT}: when a {@code PUT} sent again (its answer lost, or a 502, 503 or 504) gets
   * 409, the first attempt may have been stored, so the reserved Binary is read and returned if it
   * exists.
   *
   * <pre>{@code
   * Binary b = client.uploadViaUrl(Upload.of(Path.of("scan.pdf"), "application/pdf")
   *     .withSecurityContext("Patient/123"));
   * }</pre>
   */
  public Binary uploadViaUrl(Upload upload) {
    return direct.upload(Objects.requireNonNull(upload, "upload"));
  }

  /**
   * Uploads {@code data} and returns an Attachment for it: contentType, url (the signed URL
   * when the server gives one, else {@code Binary/{id}}), title, size, and the SHA-1 hash.
   *
   * <pre>{@code
   * Attachment photo = client.createAttachment(jpegBytes, "me.jpg", "image/jpeg");
   * client.createResource(new Patient().addPhoto(photo));
   * }</pre>
   */
  public Attachment createAttachment(byte[] data, String filename, String contentType) {
    return createAttachment(Upload.of(data, contentType).withFilename(filename));
  }

  /**
   * Uploads a file and returns an Attachment for it; a null {@code filename} means the file's own
   * name, which becomes the title.
   *
   * <pre>{@code
   * Attachment pdf = client.createAttachment(Path.of("report.pdf"), "Discharge report.pdf", "application/pdf");
   * }</pre>
   */
  public Attachment createAttachment(Path file, String filename, String contentType) {
    return createAttachment(fileUpload(file, filename, contentType));
  }

  /**
   * Uploads {@code length} bytes from {@code in} (-1: unknown) and returns an Attachment for them.
   *
   * <pre>{@code
   * try (InputStream in = url.openStream()) {
   *   Attachment a = client.createAttachment(in, -1, "capture.mp4", "video/mp4");
   * }
   * }</pre>
   */
  public Attachment createAttachment(InputStream in, long length, String filename, String contentType) {
    return createAttachment(Upload.of(in, length, contentType).withFilename(filename));
  }

  /**
   * Uploads and returns an Attachment, with the options of {@code upload}.
   *
   * <pre>{@code
   * Attachment a = client.createAttachment(Upload.of(Path.of("x.png"), "image/png")
   *     .withSecurityContext("Patient/123"));
   * }</pre>
   */
  public Attachment createAttachment(Upload upload) {
    return binaries.attachment(Objects.requireNonNull(upload, "upload"));
  }

  /**
   * Creates a Media from {@code template}, uploads the content with the Media as its security
   * context (an upload that fails deletes the Media again, then throws), and updates the Media so
   * {@code content} points at it. Without a status the Media goes from preparation to completed.
   *
   * <pre>{@code
   * Media m = client.createMedia(new Media().setSubject(new Reference("Patient/123")),
   *     Upload.of(Path.of("wound.jpg"), "image/jpeg"));
   * }</pre>
   */
  public Media createMedia(Media template, Upload upload) {
    return binaries.media(template, upload);
  }

  /**
   * Creates a Media holding {@code data}; see {@link #createMedia(Media, Upload)}.
   *
   * <pre>{@code
   * Media m = client.createMedia(new Media(), jpegBytes, "wound.jpg", "image/jpeg");
   * }</pre>
   */
  public Media createMedia(Media template, byte[] data, String filename, String contentType) {
    return createMedia(template, Upload.of(data, contentType).withFilename(filename));
  }

  /**
   * Creates a DocumentReference from {@code template} (status current unless set), uploads the content with
   * it as security context (a failed upload deletes it again) and points {@code content[0].attachment} at it.
   *
   * <pre>{@code
   * DocumentReference doc = client.createDocumentReference(
   *     new DocumentReference().setSubject(new Reference("Patient/123")),
   *     Upload.of(Path.of("discharge.pdf"), "application/pdf"));
   * }</pre>
   */
  public DocumentReference createDocumentReference(DocumentReference template, Upload upload) {
    return binaries.documentReference(template, upload);
  }

  /**
   * Downloads to {@code target}, replaced only when the content is complete, from {@code Binary/{id}},
   * {@code Binary/{id}/_history/{vid}}, such a Binary's URL under the FHIR base (sent with credentials), a
   * signed URL or any other URL outside the FHIR base (without); returns the byte count. Another
   * resource's reference or URL ({@code Patient/123}) is an IllegalArgumentException, before any request. The bytes go to {@code target + ".part"} (for a
   * name over 236 bytes, whose sidecar's temporary file would not fit in 255, its first 200 bytes, {@code ~},
   * 16 hex digits of its SHA-256 and {@code .part}), locked while written (a second download to it
   * fails at once) and never opened through a symbolic link. A sidecar {@code ".part.validator"}
   * records the response's validator (a strong {@code ETag}, else {@code Last-Modified}) and total
   * length. If the download fails or the process dies, both stay, and a later download to the same
   * target (any client or process, any URL for the same content) resumes with {@code Range:
   * bytes=<part size>-} and {@code If-Range: <validator>}, appending a matching 206, starting over
   * on 200 (the content changed) or, once, 416 (the part holds as much as the content or more).
   * When complete, {@code .part} is moved atomically onto {@code target}. Without a readable
   * sidecar the download starts over; a failure before any validator leaves nothing behind. A
   * local write error (a full disk) fails at once, as a failed write may have stored part of its
   * buffer. Progress counts the resumed bytes too. A {@code target} that is a device or a pipe
   * ({@code /dev/null}, a FIFO) is written into as the content arrives, with no part, never replaced.
   *
   * <pre>{@code
   * long n = client.download("Binary/123", Path.of("scan.dcm"));
   * }</pre>
   */
  public long download(String urlOrReference, Path target) {
    return download(urlOrReference, target, ProgressListener.NONE);
  }

  /**
   * Downloads to {@code target} as {@link #download(String, Path)} does, reporting progress (bytes
   * done, resumed ones too, and the total); a broken connection resumes with a Range request up
   * to the retry policy's {@code maxRetries} times.
   *
   * <pre>{@code
   * client.download(attachment.getUrl(), Path.of("video.mp4"),
   *     (done, total) -> System.err.printf("\r%d / %d", done, total));
   * }</pre>
   */
  public long download(String urlOrReference, Path target, ProgressListener progress) {
    return downloader.toFile(urlOrReference, target, progress, true);
  }

  /**
   * As {@link #download(String, Path, ProgressListener)}, but never replacing a file: a {@code target}
   * there fails it before anything is fetched, one made during the download when complete (its part removed).
   *
   * <pre>{@code
   * client.downloadNew("Binary/123", Path.of("scan.dcm"), ProgressListener.NONE);
   * }</pre>
   */
  public long downloadNew(String urlOrReference, Path target, ProgressListener progress) {
    return downloader.toFile(urlOrReference, target, progress, false);
  }

  /**
   * Streams the content to {@code out} (not closed). A broken connection resumes with a Range
   * request; if the server answers with the whole content instead, the download fails, since
   * bytes already written cannot be taken back.
   *
   * <pre>{@code
   * try (OutputStream out = Files.newOutputStream(Path.of("scan.pdf"))) {
   *   client.download("Binary/123", out);
   * }
   * }</pre>
   */
  public long download(String urlOrReference, OutputStream out) {
    return download(urlOrReference, out, ProgressListener.NONE);
  }

  /**
   * Streams the content to {@code out}, reporting progress.
   *
   * <pre>{@code
   * ByteArrayOutputStream buf = new ByteArrayOutputStream();
   * client.download("Binary/123", buf, (done, total) -> System.err.println(done + "/" + total));
   * }</pre>
   */
  public long download(String urlOrReference, OutputStream out, ProgressListener progress) {
    Objects.requireNonNull(out, "out"); // before the content is fetched, not at its first byte
    return downloader.download(urlOrReference, Downloader.sink(out), progress);
  }

  /**
   * A fresh signed URL for a Binary ({@code GET Binary/{id}/$presigned-url}): anyone holding it
   * may fetch the content, without credentials, until it expires. With {@code download} the URL
   * asks for {@code Content-Disposition: attachment} under the Binary's file name.
   *
   * <pre>{@code
   * String url = client.presignedUrl("Binary/123", false);
   * }</pre>
   */
  public String presignedUrl(String urlOrReference, boolean download) {
    return calls.presignedUrl(urlOrReference, download);
  }

  /**
   * The file name the server gives the content in {@code Content-Disposition} (asked with a
   * {@code HEAD} request, so nothing is transferred), if it names one.
   *
   * <pre>{@code
   * Path target = Path.of(client.contentFilename("Binary/123").orElse("123"));
   * client.download("Binary/123", target);
   * }</pre>
   */
  public Optional<String> contentFilename(String urlOrReference) {
    return calls.contentFilename(urlOrReference);
  }

  /**
   * Sends a JSON request, with credentials, to a path under the server root (not the FHIR base),
   * such as the administration API, and returns the response body. Error answers throw as usual.
   *
   * <pre>{@code
   * String created = client.sendJson("POST", "admin/clients",
   *     "{\"project\":\"clinic-a\",\"scope\":\"system/Patient.rs\"}");
   * String clients = client.sendJson("GET", "admin/clients?project=clinic-a", null);
   * }</pre>
   */
  public String sendJson(String method, String path, String json) {
    return calls.sendJson(method, path, json);
  }

  /**
   * The Binary id in any URL form the server writes: {@code Binary/{id}},
   * {@code Binary/{id}/_history/{vid}}, absolute FHIR URLs, and signed
   * {@code /storage/{id}/{vid}?...} URLs.
   *
   * <pre>{@code
   * Optional<String> id = FhirboxClient.binaryId(patient.getPhotoFirstRep().getUrl());
   * }</pre>
   */
  public static Optional<String> binaryId(String url) {
    return Downloader.binaryId(url);
  }

  /**
   * The signed URL the server returned with a Binary (a field R4's Binary does not define, kept
   * aside when parsing), if any.
   *
   * <pre>{@code
   * Binary b = client.createBinary(bytes, "x.png", "image/png");
   * String src = FhirboxClient.signedUrl(b).orElse("Binary/" + b.getIdElement().getIdPart());
   * }</pre>
   */
  public static Optional<String> signedUrl(Binary binary) {
    return Optional.ofNullable((String) binary.getUserData(Codec.SIGNED_URL));
  }
}
