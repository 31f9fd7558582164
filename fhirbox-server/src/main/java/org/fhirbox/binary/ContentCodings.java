package org.fhirbox.binary;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;
import java.util.zip.ZipException;
import org.fhirbox.core.FhirException;
import org.fhirbox.core.IssueKind;

/**
 * The content codings a request body may be sent with (RFC 9110 §8.4): {@code gzip} (or
 * {@code x-gzip}) and {@code deflate}, decoded under an {@link ExpansionGuard}; {@code identity}
 * or none is the body as it is. Another coding is 415 with {@code Accept-Encoding} naming those
 * accepted (RFC 9110 §15.5.16, §12.5.3). Binary uploads and FHIR resource bodies decode alike.
 */
public final class ContentCodings {
  /** The codings accepted, as {@code Accept-Encoding} lists them. */
  public static final String ACCEPTED = "gzip, deflate";

  private ContentCodings() {}

  /** Whether {@code encoding} (a {@code Content-Encoding} value, or null) leaves the body as it is. */
  public static boolean isIdentity(String encoding) {
    return encoding == null || encoding.isBlank() || encoding.trim().equalsIgnoreCase("identity");
  }

  /** 415 unless {@code encoding} is one this server decodes; checked before a byte of the body is read. */
  public static void requireSupported(String encoding) {
    if (!isIdentity(encoding) && !switch (encoding.trim().toLowerCase(Locale.ROOT)) {
      case "gzip", "x-gzip", "deflate" -> true;
      default -> false;
    }) {
      throw FhirException.unsupportedMediaType("Content-Encoding '" + encoding
          + "' is not supported (use gzip or deflate)").withHeader("Accept-Encoding", ACCEPTED);
    }
  }

  /** {@code in} decoded as {@code encoding} says; 415 for a coding not supported. */
  static InputStream decode(InputStream in, String encoding) throws IOException {
    requireSupported(encoding);
    if (isIdentity(encoding)) {
      return in;
    }
    ExpansionGuard guard = new ExpansionGuard();
    return encoding.trim().equalsIgnoreCase("deflate") ? guard.decoded(new InflaterInputStream(guard.encoded(in)))
        : guard.decoded(new GZIPInputStream(guard.encoded(in), 64 * 1024));
  }

  /**
   * The whole of {@code in}, decoded as {@code encoding} says, up to {@code limit} decoded bytes:
   * 413 beyond, or for a body that expands absurdly ({@link ExpansionGuard}); 400 for data that is
   * not of its coding; 415 for a coding not supported. A failure reading {@code in} itself (the
   * client's) is thrown as the IOException it was.
   */
  public static byte[] readDecoded(InputStream in, String encoding, long limit) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try (InputStream decoded = decode(ClientBody.marked(in), encoding)) {
      byte[] chunk = new byte[8192];
      int n;
      while ((n = decoded.read(chunk)) >= 0) {
        if (out.size() + (long) n > limit) {
          throw FhirException.tooLarge("the decoded body exceeds the limit of " + limit + " bytes");
        }
        out.write(chunk, 0, n);
      }
    } catch (ClientBody.ReadFailure e) {
      throw (IOException) e.getCause();
    } catch (ExpansionGuard.TooExpanded e) {
      throw FhirException.tooLarge("refused: " + e.getMessage());
    } catch (ZipException | EOFException e) {
      // an EOF of the decoder, not the client's (those are ClientBody.ReadFailure): the stream lacks its end
      throw invalid(encoding, e);
    }
    return out.toByteArray();
  }

  /** 400: the body is not valid data of {@code encoding}. */
  static FhirException invalid(String encoding, IOException e) {
    return new FhirException(IssueKind.INVALID, "the body is not valid " + encoding.trim() + " data: "
        + (e instanceof ZipException ? e.getMessage() : "the compressed stream is cut off before its end"), e);
  }
}
