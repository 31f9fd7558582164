package org.fhirbox.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every Java snippet in the README's SDK section is code that compiles: it is in ReadmeExamples. */
class ReadmeSnippetsTest {

  static String squash(String code) {
    return code.replaceAll("\\s+", "");
  }

  @Test
  void everyReadmeJavaSnippetIsCompiledInReadmeExamples() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    int start = readme.indexOf("## Java SDK");
    int end = readme.indexOf("\n## ", start + 1);
    assertThat(start).as("README has a Java SDK section").isPositive();
    String section = readme.substring(start, end);
    List<String> snippets = new ArrayList<>();
    Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(section);
    while (m.find()) {
      snippets.add(m.group(1));
    }
    assertThat(snippets).hasSizeGreaterThanOrEqualTo(3);
    String examples = squash(Files.readString(
        Path.of("src/test/java/org/fhirbox/client/ReadmeExamples.java"), StandardCharsets.UTF_8));
    for (String snippet : snippets) {
      assertThat(examples).as("README snippet is compiled in ReadmeExamples:%n%s", snippet)
          .contains(squash(snippet));
    }
  }
}
