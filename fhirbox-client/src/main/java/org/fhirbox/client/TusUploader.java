package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Binary;

/**
 * Uploads a file with tus 1.0.0 (core, creation, termination) to {@code Binary/$upload}, resuming by
 * itself: after a failed request it waits, asks {@code HEAD} for the offset the server kept (tus
 * core: the only offset that counts) and sends the rest from there. The last {@code PATCH}, or a
 * later {@code HEAD}, names the Binary in {@code Content-Location}.
 */
final class TusUploader {
  private static final String TUS_VERSION = "1.0.0";
  private static final String OCTETS = "application/offset+octet-stream";
  /** The tus endpoint, under the FHIR base. */
  private static final String ENDPOINT = "Binary/$upload";

  private final Transport transport;
  private final Endpoints endpoints;
  private final Resources resources;
  private final ResumableUploads settings;
  private final UploadStates states;
  private final Retrier retrier;
  private final String principal;

  /** @param principal who the client is ({@code FhirboxClientBuilder.principal}): part of the fingerprint */
  TusUploader(Transport transport, Endpoints endpoints, Resources resources, ResumableUploads settings,
      String principal) {
    this.principal = principal;
    this.transport = transport;
    this.endpoints = endpoints;
    this.resources = resources;
    this.settings = settings;
    this.states = new UploadStates(settings.stateDirectory());
    this.retrier = new Retrier(settings.retries(), Clock.systemUTC());
  }

  /** Files of at least the threshold; bytes and streams go in one request. */
  boolean handles(Upload upload) {
    return upload.file() != null && upload.size() >= settings.threshold();
  }

  /** Where an upload stands: the server's offset, and the Binary version once there is one. */
  private record Status(URI url, long offset, Created binary) {}

  /** The Binary a completed upload made: {@code id} null when the server named it malformed. */
  private record Created(String id, String version) {}

  /** The offset of an upload kept by an earlier run, until the server is asked. */
  private static final long UNKNOWN = -1;

  Binaries.Uploaded upload(Upload upload) {
    Path file = upload.file();
    long size = upload.size();
    String fingerprint = fingerprint(upload);
    // an upload an earlier run kept: its offset is asked inside the loop, so that a server on its
    // way down or up is waited for as after any failed piece
    // a kept URL outside the FHIR base (a state file edited or planted) would get the credentials
    Status status = states.find(fingerprint).filter(endpoints::isFhir)
        .map(url -> new Status(url, UNKNOWN, null)).orElse(null);
    int failures = 0;
    boolean ask = status != null;
    while (status == null || status.binary() == null) {
      try {
        if (status == null) {
          status = create(upload, size);
          states.keep(fingerprint, status.url());
          upload.progress().onProgress(status.offset(), size);
          continue;
        }
        if (!ask && !fingerprint(upload).equals(fingerprint)) {
          // the offset the server holds counts bytes of the file as it was
          states.forget(fingerprint);
          throw FhirboxException.client(file + " changed while it was uploaded; upload it again", null);
        }
        boolean patched = !ask;
        Status next = ask ? head(status.url()) : patch(status, file, size, upload.progress());
        ask = false;
        if (next.offset() < 0 || next.offset() > size) {
          // the next piece would start outside the file
          throw FhirboxException.client("the server sent an Upload-Offset of " + next.offset() + " for an upload of "
              + size + " bytes", null);
        }
        if (status.offset() == UNKNOWN) {
          upload.progress().onProgress(next.offset(), size); // where the kept upload goes on from
        }
        if (next.offset() > status.offset()) {
          failures = 0;
        } else if (next.binary() == null && next.offset() >= size) {
          throw FhirboxException.client("the server took every byte of " + status.url().getRawPath()
              + " but named no Binary", null);
        } else if (patched && next.binary() == null) {
          // a piece accepted without moving the offset: counted as a failure, so that a server
          // that stores nothing is not sent the same piece for ever
          if (!retrier.mayRetry(failures)) {
            throw FhirboxException.client("the server accepted pieces of " + status.url().getRawPath()
                + " but its offset stayed at " + next.offset(), null);
          }
          failures++;
          retrier.sleep(retrier.delay(failures, Optional.empty()), "PATCH", ENDPOINT);
        }
        status = next;
      } catch (FhirboxException e) {
        boolean gone = e.status() == 404 || e.status() == 410;
        if (gone && status != null && status.offset() == UNKNOWN) {
          // the kept upload expired or was swept: this content starts again, which is no failure
          states.forget(fingerprint);
          status = null;
          ask = false;
          continue;
        }
        boolean mayHaveReached = e.status() == 0 || e.status() >= 500 && e.status() != 503;
        if (status == null && size == 0 && mayHaveReached) {
          // an empty upload is complete at once: its creation commits the Binary, so a creation
          // that may have reached the server (its answer lost, a failure part way) is not sent
          // again, which could make a second one
          throw FhirboxException.client("the creation of an empty upload failed and is not sent again, as it"
              + " may have made a Binary already: " + e.getMessage(), e);
        }
        // a 404 to the creation itself: the server has no resumable uploads here, which waiting
        // does not change
        if (!(gone || retryable(e)) || (gone && status == null) || !retrier.mayRetry(failures)) {
          throw e;
        }
        failures++;
        if (gone && status != null) {
          // expired, swept, or lost with a database that forgot it: this content starts again
          states.forget(fingerprint);
          status = null;
          continue;
        }
        retrier.sleep(retrier.delay(failures, Optional.empty()), "PATCH", ENDPOINT);
        ask = status != null;
      }
    }
    states.forget(fingerprint);
    Created created = status.binary();
    if (created.id() == null) {
      throw FhirboxException.client("the server took every byte of " + status.url().getRawPath()
          + " but named the Binary in a malformed Content-Location", null);
    }
    if (!fingerprint(upload).equals(fingerprint)) {
      // checked before each piece, and after the last one, whose bytes may be the file's new ones
      throw Binaries.changedWhileUploaded(resources, file, created.id());
    }
    upload.progress().onProgress(size, size);
    Binary binary = Binaries.readCreated(resources, created.id(), created.version(), upload);
    return new Binaries.Uploaded(binary, size, null);
  }

  /**
   * A dropped connection, a server on its way down or up, a lease still held by a dead request;
   * not a file that cannot be read (deleted, unreadable, EIO), which waiting does not cure.
   */
  private static boolean retryable(FhirboxException e) {
    int s = e.status();
    return s == 0 && e.getCause() instanceof IOException && !FileRangePublisher.causedReadFailure(e)
        || s == 409 || s == 423 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
  }

  private Status create(Upload upload, long size) {
    Call call = tus(Call.of("POST", endpoints.fhir(ENDPOINT)))
        .body(BodyPublishers.noBody(), true)
        .header("Upload-Length", Long.toString(size))
        .header("Upload-Metadata", metadata(upload));
    HttpResponse<InputStream> resp = transport.exchange(call);
    drain(resp);
    String location = resp.headers().firstValue("Location")
        .orElseThrow(() -> FhirboxException.client("the server created an upload without a Location", null));
    return status(endpoints.rebase(location), resp);
  }

  private Status head(URI url) {
    HttpResponse<InputStream> resp = transport.exchange(tus(Call.of("HEAD", url)));
    drain(resp);
    return status(url, resp);
  }

  private Status patch(Status at, Path file, long size, ProgressListener progress) {
    long offset = at.offset();
    long length = Math.min(settings.chunkSize(), size - offset);
    Call call = tus(Call.of("PATCH", at.url()))
        .body(new FileRangePublisher(file, offset, length, done -> progress.onProgress(offset + done, size)), true)
        .header("Content-Type", OCTETS)
        .header("Upload-Offset", Long.toString(offset));
    HttpResponse<InputStream> resp = transport.exchange(call);
    drain(resp);
    return status(at.url(), resp);
  }

  private Status status(URI url, HttpResponse<InputStream> resp) {
    long offset = resp.headers().firstValue("Upload-Offset").map(v -> FhirboxException.serverNumber(v, "Upload-Offset"))
        .orElseThrow(() -> FhirboxException.client("the server sent no Upload-Offset for " + url.getRawPath(), null));
    Created binary = resp.headers().firstValue("Content-Location").map(TusUploader::created).orElse(null);
    return new Status(url, offset, binary);
  }

  /**
   * The Binary the completed upload made, from the URL the server names it by (absolute, on
   * this base or the server's own idea of it, or relative; a query or fragment is no part of
   * it): {@code Binary/{id}/_history/{v}}, or {@code Binary/{id}}. A version that is no FHIR id
   * is left out, so the current one is read; without a valid id the Binary cannot be named.
   */
  private static Created created(String contentLocation) {
    String path = contentLocation.trim().replaceFirst("[?#].*", "");
    int at = path.lastIndexOf("Binary/");
    Matcher m = at < 0 ? null : BINARY_VERSION.matcher(path.substring(at));
    if (m == null || !m.lookingAt()) {
      return at < 0 ? null : new Created(null, null);
    }
    String version = m.group(2);
    return new Created(m.group(1), version != null && version.matches(Resources.FHIR_ID) ? version : null);
  }

  private static final Pattern BINARY_VERSION =
      Pattern.compile("Binary/(" + Resources.FHIR_ID + ")(?:/|$)(?:_history/([^/]*))?");

  private static Call tus(Call call) {
    return call.header("Tus-Resumable", TUS_VERSION);
  }

  /** tus creation: comma-separated {@code key base64(value)} pairs. */
  private static String metadata(Upload upload) {
    List<String> pairs = new ArrayList<>();
    pairs.add(pair("contentType", upload.contentType()));
    if (upload.filename() != null) {
      pairs.add(pair("filename", upload.filename()));
    }
    if (upload.securityContext() != null) {
      pairs.add(pair("securityContext", upload.securityContext()));
    }
    return String.join(",", pairs);
  }

  private static String pair(String key, String value) {
    return key + " " + Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * What makes this content the same as before: the server, the client, the file (its real path and, where the
   * file system has them, its inode and change time, which no copying tool sets back, unlike the
   * modification time), its size and modification time, and what the Binary will be.
   */
  private String fingerprint(Upload upload) {
    Path file = upload.file();
    String path;
    LocalFiles.Stamp stamp;
    try {
      path = file.toRealPath().toString();
      stamp = LocalFiles.Stamp.of(file);
    } catch (IOException e) {
      // a read failure, so not retried as a connection failure is
      throw FhirboxException.client("cannot read " + file + ": " + LocalFiles.readReason(e), new FileRangePublisher.ReadFailure(file, e));
    }
    return UploadStates.fingerprint(endpoints.fhirBase().toString(), principal, path, Long.toString(stamp.size()),
        stamp.modified(), stamp.key(), stamp.changed(), upload.contentType(), upload.filename(),
        upload.securityContext());
  }

  /**
   * The headers carry the answer; the body, an OperationOutcome at most, is read up to a bound
   * ({@link Transport#skip}).
   */
  private static void drain(HttpResponse<InputStream> resp) {
    Transport.discard(resp);
  }
}
