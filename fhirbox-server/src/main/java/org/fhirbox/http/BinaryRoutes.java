package org.fhirbox.http;

import java.io.IOException;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.fhirbox.signing.StorageUrlSigner;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.auth.Principal;
import org.fhirbox.binary.BinaryReads;
import org.fhirbox.binary.BinaryService;
import org.fhirbox.binary.DirectUploads;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.StoredResource;
import org.fhirbox.fhir.AttachmentSigner;
import org.fhirbox.fhir.BinaryResourceSniffer;
import org.fhirbox.fhir.FhirFormat;
import org.fhirbox.fhir.WritePreconditions;
import org.fhirbox.fhir.Written;
import org.fhirbox.storage.BlobStore;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;
import org.hl7.fhir.r4.model.UriType;
import org.hl7.fhir.r4.model.UrlType;

/** The Binary-specific parts of the REST API (FHIR R4 binary.html#rest). */
public final class BinaryRoutes {
  /** The lexical form of an R4 integer (datatypes.html#integer), here also of a wider whole number. */
  private static final Pattern R4_INTEGER = Pattern.compile("0|[-+]?[1-9][0-9]*");
  private final BinaryService binaries;
  private final BinaryReads reads;
  private final BlobStore blobs;
  private final AttachmentSigner signer;
  private final StorageResponder responder;
  private final ResourceOutput output;
  private final DirectUploads uploads;
  private final StorageUrlSigner thumbnails;

  /** @param thumbnails signs thumbnail URLs, which the {@code /storage} route serves in every signing mode */
  public BinaryRoutes(BinaryService binaries, BinaryReads reads, BlobStore blobs, AttachmentSigner signer,
      StorageResponder responder, ResourceOutput output, DirectUploads uploads, StorageUrlSigner thumbnails) {
    this.thumbnails = thumbnails;
    this.uploads = uploads;
    this.binaries = binaries;
    this.reads = reads;
    this.blobs = blobs;
    this.signer = signer;
    this.responder = responder;
    this.output = output;
  }

  /**
   * A Binary version as JSON or XML (its JSON carries a signed url): {@code write} runs once the
   * caller may read its content ({@code securityContext}).
   */
  public void writeResource(Exchange ex, Principal principal, StoredResource s, BinaryReads.Response write)
      throws IOException {
    reads.sendResource(principal, s, new ExchangeFacts(ex), write);
  }

  /** A body that is not FHIR JSON/XML is the content itself. */
  public boolean isRawBody(Exchange ex) {
    return ex.bodyFormat().isEmpty();
  }

  /** How much of a JSON or XML body {@link #isContent} reads to tell a FHIR Binary from content. */
  static final int PEEK_BYTES = 64 * 1024;

  /**
   * Whether the body of a {@code POST /Binary} or {@code PUT /Binary/{id}} is content to store as
   * it is (R4 binary.html#rest): one of a media type that is not JSON or XML, one with a
   * {@code Content-Encoding}, and one of a JSON or XML type (FHIR's or not) that is not a FHIR Binary
   * resource, as its first {@link #PEEK_BYTES} tell ({@link BinaryResourceSniffer}). The rest of the
   * body is read from its first byte by the route that takes it. Before that read, a FHIR type of
   * another {@code fhirVersion} is refused (415), a caller who may not {@code interaction} Binaries
   * too, and so is a declared length that neither route takes. Content is marked so on the exchange
   * ({@link Exchange#bodyIsContent(boolean)}): the answer's format does not follow its type.
   */
  public boolean isContent(Exchange ex, Principal principal, Interaction interaction, long maxJsonBytes)
      throws IOException {
    Optional<FhirFormat> format = FhirFormat.of(ex.contentType());
    String encoding = ex.header("Content-Encoding");
    if (format.isEmpty() || encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity")) {
      ex.bodyIsContent(true);
      return true;
    }
    ex.requireSpokenFhirVersion(); // a FHIR type of another version is no content of that type either
    principal.require("Binary", interaction);
    ex.refuseDeclaredLengthAbove(Math.max(maxJsonBytes, binaries.policy().maxBytes()));
    byte[] head = ex.readingBody(() -> {
      try {
        return ex.requestBody().peek(PEEK_BYTES);
      } catch (IOException e) {
        throw ClientAbort.truncatedBody(e);
      }
    });
    boolean content = !BinaryResourceSniffer.isBinaryResource(head, format.get());
    ex.bodyIsContent(content);
    return content;
  }

  /** The body opens only when the service reads it, after its checks ({@link RequestBody}). */
  private static BinaryService.Upload upload(Exchange ex, RequestBody body) {
    return new BinaryService.Upload(body, ex.contentType(), ex.header("Content-Encoding"),
        securityContext(ex), ex.param("_filename").orElse(null));
  }

  /**
   * The one resource {@code X-Security-Context} names. The field is no list (RFC 9110 §5.3): field
   * lines that name different resources (a client's and a proxy's, say) are 400 before a byte is
   * stored, rather than the first taken; the same value repeated is that value. An empty one is
   * 400 too, rather than taken for none.
   */
  private static String securityContext(Exchange ex) {
    Set<String> values = new LinkedHashSet<>();
    ex.request().getHeaders("X-Security-Context").asIterator().forEachRemaining(v -> values.add(v.strip()));
    if (values.contains("")) {
      // sent, but naming nothing (often an unset shell variable): taken for none, the Binary would
      // be stored unguarded where a guard was meant
      throw FhirException.badRequest("X-Security-Context is empty; name the resource the Binary belongs to"
          + " (Patient/123), or leave the header out for none");
    }
    if (values.size() > 1) {
      throw FhirException.badRequest("X-Security-Context names " + values.size()
          + " different resources; send it once, naming the one the Binary belongs to");
    }
    return ex.header("X-Security-Context");
  }

  public Written createRaw(Exchange ex, Principal principal) throws IOException {
    refuseDeclaredTooLarge(ex);
    RequestBody body = ex.requestBody();
    return ex.readingBody(() -> binaries.create(principal, upload(ex, body), new ExchangeFacts(ex)));
  }

  public Written updateRaw(Exchange ex, Principal principal, String id, Supplier<WritePreconditions> preconditions)
      throws IOException {
    refuseDeclaredTooLarge(ex);
    RequestBody body = ex.requestBody();
    return ex.readingBody(() -> binaries.update(principal, id, upload(ex, body), preconditions,
        new ExchangeFacts(ex)));
  }

  /** The strong entity tag a raw read of version {@code s}'s content answers. */
  String contentEtag(Principal principal, StoredResource s) {
    return reads.content(principal, s).etag();
  }

  /**
   * 413 before a byte of the body is read when its Content-Length already exceeds the limit. An
   * encoded body may be a little larger than its content: deflate's stored blocks add 5 bytes per
   * 64 KiB (RFC 1951 §3.2.4), gzip 18 bytes of frame (RFC 1952), so it is allowed 0.1% + 1 KiB more.
   */
  private void refuseDeclaredTooLarge(Exchange ex) {
    long max = binaries.policy().maxBytes();
    String encoding = ex.header("Content-Encoding");
    boolean encoded = encoding != null && !encoding.isBlank() && !encoding.trim().equalsIgnoreCase("identity");
    ex.refuseDeclaredLengthAbove(encoded ? max + max / 1000 + 1024 : max);
  }


  /**
   * Confirms an upload straight to S3 that reserved {@code Binary/{id}} in the caller's project and
   * was not confirmed (409 while its bytes are not all there); true when the Binary exists now.
   */
  public boolean confirmPendingUpload(Exchange ex, Principal principal, String id) {
    principal.require("Binary", Interaction.READ);
    return uploads.confirmOnRead(principal.project(), id, new ExchangeFacts(ex));
  }

  /**
   * Streams the raw bytes of a Binary version (FHIR R4 binary.html#rest: a non-FHIR Accept gets
   * the content). Range requests work here too.
   *
   * @param versioned the request named the version ({@code _history/{vid}}): its bytes never change,
   *     so a date validates as the entity tag does; on the unversioned URL, whose next version may
   *     carry the same one-second {@code Last-Modified}, a date of that second validates nothing
   *     ({@link StorageResponder#respond}), unless the current version is the first: no other
   *     version can have come before it in its second, and a later one changes the answer's version
   */
  public void writeRaw(Exchange ex, Principal principal, StoredResource s, boolean versioned) throws IOException {
    reads.sendContent(principal, s, new ExchangeFacts(ex), c -> {
      if (c.securityContext() != null) {
        ex.response().setHeader("X-Security-Context", c.securityContext());
      }
      // If-Match takes the version ETag (W/"n") beside the content's own, as on a write: judged here
      return responder.respond(IfMatchField.judgedOnRead(ex, s, c.etag()), ex.response(), c, blobs, null, 0,
          versioned || s.versionId() == 1);
    });
  }

  /**
   * {@code GET /Binary/{id}/$presigned-url}: a Parameters resource with the signed {@code url};
   * with {@code upload=true}, an upload URL for the Binary's next content ({@link DirectUploads});
   * with {@code thumbnail=true}, the signed URL of the current version's thumbnail. On
   * {@code /Binary/{id}/_history/{vid}/$presigned-url} ({@code version} not null), the same for that
   * version (as R4's {@code $meta} is invoked on a version), but no upload.
   */
  public void operation(Exchange ex, Principal principal, String id, Long version, String name)
      throws IOException {
    if (!name.equals("$presigned-url")) {
      throw UnknownOperations.unknown(name, "Binary/" + id + (version == null ? "" : "/_history/" + version));
    }
    // HEAD runs GET's path and Jetty drops the body (RFC 9110 §9.3.2): the same status and headers,
    // and a URL signed for an upload is never sent, so HEAD issues none
    if (!Set.of("GET", "HEAD", "POST").contains(ex.method())) {
      throw FhirException.methodNotAllowed(ex.method() + " is not allowed on $presigned-url; use GET or POST",
          "GET", "HEAD", "POST");
    }
    // each takes one value: one taken of two (upload=true&upload=false) is not what the other asked for
    for (String single : List.of("upload", "download", "expiresIn", "thumbnail")) {
      List<String> sent = ex.params().get(single);
      if (sent != null && sent.size() > 1) {
        throw FhirException.badRequest(single + " is given more than once; $presigned-url takes each of its"
            + " parameters once", single);
      }
    }
    boolean upload = flag("upload", ex.param("upload").orElse(null));
    if (upload && version != null) {
      throw FhirException.badRequest("upload=true names the Binary's next content: call it on Binary/" + id
          + "/$presigned-url, not on a version", "upload");
    }
    if (upload) {
      // a download URL's parameters, ignored, would answer expiresIn=60 with a URL of 15 minutes
      for (String other : List.of("expiresIn", "download", "thumbnail")) {
        // as sent: an empty download= is a download under the file's name, not nothing
        if (ex.paramAsSent(other).isPresent()) {
          throw FhirException.badRequest("upload=true takes neither expiresIn, download nor thumbnail (got " + other
              + "): its URL takes one PUT of the Binary's next content, and lives 15 minutes", other);
        }
      }
      // Medplum's experimental form: the url (valueUri, first, as Medplum's clients read it)
      // takes one PUT of the Binary's next content.
      DirectUploads.Issued issued = uploads.issueReplacing(principal, id, ex.baseUrl());
      Parameters p = issuedParameters(issued);
      p.getParameterFirstRep().setName("url").setValue(new UriType(issued.url()));
      output.writeRaw(ex, 200, p);
      return;
    }
    if (flag("thumbnail", ex.param("thumbnail").orElse(null))) {
      if (ex.paramAsSent("download").isPresent() || ex.param("expiresIn").isPresent()) {
        throw FhirException.badRequest("thumbnail=true takes neither download nor expiresIn", "thumbnail");
      }
      String url = reads.presignedUrl(principal, id, version, new ExchangeFacts(ex),
          c -> thumbnails.signThumbnail(ex.baseUrl(), c));
      Parameters p = new Parameters();
      p.addParameter().setName("url").setValue(new UrlType(url));
      output.writeRaw(ex, 200, p);
      return;
    }
    Duration lifetime = ex.param("expiresIn").map(BinaryRoutes::shareLifetime).orElse(null);
    String url = lifetime == null
        ? reads.presignedUrl(principal, id, version, new ExchangeFacts(ex),
            c -> signer.signedDownloadUrl(c, ex.baseUrl(), downloadFilename(ex, id, c)))
        : reads.presignedShareUrl(principal, id, version, new ExchangeFacts(ex), (c, contextVersions) -> {
          requireShareable(principal, c);
          return signer.signedShareUrl(c, ex.baseUrl(), downloadFilename(ex, id, c), lifetime, contextVersions);
        });
    Parameters p = new Parameters();
    p.addParameter().setName("url").setValue(new UrlType(url));
    output.writeRaw(ex, 200, p);
  }

  /** The name {@code $presigned-url}'s {@code download} asks the content be saved under, or null for inline. */
  private String downloadFilename(Exchange ex, String id, BinaryContent c) {
    // download=false is no download, as an absent parameter: never a file named "false"
    // an empty download is no absent one: it asks for a download under the file's own name
    String download = ex.paramAsSent("download").filter(d -> !d.strip().equals("false")).orElse(null);
    String filename = download == null ? null : download.isBlank() || download.strip().equals("true")
        ? (c.filename() == null ? id : c.filename()) : download;
    // The name a download is saved under passes the same deny list as an uploaded _filename.
    binaries.policy().checkFilename(filename);
    return filename;
  }

  /**
   * 403 for a share link asked by a caller whose reads of the Binary, or of the resource its
   * securityContext names, are limited to its launch patient's compartment. Each use of a share
   * link checks the Binary (deleted, its securityContext changed or gone), not a compartment that
   * resource may leave (an Observation whose subject is corrected to another patient), so the link
   * could serve another patient's record for days after the caller lost it; so for the types a
   * securityContext naming a Binary leads to ({@link BinaryReads#contextTypes}). A caller with a wider
   * grant keeps them; a patient's app gets ordinary signed URLs (RFC 9110 §15.5.4: understood, not allowed).
   */
  private void requireShareable(Principal principal, BinaryContent c) {
    if (principal.access().limitedToPatient("Binary", Interaction.READ)
        || reads.contextTypes(c).stream().anyMatch(t -> principal.access().limitedToPatient(t, Interaction.READ))) {
      throw FhirException.forbidden("share links (expiresIn) are not issued to access tokens whose reads are"
          + " limited to a patient's compartment: a link could outlive the Binary's place in it; call"
          + " $presigned-url without expiresIn for an ordinary signed URL");
    }
  }

  /** {@code expiresIn} of {@code $presigned-url}: whole seconds from 60 to 7 days. */
  private static Duration shareLifetime(String seconds) {
    long max = AttachmentSigner.MAX_SHARE_LIFETIME.toSeconds();
    try {
      long n = Long.parseLong(seconds.trim());
      if (n >= 60 && n <= max) {
        return Duration.ofSeconds(n);
      }
    } catch (NumberFormatException e) {
      // refused below, with the one message
    }
    throw FhirException.badRequest("expiresIn must be whole seconds from 60 to " + max + " (7 days)", "expiresIn");
  }

  /** The parameters {@code $upload-url} takes (README, Direct uploads); any other is refused. */
  static final List<String> UPLOAD_URL_PARAMETERS = List.of("contentType", "size", "sha256", "sha1", "filename",
      "securityContext", "multipart", "expiresIn");

  /** The arguments of an operation, read once the caller is known to be allowed. */
  public interface Arguments {
    Map<String, String> get() throws IOException;
  }

  /**
   * {@code POST /Binary/$upload-url}: reserves a Binary and answers a Parameters with the
   * {@code binary} reference, the {@code url}, the {@code method}, the {@code headers} to send
   * (one part per header, named after it) and when the URL {@code expires}; for an S3 multipart
   * upload ({@code multipart=true}, or above S3's 5 GiB for one PUT), one {@code part} per part
   * ({@code number}, {@code offset}, {@code size}, {@code url}) instead of {@code url} and
   * {@code headers}.
   */
  public void uploadUrl(Exchange ex, Principal principal, Arguments arguments) throws IOException {
    principal.require("Binary", Interaction.CREATE);
    for (String name : ex.params().keySet()) {
      // its parameters come in the body only: one in the query would be dropped as a misspelt one would
      if (!name.equals("_format") && !name.equals("_pretty")) {
        throw FhirException.badRequest("$upload-url takes its parameters in a Parameters body, not in the query (got '"
            + QueryLimits.shorten(name) + "')", name);
      }
    }
    Map<String, String> args = arguments.get();
    for (String name : args.keySet()) {
      // a misspelt parameter dropped in silence would issue a URL without what it asked for: no
      // securityContext (a Binary outside the patient's compartment), no checksum to check
      if (!UPLOAD_URL_PARAMETERS.contains(name)) {
        throw FhirException.badRequest("$upload-url takes no parameter '" + (name == null ? "" : name.length() > 40
            ? name.substring(0, 40) + "…" : name) + "'; it takes " + String.join(", ", UPLOAD_URL_PARAMETERS), name);
      }
    }
    DirectUploads.Issued issued = uploads.issue(principal, new DirectUploads.Request(args.get("contentType"),
        number(args, "size"), args.get("sha256"), args.get("sha1"), args.get("filename"),
        args.get("securityContext"), number(args, "expiresIn"), flag("multipart", args.get("multipart"))),
        ex.baseUrl());
    output.writeRaw(ex, 200, issuedParameters(issued));
  }

  static Parameters issuedParameters(DirectUploads.Issued issued) {
    Parameters p = new Parameters();
    if (issued.url() != null) {
      p.addParameter().setName("url").setValue(new UrlType(issued.url()));
    }
    p.addParameter().setName("binary").setValue(new Reference("Binary/" + issued.binaryId()));
    p.addParameter().setName("method").setValue(new CodeType(issued.method()));
    if (!issued.headers().isEmpty()) {
      Parameters.ParametersParameterComponent headers = p.addParameter().setName("headers");
      issued.headers().forEach((name, value) -> headers.addPart().setName(name).setValue(new StringType(value)));
    }
    if (issued.parts() != null) {
      for (DirectUploads.Part part : issued.parts()) {
        Parameters.ParametersParameterComponent pp = p.addParameter().setName("part");
        pp.addPart().setName("number").setValue(new IntegerType(part.number()));
        pp.addPart().setName("offset").setValue(whole(part.offset()));
        pp.addPart().setName("size").setValue(whole(part.size()));
        pp.addPart().setName("url").setValue(new UrlType(part.url()));
      }
    }
    p.addParameter().setName("expires").setValue(new InstantType(Date.from(issued.expires())));
    if (issued.completeUrl() != null) {
      Parameters.ParametersParameterComponent complete = p.addParameter().setName("complete");
      complete.addPart().setName("url").setValue(new UrlType(issued.completeUrl()));
      complete.addPart().setName("method").setValue(new CodeType("POST"));
    }
    return p;
  }

  /** valueInteger where it fits (R4 integer is 32-bit), else valueDecimal. */
  private static Type whole(long n) {
    return n <= Integer.MAX_VALUE ? new IntegerType((int) n) : new DecimalType(n);
  }

  /**
   * A boolean parameter: absent or empty is false, else {@code true} or {@code false} (R4 boolean);
   * anything else is 400 rather than false (an {@code upload=1} answered with a download URL).
   */
  private static boolean flag(String name, String v) {
    if (v == null || v.isBlank()) {
      return false;
    }
    return switch (v.trim()) {
      case "true" -> true;
      case "false" -> false;
      default -> throw FhirException.badRequest(name + " must be true or false, got '" + v + "'", name);
    };
  }

  /**
   * A whole number written as an R4 integer is ({@code [0]|[-+]?[1-9][0-9]*}, datatypes.html#integer),
   * whether it comes as valueInteger, as valueDecimal (a size beyond 2^31, which valueInteger cannot
   * hold) or as valueString: a decimal written with a fraction or an exponent ({@code 5.0},
   * {@code 1e3}), leading zeros or spaces is refused rather than rounded or read as another number.
   * (A JSON number with an exponent but no fraction, {@code 1e3}, reaches this already written as
   * its digits by the FHIR parser, and is read as that whole number.)
   */
  private static Long number(Map<String, String> args, String name) {
    String v = args.get(name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    if (!R4_INTEGER.matcher(v).matches()) {
      throw FhirException.badRequest(name + " must be a whole number written as an integer (valueInteger, or"
          + " digits alone), got '" + (v.length() > 40 ? v.substring(0, 40) + "…" : v) + "'", name);
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw FhirException.badRequest(name + " " + v + " is out of range", name);
    }
  }
}
