package org.fhirbox.storage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.zip.CRC32C;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * One {@link S3BlobStore#put}: content that fits in one part goes up as a single PutObject,
 * anything longer as a multipart upload with up to {@code parallelism} parts in flight.
 *
 * <p>Memory: the reader fills one buffer while at most {@code parallelism} filled buffers are
 * uploading, so one upload holds at most {@code parallelism + 1} part buffers whatever the
 * object size; a finished part hands its buffer back to the {@link S3PartBuffers}, which bound
 * the buffers of all uploads together. A body of at most {@link #HEAD} bytes takes none.
 *
 * <p>Integrity: every PutObject and UploadPart carries {@code x-amz-checksum-crc32c}, computed
 * here over the buffer before sending. It travels as a header, ahead of the body, so the server
 * checks the bytes it received against it and refuses the request on a mismatch (AWS S3 and
 * s3proxy both do: s3proxy's {@code FlexChecksum} validates it on PutObject and UploadPart).
 * CRC32C rather than Content-MD5 because the JDK computes it with CPU instructions, and it is the
 * checksum AWS recommends; the multipart upload declares it at creation and the completion lists
 * each part's value, as S3 requires.
 *
 * <p>Failure: on an input error, the size limit, a failed part or interruption, the uploads in
 * flight are let finish (no new part starts), then the multipart upload is aborted so no parts
 * remain, and the original exception propagates.
 */
final class S3Upload {
  private static final String OCTETS = "application/octet-stream";
  /** What a body may have before it takes a part buffer ({@link #run}). */
  static final int HEAD = 128 * 1024;

  private final S3Client s3;
  private final S3Settings settings;
  private final String objectKey;
  private final Executor executor;
  private final S3PartBuffers buffers;
  private final Semaphore slots;
  private final Supplier<LiveWrites.Registration> register;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final List<CompletedPart> completed = Collections.synchronizedList(new ArrayList<>());
  private volatile boolean cancelled;
  /** The bytes handed to part uploads so far (on the thread that runs the upload). */
  private long submitted;

  /**
   * @param register records the upload as under way before a multipart upload begins (the orphan
   *     sweep spares it while the record lasts); the upload closes the record when it fails, and
   *     when it completes outside a unit of work ({@link HeldWrites}), which else keeps it until
   *     the unit has committed the object's row or discarded the object
   */
  S3Upload(S3Client s3, S3Settings settings, String objectKey, Executor executor,
      S3PartBuffers buffers, Supplier<LiveWrites.Registration> register) {
    this.s3 = s3;
    this.register = register;
    this.settings = settings;
    this.objectKey = objectKey;
    this.executor = executor;
    this.buffers = buffers;
    this.slots = new Semaphore(settings.parallelism());
  }

  /**
   * Uploads everything {@code in} yields; the object is visible only when this returns. The first
   * {@link #HEAD} bytes are read into a small buffer of this upload's own, and a part buffer from
   * the pool is taken only for content longer than that: a small body, however slowly it comes,
   * holds no part buffer.
   */
  void run(InputStream in) throws IOException {
    PartReader reader = new PartReader(in);
    byte[] head = new byte[(int) Math.min(HEAD, settings.partSizeBytes())];
    int headLength = reader.fill(head, 0);
    if (reader.atEnd()) {
      putObject(head, headLength);
      return;
    }
    byte[] first = buffers.take();
    int length;
    try {
      System.arraycopy(head, 0, first, 0, headLength);
      length = reader.fill(first, headLength);
    } catch (IOException | RuntimeException | Error e) {
      buffers.give(first);
      throw e;
    }
    if (reader.atEnd()) {
      try {
        putObject(first, length);
      } finally {
        buffers.give(first);
      }
      return;
    }
    multipart(reader, first, length);
  }

  private void putObject(byte[] buf, int length) throws IOException {
    PutObjectRequest.Builder request = PutObjectRequest.builder()
        .bucket(settings.bucket()).key(objectKey).contentType(OCTETS)
        .contentLength((long) length).checksumCRC32C(crc32c(buf, length));
    switch (settings.sse()) {
      case S3 -> request.serverSideEncryption(ServerSideEncryption.AES256);
      case KMS -> request.serverSideEncryption(ServerSideEncryption.AWS_KMS)
          .ssekmsKeyId(settings.kmsKeyId());
      case NONE -> { }
    }
    try {
      s3.putObject(request.build(), body(buf, length));
    } catch (SdkException e) {
      throw S3BlobStore.io("PutObject " + objectKey, e);
    }
  }

  private void multipart(PartReader reader, byte[] first, int firstLength) throws IOException {
    LiveWrites.Registration registration;
    try {
      registration = register.get();
    } catch (RuntimeException | Error e) {
      buffers.give(first);
      throw e;
    }
    boolean kept = false;
    try {
      multipartUpload(reader, first, firstLength);
      // the object is dated from the upload's start: its lease lasts until its row is committed
      kept = HeldWrites.keep(registration);
    } finally {
      if (!kept) {
        registration.close();
      }
    }
  }

  private void multipartUpload(PartReader reader, byte[] first, int firstLength) throws IOException {
    String uploadId;
    try {
      uploadId = createMultipartUpload();
    } catch (IOException | RuntimeException e) {
      buffers.give(first);
      throw e;
    }
    byte[] buf = first;
    int length = firstLength;
    boolean drained = false;
    try {
      int partNumber = 1;
      while (true) {
        boolean last = reader.atEnd();
        acquireSlot();
        submitPart(uploadId, partNumber++, buf, length);
        submitted += length;
        buf = null;
        if (last) {
          break;
        }
        buf = buffers.take(() -> slots.availablePermits() < settings.parallelism());
        length = reader.fill(buf, 0);
      }
      slots.acquire(settings.parallelism());
      drained = true;
      rethrowPartFailure();
      complete(uploadId, partNumber - 1);
    } catch (InterruptedException e) {
      InterruptedIOException interrupted = new InterruptedIOException("upload interrupted");
      interrupted.initCause(e);
      abandon(uploadId, buf, drained, interrupted, true);
      throw interrupted;
    } catch (IOException | RuntimeException | Error e) {
      abandon(uploadId, buf, drained, e, false);
      throw e;
    }
  }

  private String createMultipartUpload() throws IOException {
    CreateMultipartUploadRequest.Builder request = CreateMultipartUploadRequest.builder()
        .bucket(settings.bucket()).key(objectKey).contentType(OCTETS)
        .checksumAlgorithm(ChecksumAlgorithm.CRC32_C);
    switch (settings.sse()) {
      case S3 -> request.serverSideEncryption(ServerSideEncryption.AES256);
      case KMS -> request.serverSideEncryption(ServerSideEncryption.AWS_KMS)
          .ssekmsKeyId(settings.kmsKeyId());
      case NONE -> { }
    }
    try {
      return s3.createMultipartUpload(request.build()).uploadId();
    } catch (SdkException e) {
      throw S3BlobStore.io("CreateMultipartUpload " + objectKey, e);
    }
  }

  private void acquireSlot() throws InterruptedException, IOException {
    slots.acquire();
    if (failure.get() != null) {
      slots.release();
      rethrowPartFailure();
    }
  }

  /** Hands {@code buf} to a part upload; it returns the buffer and the slot when done. */
  private void submitPart(String uploadId, int partNumber, byte[] buf, int length)
      throws IOException {
    Runnable task = () -> {
      try {
        if (!cancelled && failure.get() == null) {
          completed.add(uploadPart(uploadId, partNumber, buf, length));
        }
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      } finally {
        buffers.give(buf);
        slots.release();
      }
    };
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      slots.release(); // the buffer stays the caller's, which hands it back as it abandons the upload
      throw new IOException("blob store is closed", e);
    }
  }

  private CompletedPart uploadPart(String uploadId, int partNumber, byte[] buf, int length) {
    String crc = crc32c(buf, length);
    UploadPartResponse response = s3.uploadPart(b -> b.bucket(settings.bucket()).key(objectKey)
        .uploadId(uploadId).partNumber(partNumber).contentLength((long) length)
        .checksumCRC32C(crc), body(buf, length));
    return CompletedPart.builder().partNumber(partNumber).eTag(response.eTag())
        .checksumCRC32C(crc).build();
  }

  private void complete(String uploadId, int partCount) throws IOException {
    List<CompletedPart> parts = new ArrayList<>(completed);
    if (parts.size() != partCount) {
      throw new IOException("multipart upload " + objectKey + " lost parts: " + parts.size()
          + " of " + partCount + " confirmed");
    }
    parts.sort(Comparator.comparing(CompletedPart::partNumber));
    S3Completions.complete(s3, settings.bucket(), objectKey, uploadId, parts, submitted);
  }

  private void rethrowPartFailure() throws IOException {
    Throwable t = failure.get();
    if (t == null) {
      return;
    }
    if (t instanceof SdkException e) {
      throw S3BlobStore.io("UploadPart " + objectKey, e);
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IOException("UploadPart " + objectKey + " failed", t);
  }

  /**
   * Lets the parts in flight finish and aborts the upload; the caller then throws {@code cause}.
   * The thread's interrupt flag is cleared around the abort (the SDK refuses to send on an
   * interrupted thread) and restored afterwards.
   */
  private void abandon(String uploadId, byte[] held, boolean drained, Throwable cause,
      boolean wasInterrupted) {
    cancelled = true;
    if (held != null) {
      buffers.give(held);
    }
    if (!drained) {
      slots.acquireUninterruptibly(settings.parallelism());
    }
    boolean interrupted = Thread.interrupted() || wasInterrupted;
    try {
      s3.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId));
    } catch (SdkException e) {
      cause.addSuppressed(e);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static RequestBody body(byte[] buf, int length) {
    // A provider rather than fromBytes: no copy of the part, and a retry re-reads the buffer.
    return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf, 0, length),
        length, OCTETS);
  }

  static String crc32c(byte[] buf, int length) {
    CRC32C crc = new CRC32C();
    crc.update(buf, 0, length);
    long v = crc.getValue();
    byte[] bytes = {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    return Base64.getEncoder().encodeToString(bytes);
  }

  /** Fills whole parts, reading one byte ahead so a full part is known to be the last or not. */
  private static final class PartReader {
    private final InputStream in;
    private int carried = -1;
    private boolean eof;

    PartReader(InputStream in) {
      this.in = in;
    }

    /** Fills {@code buf} from {@code from} on; returns how much of it holds content. */
    int fill(byte[] buf, int from) throws IOException {
      int n = from;
      if (carried >= 0) {
        buf[n++] = (byte) carried;
        carried = -1;
      }
      while (n < buf.length) {
        int r = in.read(buf, n, buf.length - n);
        if (r < 0) {
          eof = true;
          return n;
        }
        n += r;
      }
      int next = in.read();
      if (next < 0) {
        eof = true;
      } else {
        carried = next;
      }
      return n;
    }

    boolean atEnd() {
      return eof;
    }
  }
}
