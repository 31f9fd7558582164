package org.fhirbox.binary;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.BiConsumer;
import java.util.zip.ZipException;
import org.fhirbox.audit.AuditedRequest;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.fhir.Written;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches an external URL into a new Binary: {@link SafeFetcher} streams the body straight into
 * {@link BinaryService#create}, so memory use does not grow with the size, and content an upstream
 * sends with a {@code Content-Encoding} is decoded there like an upload's. Used by ingestion
 * jobs and by {@code POST /fhir/R4/Binary/$import}.
 *
 * <p>{@code $import} fetches on the HTTP request's own thread, so at most {@code importConcurrency}
 * run at once on a node; one more gets 503 with {@code Retry-After} (RFC 9110 §15.6.4, §10.2.3)
 * at once rather than a thread. Without the limit, as many slow upstreams as Jetty has threads
 * would leave none for any other request.
 */
public final class BinaryImporter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BinaryImporter.class);
  /** How long a refused {@code $import} is told to wait before it tries again. */
  private static final long IMPORT_RETRY_AFTER_SECONDS = 10;
  private final SafeFetcher fetcher;
  private final BinaryService binaries;
  private final int importConcurrency;
  private final Semaphore importSlots;

  /** @param importConcurrency the most {@code $import} fetches that run at once on this node */
  public BinaryImporter(SafeFetcher fetcher, BinaryService binaries, int importConcurrency) {
    if (importConcurrency < 1) {
      throw new IllegalArgumentException("FHIRBOX_INGEST_IMPORT_CONCURRENCY must be at least 1, got "
          + importConcurrency);
    }
    this.fetcher = fetcher;
    this.binaries = binaries;
    this.importConcurrency = importConcurrency;
    this.importSlots = new Semaphore(importConcurrency);
  }

  /** The arguments of {@code $import}, read once the caller may create Binaries. */
  public interface Arguments {
    Map<String, String> read() throws IOException;
  }

  /**
   * {@code POST /Binary/$import} for a caller who may create Binaries: fetches {@code url} now
   * (arguments {@code url}, {@code contentType}, {@code securityContext}). The new Binary is audited.
   */
  public Written importNow(Principal principal, Arguments arguments, AuditedRequest request) throws IOException {
    principal.require("Binary", Interaction.CREATE);
    Map<String, String> args = arguments.read();
    String securityContext = binaries.securityContext(principal, null, args.get("securityContext"),
        Interaction.CREATE);
    return binaries.recorded(principal, request,
        importNow(principal.project(), args.get("url"), args.get("contentType"), securityContext));
  }

  public UrlPolicy policy() {
    return fetcher.policy();
  }

  /**
   * Fetches {@code url} into a Binary of {@code project}. The content type is
   * {@code declaredContentType} (the Attachment's {@code contentType}, {@code $import}'s
   * parameter) when there is one, else the response's, else {@code application/octet-stream}. The
   * Binary is created in one transaction with
   * {@code alongside}, which may veto it by throwing (its content is then deleted). Throws
   * {@link FetchException} when the fetch fails or {@code cancellation} stopped it (the upstream
   * too slow, the job's lease lost), and {@link FhirException} when the Binary policy rejects
   * the content (too large, denied type).
   */
  public Written fetch(String project, String url, String declaredContentType, String securityContext,
      Cancellation cancellation, BiConsumer<ResourceStore.Tx, Written> alongside) throws FetchException {
    SafeFetcher.Fetched fetched = fetcher.open(url, cancellation);
    try {
      String type = contentType(declaredContentType, fetched.contentType());
      // A Content-Encoding is undone as an upload's is, under the same expansion guard.
      return binaries.create(project, new BinaryService.Upload(fetched.body(), type, fetched.contentEncoding(),
          securityContext, filename(fetched.uri())), alongside);
    } catch (FhirException e) {
      if (e.getCause() instanceof ZipException || e.getCause() instanceof EOFException) {
        // the upstream's Content-Encoding does not decode: its fault (502), not the caller's
        throw FetchException.permanent("the upstream's content is broken: " + e.getMessage());
      }
      if (e.kind() != IssueKind.INCOMPLETE) {
        throw e;
      }
      FetchException cancelled = cancellation.failure(e);
      if (cancelled != null) {
        throw cancelled;
      }
      FetchException timedOut = SafeFetcher.timedOut(e);
      if (timedOut != null) {
        throw timedOut;
      }
      // The cause's text is the HTTP client's own (its connection state, this server's local
      // address and port): for the log, not for the caller or a job's last error.
      Throwable cause = e.getCause() instanceof ClientBody.ReadFailure && e.getCause().getCause() != null
          ? e.getCause().getCause() : e.getCause() == null ? e : e.getCause();
      LOG.info("content of {} stopped before its end: {}: {}", RedactedUrl.of(fetched.uri()),
          cause.getClass().getSimpleName(), cause.getMessage());
      throw FetchException.transientFailure("the upstream content stopped before its end (the connection closed"
          + " early, or the content was not framed as HTTP requires)", e);
    } catch (UncheckedIOException e) {
      FetchException cancelled = cancellation.failure(e);
      if (cancelled != null) {
        throw cancelled;
      }
      // Reads of the upstream's body fail as INCOMPLETE above: this is the blob store failing (a
      // full disk, an object store that is down), no fault of the upstream, and its cause may name
      // files. Passed on as it is: a job retries it, and $import answers 503 or 500 with a generic text.
      throw e;
    } finally {
      try {
        fetched.close();
      } catch (IOException ignored) {
        // the content is stored or abandoned; nothing more to read
      }
    }
  }

  /**
   * The Binary's content type: what the writer declared says what the content is (FHIR R4
   * datatypes.html#Attachment, {@code contentType}) and wins, so the Attachment and its Binary agree
   * whatever an upstream labels its files (an object store's {@code binary/octet-stream}, a web
   * server's guess by extension). The upstream's is used without one, or when the declared one is
   * {@code application/octet-stream}, which says only that the type is not known (RFC 2046 §4.5.1,
   * RFC 9110 §8.3); it is judged as a Binary's must be when it is used, and one that fails that
   * fails the fetch unless there is a declared one to keep. An empty or absent Content-Type leaves
   * the type unknown, which a recipient may take as {@code application/octet-stream} (RFC 9110
   * §8.3): the declared one, or null, which {@link BinaryService} stores as that.
   */
  static String contentType(String declared, String upstream) throws FetchException {
    String stated = declared == null || declared.isBlank() ? null : declared;
    if (stated != null && !unknownType(stated)) {
      return stated;
    }
    if (upstream == null || upstream.isBlank()) {
      return stated;
    }
    try {
      BinaryAttributes.requireContentType(upstream, "the upstream's Content-Type", null);
    } catch (FhirException e) {
      if (stated != null) {
        return stated;
      }
      // the upstream's header, not the caller's: a fault of the upstream (502), not a bad request
      throw FetchException.permanent(e.getMessage());
    }
    return upstream;
  }

  /** Whether {@code contentType} is {@code application/octet-stream}, the type of content whose type is not known. */
  static boolean unknownType(String contentType) {
    return contentType != null && BinaryPolicy.baseType(contentType).equals("application/octet-stream");
  }

  /**
   * The synchronous {@code $import}: like {@link #fetch} but every failure is a
   * {@link FhirException} — 400 when the policy refuses the URL or its host does not exist (or
   * resolves only to addresses that are not fetched), 413 when the upstream declares
   * more content than a Binary may have (as when more arrives without a declared length), 502
   * when the upstream or the DNS resolver fails or the upstream sends what cannot be stored (a
   * broken content coding, a Content-Type too long to keep), 504 when the resolver or the
   * upstream does not answer in time (a timeout ran out, or the content came below the minimum
   * rate), 503 when {@code importConcurrency} imports are running on
   * this node already or its fetch client has as many DNS lookups in flight as it runs. A blob
   * store failure is passed on as it is (503 or 500, see ErrorMapper). A declared
   * {@code contentType} no Binary may have is 400 before anything is fetched.
   */
  public Written importNow(String project, String url, String contentType, String securityContext) {
    if (url == null || url.isBlank()) {
      throw FhirException.badRequest("$import needs a 'url' parameter");
    }
    String declared = contentType == null || contentType.isBlank() ? null : contentType.trim();
    BinaryAttributes.requireContentType(declared, "contentType", "contentType");
    if (!importSlots.tryAcquire()) {
      throw FhirException.unavailable("this server is running as many $import fetches as it runs at once ("
          + importConcurrency + ", FHIRBOX_INGEST_IMPORT_CONCURRENCY); try again later, or put the URL in an"
          + " Attachment to have it fetched in the background", IMPORT_RETRY_AFTER_SECONDS, null);
    }
    try {
      return fetch(project, url.trim(), declared, securityContext, new Cancellation(), (tx, written) -> { });
    } catch (FetchException e) {
      if (e.aboutHostAddress()) {
        // OWASP SSRF prevention: no detail on what the host resolved to (or whether it did), which
        // would let a caller map names and address kinds of the server's own network
        LOG.info("$import of {} not fetched: {}", RedactedUrl.of(url.trim()), e.getMessage());
        throw FhirException.badRequest("the URL is not fetched: its host does not resolve to a public address"
            + " this server fetches from", "url");
      }
      if (e.timedOut()) {
        // the resolver or the upstream, servers this one depends on, did not answer in time:
        // a gateway's timeout (RFC 9110 §15.6.5), not a bad URL
        throw new FhirException(IssueKind.GATEWAY_TIMEOUT, "fetching the URL failed: " + e.getMessage());
      }
      if (e.detail() == FetchException.Detail.RESOLVER_BUSY) {
        // lookups a slow resolver holds: this server's own limit, as for the imports themselves
        throw FhirException.unavailable("fetching the URL failed: " + e.getMessage() + "; try again later",
            IMPORT_RETRY_AFTER_SECONDS, null);
      }
      if (e.kind() == FetchException.Kind.REFUSED) {
        throw FhirException.badRequest("the URL is not fetched: " + e.getMessage(), "url");
      }
      if (e.tooLarge()) {
        // as for content over the limit that came without a Content-Length
        throw FhirException.tooLarge(e.getMessage());
      }
      throw new FhirException(IssueKind.UPSTREAM_FAILED, "fetching the URL failed: " + e.getMessage());
    } finally {
      importSlots.release();
    }
  }

  /** Stops the HTTP client: fetches in flight fail, later ones are refused. Shutdown only. */
  @Override
  public void close() throws Exception {
    fetcher.close();
  }

  /**
   * The last path segment without its parameters ({@code ;jsessionid=...}), reduced to safe
   * characters; null when there is none.
   */
  static String filename(URI uri) {
    String path = uri.getRawPath();
    if (path == null || path.isEmpty() || path.endsWith("/")) {
      return null;
    }
    String last = path.substring(path.lastIndexOf('/') + 1);
    // the segment's parameters (RFC 3986 §3.3) are no part of its name, and may be a session id
    int parameters = last.indexOf(';');
    last = parameters >= 0 ? last.substring(0, parameters) : last;
    String decoded;
    try {
      decoded = URLDecoder.decode(last.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      decoded = last;
    }
    String safe = decoded.replaceAll("[^A-Za-z0-9._-]", "_");
    safe = safe.length() > 200 ? safe.substring(safe.length() - 200) : safe;
    return safe.isEmpty() || safe.chars().allMatch(ch -> ch == '.') ? null : safe;
  }
}
