package org.fhirbox.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * fhirbox's logging set-up, found by logback through {@code ServiceLoader}: one line per event
 * on stderr at {@code FHIRBOX_LOG_LEVEL} (default INFO), libraries at WARN, each line bounded
 * ({@link BoundedLayout}). Built in code because
 * parsing an XML configuration cost about 150 ms of a server start that should take under two
 * seconds. A logback configuration of one's own still wins: with
 * {@code -Dlogback.configurationFile=FILE} (in {@code JAVA_OPTS}), or a {@code logback-test.xml}
 * on the class path, this steps aside.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class ConsoleLogging extends ContextAwareBase implements Configurator {
  private static final String[] QUIET = {"org.eclipse.jetty", "ca.uhn.fhir", "org.flywaydb", "com.zaxxer.hikari",
      "software.amazon.awssdk"};

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty("logback.configurationFile") != null
        || ConsoleLogging.class.getClassLoader().getResource("logback-test.xml") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(BoundedLayout.create(context, "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n%ex"));
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(System.getProperty("FHIRBOX_LOG_LEVEL", System.getenv("FHIRBOX_LOG_LEVEL")), Level.INFO));
    root.addAppender(stderr);
    for (String name : QUIET) {
      context.getLogger(name).setLevel(Level.WARN);
    }
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
