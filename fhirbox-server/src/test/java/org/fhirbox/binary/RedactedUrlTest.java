package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A URL in an error text or log line keeps scheme, host, port and path, and nothing else: not even
 * a segment's parameters ({@code ;jsessionid=...}), where servers put session ids.
 */
class RedactedUrlTest {
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "http://svc:hunter2@127.0.0.1:8080/x?sig=secret#frag | http://127.0.0.1:8080/x",
      "https://cdn.example.org/a%20b/c.png?X-Amz-Signature=secret | https://cdn.example.org/a%20b/c.png",
      "https://user@cdn.example.org | https://cdn.example.org",
      "http://svc:hunter2@[::1]:9000/p;v=1?q | http://[::1]:9000/p;...",
      "https://host.example/files;jsessionid=SECRET/x.pdf;token=t | https://host.example/files;.../x.pdf;...",
      "https://host.example/a%3Bb/;/c | https://host.example/a%3Bb/;.../c",
      "https://svc:hunter2@under_score.example/p?q | https://under_score.example/p",
      "https://a@b:hunter2@under_score.example:444/p | https://under_score.example:444/p",
      "https://host.example/a@b/c?d@e | https://host.example/a@b/c",
      "data:text/plain,secret | a data: URL",
      "mailto:svc@example.org?subject=secret | a mailto: URL",
      "/relative?secret | a relative URL",
      "http://host.example/ x?secret | a URL that is not valid"})
  void keepsSchemeHostPortAndPathOnly(String url, String named) {
    assertThat(RedactedUrl.of(url)).isEqualTo(named);
  }
}
