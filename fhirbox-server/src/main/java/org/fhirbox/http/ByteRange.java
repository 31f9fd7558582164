package org.fhirbox.http;

/** An inclusive byte range {@code first..last} of a representation (RFC 9110 §14.1.2). */
public record ByteRange(long first, long last) {
  public ByteRange {
    if (first < 0 || last < first) {
      throw new IllegalArgumentException("invalid byte range " + first + "-" + last);
    }
  }

  public long length() {
    return last - first + 1;
  }

  /** The {@code Content-Range} value for this range of a representation of {@code total} bytes. */
  public String contentRange(long total) {
    return "bytes " + first + "-" + last + "/" + total;
  }
}
