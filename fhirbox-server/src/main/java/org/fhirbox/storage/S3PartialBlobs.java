package org.fhirbox.storage;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.NoSuchUploadException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/**
 * {@link ResumableBlobs} for {@link S3BlobStore}: the pieces of a blob become the parts of one
 * multipart upload to the blob's own object key.
 *
 * <p>S3 wants every part but the last to be at least 5 MiB, and tus pieces come in any size. So
 * each append fills part-sized buffers ({@code FHIRBOX_S3_PART_SIZE}, at least 5 MiB) from the
 * bytes it receives and uploads each full one as the next part; what is left at the end of an
 * append, less than a part, is stored as a small object of its own, the <em>tail</em>
 * ({@code <prefix>tus/<key>/<random>}), and read back into the buffer by the next append, on
 * whichever node it runs. No node keeps anything between appends, and no local file is needed.
 *
 * <p>Memory: an append reads its first {@link S3Upload#HEAD} bytes into a small buffer of its
 * own, as a raw upload does, and takes a part buffer from the {@link S3PartBuffers} only once it
 * has those, or its piece ended with a tail in front of it to gather: a piece that ends within
 * them with no tail in front of it is written from the small buffer, and no slow client holds a
 * part buffer for its first bytes. From then on it holds one part buffer, whatever the blob's size.
 *
 * <p>A blob whose whole content fits in one part never starts a multipart upload: its final
 * append writes it with one PutObject, under a key of its own that the returned state names (the
 * blob's key then changes): S3 has no lock, and a request that stalled past its lease between
 * confirming it and writing could otherwise replace, under the key that another request's
 * committed Binary names, its bytes with its own. The multipart upload starts with the first full
 * part.
 *
 * <p>The state lists each part with its ETag and CRC32C, and the completion names exactly those;
 * a part that an unpersisted append wrote under the same number is not listed, and S3 refuses a
 * completion whose listed ETag is not the part's, rather than assembling other bytes. Every write
 * carries {@code x-amz-checksum-crc32c}, as {@link S3Upload}'s do.
 */
final class S3PartialBlobs implements ResumableBlobs {
  private static final String OCTETS = "application/octet-stream";
  /** Where tails are, after the key prefix: {@code tus/<key>/<random>}. */
  private static final String TAILS = "tus/";
  private final S3Client s3;
  private final S3Settings settings;
  private final S3PartBuffers buffers;

  S3PartialBlobs(S3Client s3, S3Settings settings, S3PartBuffers buffers) {
    this.s3 = s3;
    this.settings = settings;
    this.buffers = buffers;
  }

  /** One uploaded part, as the completion must name it. */
  record Part(int number, long size, String etag, String crc32c) {}

  /**
   * What a partial blob holds in S3: the multipart upload (or null before the first full part),
   * its parts, the tail object (or null) and its length, and whether the whole content was
   * written at once ({@code put}).
   */
  record State(String uploadId, List<Part> parts, String tail, long tailLength, boolean put) {
    static final State EMPTY = new State(null, List.of(), null, 0, false);

    State {
      parts = List.copyOf(parts);
    }

    /**
     * Line-based text: {@code upload=}, {@code tail=<key> <length>}, {@code put}, {@code part=<n> <size> <etag> <crc>}.
     * A tail's key is the whole object key, prefix and all, and a prefix may hold spaces
     * ({@code FHIRBOX_S3_PREFIX=fhir files/}): its length is the line's last field.
     */
    String encode() {
      StringBuilder b = new StringBuilder();
      if (uploadId != null) {
        b.append("upload=").append(uploadId).append('\n');
      }
      if (tail != null) {
        b.append("tail=").append(tail).append(' ').append(tailLength).append('\n');
      }
      if (put) {
        b.append("put\n");
      }
      for (Part p : parts) {
        b.append("part=").append(p.number()).append(' ').append(p.size()).append(' ').append(p.etag()).append(' ')
            .append(p.crc32c()).append('\n');
      }
      return b.toString();
    }

    static State parse(String text) {
      String uploadId = null;
      String tail = null;
      long tailLength = 0;
      boolean put = false;
      List<Part> parts = new ArrayList<>();
      for (String line : text.split("\n")) {
        if (line.startsWith("upload=")) {
          uploadId = line.substring(7);
        } else if (line.startsWith("tail=")) {
          int space = line.lastIndexOf(' ');
          tail = line.substring(5, space);
          tailLength = Long.parseLong(line.substring(space + 1));
        } else if (line.equals("put")) {
          put = true;
        } else if (line.startsWith("part=")) {
          String[] f = line.substring(5).split(" ");
          parts.add(new Part(Integer.parseInt(f[0]), Long.parseLong(f[1]), f[2], f[3]));
        } else if (!line.isEmpty()) {
          throw new IllegalArgumentException("not an S3 partial blob state: " + line);
        }
      }
      return new State(uploadId, parts, tail, tailLength, put);
    }
  }

  @Override
  public PartialBlob begin() {
    return new PartialBlob(BlobKey.random(), 0, State.EMPTY.encode());
  }

  @Override
  public PartialBlob append(PartialBlob blob, InputStream in, long maxLength, long finalLength,
      List<MessageDigest> digests, TrailingDigests trailing, WriteFence fence) throws IOException {
    State st = State.parse(blob.state());
    if (st.put()) {
      if (ResumableBlobs.nothingMore(blob, in, maxLength, finalLength)) {
        return blob; // its object may be complete already
      }
      throw new IOException("partial blob " + blob.key() + " is already written whole");
    }
    try {
      return append(blob, st, in, maxLength, finalLength, TrailingDigests.withFedHere(digests, trailing), fence,
          BlobKey.random());
    } catch (IOException | RuntimeException e) {
      if (trailing != null) {
        trailing.spoil(e);
      }
      throw e;
    }
  }

  /**
   * Appends on this thread, feeding {@code digests} as the bytes arrive. S3 has no lock that one
   * append could hold for its whole length, so {@code fence} is confirmed before each write and
   * held while it runs ({@link WriteFence#holding}): a part that a request which stalled past its
   * lease uploaded under a number that a later append persisted would replace that part's bytes,
   * and the completion, which names the persisted part's ETag, would then be refused for good.
   *
   * @param wholeKey the key a blob written whole (with one PutObject) goes to
   */
  private PartialBlob append(PartialBlob blob, State st, InputStream in, long maxLength, long finalLength,
      List<MessageDigest> digests, WriteFence fence, BlobKey wholeKey) throws IOException {
    fence.confirm();
    Received head = new Received(in, maxLength, maxLength - blob.length(), digests);
    head.fill(new byte[(int) Math.min(S3Upload.HEAD, settings.partSizeBytes())], 0);
    long length = blob.length() + head.appended;
    boolean last = finalLength >= 0 && length == finalLength;
    if (head.appended == 0 && !last) {
      // An empty piece that does not end the upload changes nothing, so the tail is not read for
      // it: a tail longer than today's part size would start a multipart upload this state never names.
      return blob;
    }
    String objectKey = settings.objectKey(blob.key());
    if (st.tail() == null && head.ended) {
      // a small piece with nothing to gather in front of it needs no part buffer
      return finish(blob, length, last, new Gathering(objectKey, st, head.buf, head.filled), fence, wholeKey);
    }
    // the part buffer is taken only now: a slow client holds none for its first bytes
    byte[] buf = buffers.take();
    Gathering g = new Gathering(objectKey, st, buf, 0);
    try {
      if (st.tail() != null) {
        fence.confirm(); // the first bytes may have been slow: the tail is still this request's to read
        readTail(st, g, fence);
      }
      g.add(head.buf, head.filled, fence);
      if (!head.ended) {
        while (head.fill(buf, g.filled) == buf.length) {
          g.filled = buf.length;
          g.sendFullPart(fence);
        }
        g.filled = head.filled;
        length = blob.length() + head.appended;
        last = finalLength >= 0 && length == finalLength;
      }
      return finish(blob, length, last, g, fence, wholeKey);
    } catch (IOException | RuntimeException e) {
      g.abortIfStarted(e);
      throw e;
    } finally {
      buffers.give(buf);
    }
  }

  /** Reads a piece, feeding its digests and holding it to the room left under the size limit. */
  private static final class Received {
    private final InputStream in;
    private final long maxLength;
    private final long room;
    private final List<MessageDigest> digests;
    byte[] buf;
    int filled;
    long appended;
    boolean ended;

    Received(InputStream in, long maxLength, long room, List<MessageDigest> digests) {
      this.in = in;
      this.maxLength = maxLength;
      this.room = room;
      this.digests = digests;
    }

    /** Fills {@code buf} from {@code from} on until it is full or the piece ends; returns {@link #filled}. */
    int fill(byte[] into, int from) throws IOException {
      buf = into;
      filled = from;
      while (filled < buf.length) {
        int r = in.read(buf, filled, buf.length - filled);
        if (r < 0) {
          ended = true;
          break;
        }
        appended += r;
        if (appended > room) {
          throw new BlobTooLargeException(maxLength);
        }
        for (MessageDigest md : digests) {
          md.update(buf, filled, r);
        }
        filled += r;
      }
      return filled;
    }
  }

  /**
   * Writes what {@code g} holds at the end of an append of a blob now {@code length} long: the
   * whole object (under {@code wholeKey}, which the blob returned then has), the last part, or the
   * next tail.
   */
  private PartialBlob finish(PartialBlob blob, long length, boolean last, Gathering g, WriteFence fence,
      BlobKey wholeKey) throws IOException {
    fence.confirm();
    State next;
    BlobKey key = blob.key();
    byte[] buf = g.buf;
    int filled = g.filled;
    String objectKey = g.objectKey;
    if (last && g.uploadId == null) {
      fence.holding(() -> {
        putObject(settings.objectKey(wholeKey), buf, filled);
        return null;
      });
      key = wholeKey;
      next = new State(null, List.of(), null, 0, true);
    } else if (last) {
      if (filled > 0) {
        String id = g.uploadId;
        List<Part> parts = g.parts;
        parts.add(fence.holding(() -> uploadPart(objectKey, id, nextPart(parts), buf, filled)));
      }
      next = new State(g.uploadId, g.parts, null, 0, false);
    } else if (filled > 0) {
      String tail = settings.keyPrefix() + TAILS + blob.key() + "/"
          + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
      fence.holding(() -> {
        putObject(tail, buf, filled);
        return null;
      });
      next = new State(g.uploadId, g.parts, tail, filled, false);
    } else {
      next = new State(g.uploadId, g.parts, null, 0, false);
    }
    return new PartialBlob(key, length, next.encode());
  }

  /**
   * An append's bytes on their way into parts: {@code buf} holds {@code filled} bytes of the next
   * part, and each full one goes up, starting the multipart upload if there is none yet.
   */
  private final class Gathering {
    final String objectKey;
    final List<Part> parts;
    final byte[] buf;
    int filled;
    String uploadId;
    /** Whether this append started the multipart upload, which it aborts when it fails. */
    boolean started;

    Gathering(String objectKey, State st, byte[] buf, int filled) {
      this.objectKey = objectKey;
      this.parts = new ArrayList<>(st.parts());
      this.uploadId = st.uploadId();
      this.buf = buf;
      this.filled = filled;
    }

    /** Adds {@code length} bytes of {@code from}, sending each part they fill. */
    void add(byte[] from, int length, WriteFence fence) throws IOException {
      int at = 0;
      while (at < length) {
        int n = Math.min(length - at, buf.length - filled);
        System.arraycopy(from, at, buf, filled, n);
        filled += n;
        at += n;
        if (filled == buf.length) {
          sendFullPart(fence);
        }
      }
    }

    /** Uploads the full buffer as the next part and empties it. */
    void sendFullPart(WriteFence fence) throws IOException {
      String id = S3PartialBlobs.this.sendFullPart(objectKey, uploadId, parts, buf, fence);
      started |= uploadId == null;
      uploadId = id;
      filled = 0;
    }

    void abortIfStarted(Exception cause) {
      if (started) {
        abortQuietly(objectKey, uploadId, cause);
      }
    }
  }

  /**
   * Uploads the full {@code buf} as the next part, first starting the multipart upload when
   * {@code uploadId} is null (and aborting it again if that part fails); returns the upload's id.
   */
  private String sendFullPart(String objectKey, String uploadId, List<Part> parts, byte[] buf, WriteFence fence)
      throws IOException {
    fence.confirm();
    String id = uploadId != null ? uploadId : fence.holding(() -> createMultipartUpload(objectKey));
    try {
      parts.add(fence.holding(() -> uploadPart(objectKey, id, nextPart(parts), buf, buf.length)));
    } catch (IOException | RuntimeException e) {
      if (uploadId == null) {
        abortQuietly(objectKey, id, e);
      }
      throw e;
    }
    return id;
  }

  /** The key of the partial blob whose tail object this is ({@code name}: its key after the prefix), if it is one. */
  static Optional<BlobKey> tailOf(String name) {
    if (!name.startsWith(TAILS)) {
      return Optional.empty();
    }
    int slash = name.indexOf('/', TAILS.length());
    return slash < 0 ? Optional.empty() : BlobKey.tryParse(name.substring(TAILS.length(), slash));
  }

  private static int nextPart(List<Part> parts) {
    return parts.isEmpty() ? 1 : parts.get(parts.size() - 1).number() + 1;
  }

  /**
   * Reads the tail object into {@code g}'s buffer. A tail is shorter than the part size it was
   * written under; when {@code FHIRBOX_S3_PART_SIZE} was lowered since, it may be longer than the
   * buffer, and each full buffer of it becomes the next part, starting the multipart upload if
   * there is none. Parts of mixed sizes are fine for S3 as long as all but the last are at least
   * 5 MiB, which every buffer is.
   */
  private void readTail(State st, Gathering g, WriteFence fence) throws IOException {
    long left = st.tailLength();
    byte[] buf = g.buf;
    try (InputStream in = s3.getObject(b -> b.bucket(settings.bucket()).key(st.tail()))) {
      while (left > 0) {
        int r = in.readNBytes(buf, g.filled, (int) Math.min(buf.length - g.filled, left));
        if (r == 0) {
          throw new IOException("tail " + st.tail() + " has " + (st.tailLength() - left) + " bytes, not "
              + st.tailLength());
        }
        g.filled += r;
        left -= r;
        if (g.filled == buf.length) {
          g.sendFullPart(fence);
        }
      }
    } catch (SdkException e) {
      throw S3BlobStore.io("GetObject " + st.tail(), e);
    }
  }

  @Override
  public void complete(PartialBlob blob) throws IOException {
    State st = State.parse(blob.state());
    String objectKey = settings.objectKey(blob.key());
    if (st.put()) {
      return;
    }
    if (st.uploadId() == null) {
      // no final append happened (a length declared only now): one that adds nothing writes the
      // tail, if any, as the whole object (under the blob's own key: the caller commits that one),
      // or as parts when it is longer than today's part size
      st = State.parse(append(blob, st, InputStream.nullInputStream(), Long.MAX_VALUE, blob.length(), List.of(),
          WriteFence.NONE, blob.key()).state());
      if (st.put()) {
        return;
      }
    }
    State done = st;
    List<CompletedPart> parts = done.parts().stream().map(p -> CompletedPart.builder().partNumber(p.number())
        .eTag(p.etag()).checksumCRC32C(p.crc32c()).build()).toList();
    // completed before, and the caller's commit did not follow (a crash), it now repeats: the
    // upload is gone and its object there, as after a completion whose answer was lost
    S3Completions.complete(s3, settings.bucket(), objectKey, done.uploadId(), parts, blob.length());
  }

  /** Also deletes the object itself: the caller discards only blobs no Binary names. */
  @Override
  public void discard(PartialBlob blob) throws IOException {
    State st = State.parse(blob.state());
    String objectKey = settings.objectKey(blob.key());
    if (st.uploadId() != null) {
      abort(objectKey, st.uploadId());
    }
    if (st.tail() != null) {
      deleteObject(st.tail());
    }
    deleteObject(objectKey);
  }

  @Override
  public void release(PartialBlob obsolete, PartialBlob current) throws IOException {
    State old = State.parse(obsolete.state());
    State now = State.parse(current.state());
    String objectKey = settings.objectKey(obsolete.key());
    if (old.tail() != null && !old.tail().equals(now.tail())) {
      deleteObject(old.tail());
    }
    if (old.uploadId() != null && !old.uploadId().equals(now.uploadId())) {
      abort(objectKey, old.uploadId());
    }
    // An obsolete whole-object write went to a key of its own, which no other append writes and no
    // Binary names unless this state was persisted (then current names it too)
    if (old.put() && !obsolete.key().equals(current.key())) {
      deleteObject(objectKey);
    }
  }

  private String createMultipartUpload(String objectKey) throws IOException {
    CreateMultipartUploadRequest.Builder request = CreateMultipartUploadRequest.builder()
        .bucket(settings.bucket()).key(objectKey).contentType(OCTETS).checksumAlgorithm(ChecksumAlgorithm.CRC32_C);
    switch (settings.sse()) {
      case S3 -> request.serverSideEncryption(ServerSideEncryption.AES256);
      case KMS -> request.serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(settings.kmsKeyId());
      case NONE -> { }
    }
    try {
      return s3.createMultipartUpload(request.build()).uploadId();
    } catch (SdkException e) {
      throw S3BlobStore.io("CreateMultipartUpload " + objectKey, e);
    }
  }

  private Part uploadPart(String objectKey, String uploadId, int number, byte[] buf, int length) throws IOException {
    String crc = S3Upload.crc32c(buf, length);
    try {
      String etag = s3.uploadPart(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId)
          .partNumber(number).contentLength((long) length).checksumCRC32C(crc), body(buf, length)).eTag();
      return new Part(number, length, etag, crc);
    } catch (SdkException e) {
      throw S3BlobStore.io("UploadPart " + objectKey, e);
    }
  }

  private void putObject(String objectKey, byte[] buf, int length) throws IOException {
    PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(settings.bucket()).key(objectKey)
        .contentType(OCTETS).contentLength((long) length).checksumCRC32C(S3Upload.crc32c(buf, length));
    switch (settings.sse()) {
      case S3 -> request.serverSideEncryption(ServerSideEncryption.AES256);
      case KMS -> request.serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(settings.kmsKeyId());
      case NONE -> { }
    }
    try {
      s3.putObject(request.build(), body(buf, length));
    } catch (SdkException e) {
      throw S3BlobStore.io("PutObject " + objectKey, e);
    }
  }

  private void deleteObject(String objectKey) throws IOException {
    try {
      s3.deleteObject(b -> b.bucket(settings.bucket()).key(objectKey));
    } catch (SdkException e) {
      throw S3BlobStore.io("DeleteObject " + objectKey, e);
    }
  }

  private void abort(String objectKey, String uploadId) throws IOException {
    try {
      s3.abortMultipartUpload(b -> b.bucket(settings.bucket()).key(objectKey).uploadId(uploadId));
    } catch (NoSuchUploadException e) {
      // aborted or completed before
    } catch (S3Exception e) {
      if (e.statusCode() != 404) {
        throw S3BlobStore.io("AbortMultipartUpload " + objectKey, e);
      }
    } catch (SdkException e) {
      throw S3BlobStore.io("AbortMultipartUpload " + objectKey, e);
    }
  }

  private void abortQuietly(String objectKey, String uploadId, Exception cause) {
    try {
      abort(objectKey, uploadId);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  private static RequestBody body(byte[] buf, int length) {
    // A provider rather than fromBytes: no copy of the part, and a retry re-reads the buffer.
    return RequestBody.fromContentProvider(() -> new ByteArrayInputStream(buf, 0, length), length, OCTETS);
  }
}
