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
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * fhirbox's logging set-up, found by logback through {@code ServiceLoader}: one line per event
 * on stderr at {@code FHIRBOX_LOG_LEVEL} (default INFO), libraries at WARN, each line bounded
 * ({@link BoundedLayout}). Built in code because
 * parsing an XML configuration cost about 150 ms of a server start that should take under two
 * seconds. A logback configuration of one's own still wins: with
 * {@code -Dlogback.configurationFile=FILE} (in {@code JAVA_OPTS}), or a {@code logback-test.xml}
 * on the class path, this steps aside.
 *
 * <p>Logback sets itself up before the settings load, when only the environment and system
 * properties are known; {@link #applyLevel} applies {@code FHIRBOX_LOG_LEVEL} again once the
 * {@code --config} file is read too.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class ConsoleLogging extends ContextAwareBase implements Configurator {
  /** The context property that tells this class set the context up. */
  private static final String CONFIGURED = "fhirbox.consoleLogging";
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
    // not the JVM's default charset, which Java 17 takes from the locale: US-ASCII where none is
    // set (a container, cron), and every other character of a message would be '?'
    encoder.setCharset(StandardCharsets.UTF_8);
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
    context.putObject(CONFIGURED, Boolean.TRUE);
    for (String name : QUIET) {
      context.getLogger(name).setLevel(Level.WARN);
    }
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /**
   * Sets the root level to {@code level} ({@code FHIRBOX_LOG_LEVEL} from the loaded settings:
   * environment, then config file), unless it is blank, a {@code -DFHIRBOX_LOG_LEVEL} property
   * set it, or a logback configuration of one's own is in charge.
   *
   * @return a warning when {@code level} is no logback level (the level then stays as it was)
   */
  public static Optional<String> applyLevel(String level) {
    if (level == null || level.isBlank()) {
      return Optional.empty();
    }
    Level parsed = Level.toLevel(level.trim(), null);
    if (parsed == null) {
      return Optional.of("FHIRBOX_LOG_LEVEL '" + level.trim() + "' is no log level; use one of TRACE, DEBUG, INFO,"
          + " WARN, ERROR or OFF (the level stays " + rootLevel().map(Level::toString).orElse("as it was") + ")");
    }
    if (System.getProperty("FHIRBOX_LOG_LEVEL") == null
        && LoggerFactory.getILoggerFactory() instanceof LoggerContext context
        && context.getObject(CONFIGURED) != null) {
      context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(parsed);
    }
    return Optional.empty();
  }

  private static Optional<Level> rootLevel() {
    return LoggerFactory.getILoggerFactory() instanceof LoggerContext context
        ? Optional.ofNullable(context.getLogger(Logger.ROOT_LOGGER_NAME).getLevel()) : Optional.empty();
  }
}
