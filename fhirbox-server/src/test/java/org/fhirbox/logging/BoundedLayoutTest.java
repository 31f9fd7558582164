package org.fhirbox.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class BoundedLayoutTest {
  private final LoggerContext context = new LoggerContext();
  private final PatternLayout layout = BoundedLayout.create(context, "%level %logger - %msg%n%ex");

  private String line(String message, Throwable t) {
    LoggingEvent event = new LoggingEvent("x", context.getLogger("test"), Level.ERROR, message, t, null);
    return layout.doLayout(event);
  }

  @Test
  void anErrorQuotingAHugeStatementStaysSmall() {
    String sql = "SELECT * FROM resource WHERE " + "name = ? OR ".repeat(1_500_000) + "1=1";
    RuntimeException e = new RuntimeException("count failed", new SQLException("Syntax error in SQL statement " + sql));

    String out = line("unexpected error 42", e);

    assertThat(sql.length()).isGreaterThan(18_000_000);
    assertThat(out.length()).isLessThan(BoundedLayout.MAX_TRACE + 3 * BoundedLayout.MAX_LINE);
    assertThat(out).startsWith("ERROR test - unexpected error 42\n")
        .contains("java.lang.RuntimeException: count failed")
        .contains("Caused by: java.sql.SQLException: Syntax error in SQL statement SELECT * FROM resource WHERE")
        .contains("more characters)")
        .contains("at " + BoundedLayoutTest.class.getName());
  }

  @Test
  void aHugeMessageIsCut() {
    String out = line("x".repeat(100_000), null);
    assertThat(out).hasSizeLessThan(BoundedLayout.MAX_LINE + 100).endsWith("(98000 more characters)\n");
  }

  @Test
  void ordinaryLinesAreUnchanged() {
    assertThat(line("started in 1.2 s", null)).isEqualTo("ERROR test - started in 1.2 s\n");
    String withTrace = line("failed", new IllegalStateException("boom"));
    assertThat(withTrace).startsWith("ERROR test - failed\njava.lang.IllegalStateException: boom\n\tat ")
        .doesNotContain("more characters").endsWith("\n");
  }
}
