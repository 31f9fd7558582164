package org.fhirbox.http;

import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;

/**
 * A request body opened only when something reads it, and which says whether anything did. Jetty
 * answers {@code Expect: 100-continue} with {@code 100 Continue} as soon as the servlet's input
 * stream is first asked for, before a byte is read (Jetty 12.1: {@code ServletApiRequest
 * .getInputStream} writes the interim response), so a route that opened the stream up front
 * invited the body of a request it then refused on its headers. Opened lazily, a request refused
 * before its first read never invites it: the client that waits for {@code 100 Continue} gets the
 * refusal instead and sends nothing (RFC 9110 §10.1.1); one that sends anyway is drained after the
 * answer ({@link Exchange#refuse}). Each request has one, held by its {@link Exchange}, and every
 * read of the body goes through it, so that an error answer knows whether the client was invited.
 */
final class RequestBody extends InputStream {
  private final HttpServletRequest request;
  private InputStream in;
  /** Bytes read ahead by {@link #peek}, served again before the rest of the body. */
  private byte[] replay = new byte[0];
  private int replayed;

  RequestBody(HttpServletRequest request) {
    this.request = request;
  }

  /** True once anything asked for a byte (or to skip one): the client was then told to send. */
  boolean touched() {
    return in != null;
  }

  /** The servlet's input stream, opened now if it was not yet: the client is then told to send. */
  InputStream open() throws IOException {
    return in();
  }

  /**
   * Reads the first {@code max} bytes of the body (fewer only when it ends before) and keeps them:
   * the reads that follow see the whole body from its first byte. Once, before any other read.
   */
  byte[] peek(int max) throws IOException {
    if (touched()) {
      throw new IllegalStateException("the body was read already");
    }
    replay = in().readNBytes(max);
    replayed = 0;
    return replay.clone();
  }

  private InputStream in() throws IOException {
    if (in == null) {
      in = request.getInputStream();
    }
    return in;
  }

  @Override
  public int read() throws IOException {
    return replayed < replay.length ? replay[replayed++] & 0xff : in().read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (replayed < replay.length && len > 0) {
      int n = Math.min(len, replay.length - replayed);
      System.arraycopy(replay, replayed, b, off, n);
      replayed += n;
      return n;
    }
    return in().read(b, off, len);
  }

  @Override
  public long skip(long n) throws IOException {
    if (replayed < replay.length && n > 0) {
      int k = (int) Math.min(n, replay.length - replayed);
      replayed += k;
      return k;
    }
    return in().skip(n);
  }

  @Override
  public int available() throws IOException {
    return (replay.length - replayed) + (in == null ? 0 : in.available());
  }

  @Override
  public void close() throws IOException {
    if (in != null) {
      in.close();
    }
  }
}
