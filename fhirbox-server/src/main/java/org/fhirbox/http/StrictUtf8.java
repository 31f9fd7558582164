package org.fhirbox.http;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.fhirbox.core.FhirException;

/**
 * Decodes a FHIR body as UTF-8 and refuses bytes that are not UTF-8 (overlong forms, encoded
 * surrogates, truncated sequences: RFC 3629 section 3) instead of turning them into U+FFFD:
 * FHIR R4 http.html#mime-type makes UTF-8 the only encoding, and a silent replacement would
 * store something the client never sent.
 */
final class StrictUtf8 {
  private StrictUtf8() {}

  /** {@code bytes} as text, or empty when they are not UTF-8. */
  static Optional<String> tryDecode(byte[] bytes) {
    try {
      return Optional.of(decoder().decode(ByteBuffer.wrap(bytes)).toString());
    } catch (CharacterCodingException e) {
      return Optional.empty();
    }
  }

  private static CharsetDecoder decoder() {
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
  }

  static String decode(byte[] bytes) {
    CharsetDecoder decoder = decoder();
    ByteBuffer in = ByteBuffer.wrap(bytes);
    try {
      return decoder.decode(in).toString();
    } catch (MalformedInputException e) {
      throw FhirException.badRequest("the body is not valid UTF-8: " + e.getInputLength()
          + " malformed byte(s) at byte offset " + in.position());
    } catch (CharacterCodingException e) {
      throw FhirException.badRequest("the body is not valid UTF-8");
    }
  }
}
