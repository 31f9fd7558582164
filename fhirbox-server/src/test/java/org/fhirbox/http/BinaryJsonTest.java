package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The Binary JSON that answers a write: the stored JSON with the signed {@code url} added. */
class BinaryJsonTest {
  private static String withUrl(String json, String url, boolean pretty) throws Exception {
    return new String(ResourceOutput.withUrl(json, url, pretty), StandardCharsets.UTF_8);
  }

  @Test
  void urlFollowsContentTypeAndTheRestIsCopiedExactly() throws Exception {
    String json = "{\"resourceType\":\"Binary\",\"id\":\"b1\",\"meta\":{\"versionId\":\"2\",\"tag\":[{\"code\":\"a\"}],"
        + "\"extension\":[{\"url\":\"http://x\",\"valueDecimal\":1.10}]},\"contentType\":\"image/png\","
        + "\"securityContext\":{\"reference\":\"Patient/p1\"}}";
    assertThat(withUrl(json, "http://h/storage/b1?sig=\"q\"", false)).isEqualTo(
        "{\"resourceType\":\"Binary\",\"id\":\"b1\",\"meta\":{\"versionId\":\"2\",\"tag\":[{\"code\":\"a\"}],"
            + "\"extension\":[{\"url\":\"http://x\",\"valueDecimal\":1.10}]},\"contentType\":\"image/png\","
            + "\"url\":\"http://h/storage/b1?sig=\\\"q\\\"\",\"securityContext\":{\"reference\":\"Patient/p1\"}}");
  }

  @Test
  void withoutContentTypeTheUrlComesLast() throws Exception {
    assertThat(withUrl("{\"resourceType\":\"Binary\",\"id\":\"b1\"}", "u", false))
        .isEqualTo("{\"resourceType\":\"Binary\",\"id\":\"b1\",\"url\":\"u\"}");
  }

  @Test
  void prettyOutputIsIndented() throws Exception {
    assertThat(withUrl("{\"resourceType\":\"Binary\",\"contentType\":\"text/plain\"}", "u", true))
        .isEqualTo("{\n  \"resourceType\" : \"Binary\",\n  \"contentType\" : \"text/plain\",\n  \"url\" : \"u\"\n}");
  }
}
