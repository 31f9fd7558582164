package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ContentDispositionTest {

  @Test
  void withoutFilenameOnlyTheTypeIsSent() {
    assertThat(ContentDisposition.inline(null).headerValue()).isEqualTo("inline");
    assertThat(ContentDisposition.attachment(null).headerValue()).isEqualTo("attachment");
  }

  @Test
  void asciiFilenameAppearsInBothForms() {
    assertThat(ContentDisposition.attachment("scan-01.pdf").headerValue())
        .isEqualTo("attachment; filename=\"scan-01.pdf\"; filename*=UTF-8''scan-01.pdf");
  }

  @Test
  void nonAsciiFilenameIsPercentEncodedAsUtf8() {
    // RFC 8187 §3.2.3 example: the euro sign is E2 82 AC in UTF-8.
    assertThat(ContentDisposition.inline("€ rates.txt").headerValue())
        .isEqualTo("inline; filename=\"_ rates.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt");
    assertThat(ContentDisposition.attachment("Röntgen 日本.png").headerValue())
        .endsWith("filename*=UTF-8''R%C3%B6ntgen%20%E6%97%A5%E6%9C%AC.png");
  }

  @Test
  void quotesBackslashesAndPercentCannotBreakTheQuotedFallback() {
    String value = ContentDisposition.attachment("a\"b%41;c.txt").headerValue();

    assertThat(value).isEqualTo("attachment; filename=\"a_b_41;c.txt\"; filename*=UTF-8''a%22b%2541%3Bc.txt");
  }

  @Test
  void pathsAndControlCharactersAreStripped() {
    assertThat(ContentDisposition.attachment("../../etc/passwd").filename()).isEqualTo("passwd");
    assertThat(ContentDisposition.attachment("C:\\Users\\x\\evil.exe").filename()).isEqualTo("evil.exe");
    assertThat(ContentDisposition.attachment("a\r\nSet-Cookie: x.txt").headerValue())
        .doesNotContain("\r").doesNotContain("\n");
    assertThat(ContentDisposition.attachment("a\u202Etxt.exe").filename()).isEqualTo("atxt.exe");
  }

  @Test
  void blankOrDotNamesAreDropped() {
    assertThat(ContentDisposition.inline("   ").filename()).isNull();
    assertThat(ContentDisposition.inline("dir/").filename()).isNull();
    assertThat(ContentDisposition.inline("..").filename()).isNull();
  }

  @Test
  void asAttachmentKeepsTheFilename() {
    assertThat(ContentDisposition.inline("x.svg").asAttachment())
        .isEqualTo(ContentDisposition.attachment("x.svg"));
  }
}
