package org.fhirbox.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpResponse;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Streams a Binary's content to a {@link Sink}, resuming a broken transfer with a Range request
 * guarded by {@code If-Range} (RFC 9110 §13.1.5), so a changed file is never spliced.
 */
final class Downloader {
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final int MAX_REDIRECTS = 5;
  private static final Pattern BINARY_REF =
      Pattern.compile("(?:^|/)Binary/(" + Resources.FHIR_ID + ")(?:/_history/" + Resources.FHIR_ID + ")?/?");
  private static final Pattern STORAGE_URL =
      Pattern.compile("(?:^|/)storage/(" + Resources.FHIR_ID + ")/" + Resources.FHIR_ID + "/?");

  /** Where the bytes go. */
  interface Sink {
    void write(byte[] b, int off, int len) throws IOException;

    /** Starts over at byte 0; false when the sink cannot (an OutputStream already written to). */
    boolean restart() throws IOException;
  }

  private final Transport transport;
  private final Endpoints endpoints;

  Downloader(Transport transport, Endpoints endpoints) {
    this.transport = transport;
    this.endpoints = endpoints;
  }

  /**
   * {@code Binary/..} and URLs under the FHIR base get credentials; anything else (signed URLs)
   * none. Under the FHIR base only a Binary (or one of its versions) is content; a reference that
   * is not a Binary's ({@code Patient/123}) names no content either, and neither is fetched. A
   * URL outside the FHIR base (a signed URL, another host's Attachment.url) is fetched as it is.
   */
  Call target(String urlOrReference) {
    String s = Objects.requireNonNull(urlOrReference, "urlOrReference").trim();
    URI uri;
    boolean reference;
    try {
      URI given = URI.create(s);
      reference = !given.isAbsolute() && given.getRawAuthority() == null;
      uri = s.startsWith("Binary/") ? endpoints.fhir(s) : endpoints.root().resolve(given);
    } catch (IllegalArgumentException e) {
      // the JDK's message repeats the whole text, query too, which may hold another service's
      // signature: named without it, and without that message as the cause
      String why = e.getCause() instanceof URISyntaxException bad ? bad.getReason() : "malformed";
      throw new IllegalArgumentException("not a Binary reference or URL: '" + Endpoints.redact(s)
          + "' (" + why + ")");
    }
    if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())) {
      // an Attachment.url may be any URI (urn:uuid:, data:, ftp:); only http(s) is fetched
      throw new IllegalArgumentException("not a Binary reference or http(s) URL: '" + Endpoints.redact(s)
          + "'");
    }
    if (reference && binaryId(s).isEmpty() || endpoints.isFhir(uri) && !isBinary(uri)) {
      throw new IllegalArgumentException("not a Binary reference or URL: '" + Endpoints.redact(s) + "'");
    }
    return Call.of("GET", uri).header("Accept", "*/*").authenticated(endpoints.isFhir(uri));
  }

  /**
   * Where a download stands: bytes already in the sink, the total when known, and the validator
   * of the response those bytes came from. {@link #started} is told whenever a full (200)
   * response begins, after the sink was rewound, so a file download can record it for a later run.
   */
  static class Progress {
    long done;
    long total = -1;
    String validator;

    /** A 200 response begins: {@code validator} (null when none) over {@code total} bytes (-1 unknown). */
    void started(String validator, long total) throws IOException {
    }
  }

  long download(String urlOrReference, Sink sink, ProgressListener progress) {
    return download(urlOrReference, sink, progress, new Progress());
  }

  long download(String urlOrReference, Sink sink, ProgressListener progress, Progress state) {
    Call origin = target(urlOrReference);
    Call base = origin;
    // breaks in a row without progress: one that came after new bytes starts the count again,
    // so a long download over a flaky link goes on as long as each connection brings some
    int resumes = 0;
    long furthest = state.done;
    int redirects = 0;
    boolean restartedAfterRefusal = false;
    byte[] buf = new byte[64 * 1024];
    while (true) {
      Call call = base;
      if (state.done > 0) {
        call = call.header("Range", "bytes=" + state.done + "-").header("If-Range", state.validator);
      }
      HttpResponse<InputStream> resp;
      try {
        resp = transport.exchangeOrRedirect(call);
      } catch (FhirboxException e) {
        if (e.status() != 416 || state.done == 0 || restartedAfterRefusal) {
          throw e;
        }
        // the part holds as much as the content (its length unknown) or more (the content shrank
        // under the same validator): nothing to resume, so fetch the whole content, once
        restartedAfterRefusal = true;
        restartOrFail(sink, call, new IOException("the server refused to resume at byte " + state.done, e));
        state.done = 0;
        state.validator = null;
        state.total = -1;
        continue;
      }
      int status = resp.statusCode();
      Optional<String> location = resp.headers().firstValue("Location");
      if (status >= 300 && status < 400 && location.isPresent() && redirects++ < MAX_REDIRECTS) {
        close(resp);
        // credentials never join on the way: a URL fetched without them (a signed URL, another
        // host's Attachment.url that someone else wrote) must not make a request with them
        Call next = redirectTarget(call, location.get());
        base = next.authenticated(next.authenticated() && base.authenticated());
        continue;
      }
      // the body is closed whatever happens below, also when the sink or the sidecar fails
      try (InputStream in = resp.body()) { // a read that waits too long fails, as a broken connection
        if (status == 206) {
          Matcher m = CONTENT_RANGE.matcher(resp.headers().firstValue("Content-Range").orElse(""));
          if (!m.matches() || FhirboxException.serverNumber(m.group(1), "Content-Range") != state.done) {
            throw FhirboxException.client("GET " + call.path() + " answered a resume with the wrong range", null);
          }
          long total = m.group(3).equals("*") ? -1 : FhirboxException.serverNumber(m.group(3), "Content-Range");
          if (!sameContent(state.validator, resp)) {
            // a host that ignores If-Range (RFC 9110 §13.1.5 lets one that does not support it
            // answer the Range alone) sent a part of the content as it is now: fetch that whole
            restartOrFail(sink, call, new IOException("the resumed range is of another version of the content"));
            state.done = 0;
            state.validator = null;
            state.total = -1;
            continue;
          }
          if (state.total >= 0 && total != state.total) {
            // the same validator over another length: trust neither, fetch the whole content again
            restartOrFail(sink, call, new IOException("the resumed content has another length"));
            state.done = 0;
            state.validator = null;
            state.total = -1;
            continue;
          }
          state.total = total;
          progress.onProgress(state.done, state.total);
        } else if (status == 200) {
          if (state.done > 0 && !local(sink::restart)) {
            throw FhirboxException.client("GET " + call.path()
                + " changed while downloading and cannot restart into an OutputStream", null);
          }
          state.done = 0;
          state.total = resp.headers().firstValueAsLong("Content-Length").orElse(-1);
          state.validator = validator(resp);
          local(() -> {
            state.started(state.validator, state.total);
            return true;
          });
        } else {
          throw FhirboxException.client("GET " + call.path() + " answered " + status + " without content", null);
        }
        if (state.total == 0) {
          progress.onProgress(0, 0);
        }
        int n;
        while ((n = in.read(buf)) >= 0) {
          write(sink, buf, n);
          state.done += n;
          progress.onProgress(state.done, state.total);
        }
        if (state.total < 0) {
          // the end of a body without Content-Length is where its size becomes known: one last
          // call says so, as an upload of unknown length ends, so a listener always sees the end
          progress.onProgress(state.done, state.done);
          return state.done;
        }
        if (state.done == state.total) {
          return state.done;
        }
        throw new IOException("the connection closed after " + state.done + " of " + state.total + " bytes");
      } catch (IOException e) {
        if (Thread.currentThread().isInterrupted()) {
          // an interrupt ends the download as it ends any other wait of the client; a file
          // download keeps its part and sidecar for a later run, as after any failure
          throw FhirboxException.client("GET " + call.path() + " was interrupted", e);
        }
        if (state.done > furthest) {
          // further than any connection before (bytes a restart threw away do not count twice)
          furthest = state.done;
          resumes = 0;
        }
        if (resumes >= transport.retrier().policy().maxRetries()) {
          throw transport.unanswered(call, e);
        }
        resumes++;
        if (state.validator == null) {
          restartOrFail(sink, call, e);
          state.done = 0;
        }
        transport.retrier().sleep(transport.retrier().delay(resumes, Optional.empty()), call.method(), call.path());
        // a URL redirected to may be short-lived (a presigned bucket URL) and expired since: the
        // resume asks the URL the caller gave, which redirects to a fresh one
        base = origin;
        redirects = 0;
      }
    }
  }

  /**
   * Where a redirect points, fetched as {@link #target} fetches: the server's answer, not the
   * caller's argument, is at fault when it is no http(s) URL (messages never repeat its query).
   */
  private Call redirectTarget(Call call, String location) {
    String where;
    try {
      where = call.uri().resolve(location.trim()).toString();
    } catch (IllegalArgumentException e) {
      throw FhirboxException.client("GET " + call.path() + " redirected to a malformed Location", null);
    }
    try {
      return target(where);
    } catch (IllegalArgumentException e) {
      throw FhirboxException.client("GET " + call.path() + " redirected to what the client cannot fetch: "
          + e.getMessage(), null);
    }
  }

  /** A step on this side (rewinding the sink, writing the sidecar) that may fail with an IOException. */
  private interface LocalStep {
    boolean run() throws IOException;
  }

  /** Runs {@code step}; its failure is local, fails at once like {@link #write} and is not resumed. */
  private static boolean local(LocalStep step) {
    try {
      return step.run();
    } catch (IOException e) {
      throw FhirboxException.client("cannot write the downloaded content: " + LocalFiles.writeReason(e), e);
    }
  }

  /**
   * A local write error (a full disk, EIO) fails the download at once instead of counting as a
   * broken connection: a write may have stored part of its buffer before failing, so the sink's
   * position no longer says how many bytes are done, and a resume would splice at the wrong offset.
   * A file download keeps its {@code .part} (the next run resumes from its real size).
   */
  private static void write(Sink sink, byte[] buf, int n) {
    local(() -> {
      sink.write(buf, 0, n);
      return true;
    });
  }

  private static void restartOrFail(Sink sink, Call call, IOException cause) {
    boolean restarted;
    try {
      restarted = sink.restart();
    } catch (IOException e) {
      cause.addSuppressed(e);
      restarted = false;
    }
    if (!restarted) {
      throw FhirboxException.transport(call.method(), call.path(), cause);
    }
  }

  /**
   * What {@code If-Range} may carry: a strong ETag or a Last-Modified date; a weak ETag may not
   * be used (RFC 9110 §13.1.5), and without either a resume starts over.
   */
  private static String validator(HttpResponse<?> resp) {
    Optional<String> etag = resp.headers().firstValue("ETag");
    if (etag.isPresent() && !etag.get().startsWith("W/")) {
      return etag.get();
    }
    return resp.headers().firstValue("Last-Modified").orElse(null);
  }

  /**
   * Whether a 206 answer is of the content {@code validator} (sent as If-Range) names: its own
   * validator of that kind (ETag for a tag, Last-Modified for a date) is the same. An answer
   * without one cannot say otherwise, and is taken as the server's word that the range held.
   */
  private static boolean sameContent(String validator, HttpResponse<?> resp) {
    Optional<String> own = resp.headers().firstValue(validator.startsWith("\"") ? "ETag" : "Last-Modified");
    return own.isEmpty() || own.get().strip().equals(validator.strip());
  }

  private static void close(HttpResponse<InputStream> resp) {
    try {
      resp.body().close();
    } catch (IOException ignored) {
      // the connection is dropped; nothing depends on it
    }
  }

  /**
   * Downloads into {@code target} through a {@code .part} sibling, moved into place when complete.
   * While a response with a validator is being written, {@code FILE.part.validator} records that
   * validator and the total length; a failed or killed run leaves both, and the next run resumes
   * from the end of {@code FILE.part} with {@code Range} + {@code If-Range}.
   *
   * <p>The part file is locked while it is written, so two downloads to one file fail rather than
   * interleave; it and the sidecar are never opened through a symbolic link (a link in their place
   * is removed, not followed). With {@code replace} false an existing {@code target}, also one
   * created while the download ran, is never replaced: the download fails and removes its part.
   * Nor is an existing {@code FILE.part} then, unless its sidecar shows it is a download this
   * client left unfinished: the name may come from the server, and the file is someone's own.
   */
  long toFile(String urlOrReference, Path target, ProgressListener progress, boolean replace) {
    target(urlOrReference); // a source that is refused touches no file
    Objects.requireNonNull(target, "target");
    if (Files.isDirectory(target)) {
      // it would be fetched whole, then fail to replace the directory and leave its part beside it
      throw new IllegalArgumentException(target + " is a directory: download to a file, e.g. "
          + target.resolve(binaryId(urlOrReference).orElse("content")));
    }
    if (replace && Files.exists(target) && !Files.isRegularFile(target)) {
      return intoSpecialFile(urlOrReference, target, progress);
    }
    Path part = PartialFile.partOf(target);
    Path sidecar = PartialFile.sidecarOf(part);
    boolean done = false;
    boolean owned = false;
    PartialFile.Checkpoint state = new PartialFile.Checkpoint(sidecar);
    try {
      if (!replace && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        // it would fail when complete anyway (checked again then, as the name may be taken meanwhile)
        throw new FileAlreadyExistsException(target.toString());
      }
      long n;
      try (FileChannel channel = replace ? openPart(part) : openNewPart(part, sidecar)) {
        lock(channel, part, target);
        owned = true;
        // read under the lock: another run may have written the part until a moment ago
        Optional<PartialFile> previous = PartialFile.read(part, sidecar);
        if (previous.isPresent()) {
          PartialFile p = previous.get();
          channel.position(p.size());
          state.done = p.size();
          state.total = p.total();
          state.validator = p.validator();
          state.recorded = true;
        } else {
          channel.truncate(0);
          Files.deleteIfExists(sidecar);
        }
        n = download(urlOrReference, Downloader.sink(channel), progress, state);
        channel.force(false);
        if (!replace) {
          // published while the lock is held, so no other run writes the part meanwhile
          publishNew(part, target);
        } else {
          moveIntoPlace(part, target);
        }
      }
      Files.deleteIfExists(sidecar);
      done = true;
      return n;
    } catch (FileAlreadyExistsException e) {
      state.recorded = false; // the content is complete but has nowhere to go
      throw FhirboxException.client(target + " already exists, and this download never replaces a file;"
          + " nothing was written", e);
    } catch (ClosedByInterruptException e) {
      // the file channel closed itself because the thread was interrupted: nothing is wrong with the file
      throw FhirboxException.client("the download to " + target + " was interrupted", e);
    } catch (IOException e) {
      throw FhirboxException.client("cannot write " + target + ": " + LocalFiles.writeReason(e), e);
    } finally {
      if (owned && !done && !state.recorded) {
        deleteQuietly(part);
        deleteQuietly(sidecar);
      }
    }
  }

  /**
   * A target that is there but no regular file nor directory: a device or a pipe ({@code /dev/null},
   * {@code /dev/stdout}, a FIFO), written into as the content arrives, as {@code cp} does. A part
   * moved onto it would replace the device node or pipe itself with a regular file.
   */
  private long intoSpecialFile(String urlOrReference, Path target, ProgressListener progress) {
    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.WRITE)) {
      return download(urlOrReference, Downloader.sink(out), progress);
    } catch (ClosedByInterruptException e) {
      throw FhirboxException.client("the download to " + target + " was interrupted", e);
    } catch (IOException e) {
      throw FhirboxException.client("cannot write " + target + ": " + LocalFiles.writeReason(e), e);
    }
  }

  /** {@code FILE.part} for writing, never through a symbolic link: one in its place is removed. */
  private static FileChannel openPart(Path part) throws IOException {
    if (Files.isSymbolicLink(part)) {
      Files.delete(part); // the link only; what it points to stays as it is
    }
    // NOFOLLOW_LINKS: a link put there after the check makes the open fail instead of following it
    return FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * {@code FILE.part} for a download that never replaces a file: a new one, or one an earlier run
   * left with a valid sidecar, which only this client writes. Any other file of that name (a link
   * too) is neither written nor removed: the download fails.
   */
  private static FileChannel openNewPart(Path part, Path sidecar) throws IOException {
    try {
      if (PartialFile.read(part, sidecar).isPresent()) {
        return FileChannel.open(part, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      }
      return FileChannel.open(part, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (FileAlreadyExistsException e) {
      throw FhirboxException.client(part + " already exists and is no download left unfinished (it has no valid "
          + sidecar.getFileName() + "), and this download never replaces a file; nothing was written", e);
    }
  }

  private static void lock(FileChannel channel, Path part, Path target) throws IOException {
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      throw FhirboxException.client(part + " is locked by another download to " + target
          + "; wait for it to end or download to another file", null);
    }
  }

  /**
   * Publishes the part under {@code target} only if no file is there: a hard link fails
   * atomically when the name exists (where the file system has none, a move that refuses an
   * existing target, checked just before).
   */
  private static void publishNew(Path part, Path target) throws IOException {
    try {
      Files.createLink(target, part);
    } catch (FileAlreadyExistsException e) {
      throw e;
    } catch (UnsupportedOperationException | FileSystemException e) {
      Files.move(part, target);
      return;
    }
    Files.delete(part);
  }

  private static void moveIntoPlace(Path part, Path target) throws IOException {
    try {
      Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort: the failure being reported matters more
    }
  }

  /** Whether {@code uri}, under the FHIR base, is a Binary's or one of its versions'. */
  private boolean isBinary(URI uri) {
    String path = uri.getRawPath();
    String base = endpoints.fhirBase().getRawPath();
    return path != null && path.startsWith(base) && BINARY_REF.matcher(path.substring(base.length())).matches();
  }

  /** See {@link FhirboxClient#binaryId(String)}. */
  static Optional<String> binaryId(String url) {
    if (url == null) {
      return Optional.empty();
    }
    String path = url.trim();
    int cut = indexOfAny(path, '?', '#');
    if (cut >= 0) {
      path = path.substring(0, cut);
    }
    for (Pattern p : new Pattern[] {BINARY_REF, STORAGE_URL}) {
      Matcher m = p.matcher(path);
      if (m.find() && m.end() == path.length()) {
        return Optional.of(m.group(1));
      }
    }
    return Optional.empty();
  }

  private static int indexOfAny(String s, char a, char b) {
    int i = s.indexOf(a);
    int j = s.indexOf(b);
    return i < 0 ? j : j < 0 ? i : Math.min(i, j);
  }

  /** Writes to a file channel, which can be truncated to start over. */
  static Sink sink(java.nio.channels.FileChannel channel) {
    return new Sink() {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b, off, len);
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
      }

      @Override
      public boolean restart() throws IOException {
        channel.truncate(0);
        channel.position(0);
        return true;
      }
    };
  }

  /** Writes to an OutputStream, which cannot be rewound once written. */
  static Sink sink(OutputStream out) {
    return new Sink() {
      private boolean written;

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        written |= len > 0;
        out.write(b, off, len);
      }

      @Override
      public boolean restart() {
        return !written;
      }
    };
  }
}
