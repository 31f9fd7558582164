package org.fhirbox.logging;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.Context;

/**
 * A pattern layout whose lines have a bounded length: a message or a line of a stack trace keeps
 * its first {@value #MAX_LINE} characters, a whole stack trace its first {@value #MAX_TRACE}. A
 * database error quoting an 18 MB statement otherwise becomes an 18 MB log line.
 */
public final class BoundedLayout {
  static final int MAX_LINE = 2_000;
  static final int MAX_TRACE = 32_000;

  private BoundedLayout() {
  }

  /** A started layout for {@code pattern}, with {@code %msg} and {@code %ex} bounded. */
  public static PatternLayout create(Context context, String pattern) {
    PatternLayout layout = new PatternLayout();
    layout.setContext(context);
    for (String word : new String[] {"m", "msg", "message"}) {
      layout.getInstanceConverterMap().put(word, BoundedMessage::new);
    }
    for (String word : new String[] {"ex", "exception", "throwable"}) {
      layout.getInstanceConverterMap().put(word, BoundedThrowable::new);
    }
    layout.setPattern(pattern);
    layout.start();
    return layout;
  }

  static String bound(String text, int max) {
    return text.length() <= max ? text
        : text.substring(0, max) + "... (" + (text.length() - max) + " more characters)";
  }

  /** {@code %msg}, bounded. */
  static final class BoundedMessage extends MessageConverter {
    @Override
    public String convert(ILoggingEvent event) {
      return bound(super.convert(event), MAX_LINE);
    }
  }

  /** {@code %ex}, each line and the whole trace bounded. */
  static final class BoundedThrowable extends ThrowableProxyConverter {
    @Override
    protected String throwableProxyToString(IThrowableProxy tp) {
      String full = super.throwableProxyToString(tp);
      StringBuilder out = new StringBuilder(Math.min(full.length(), MAX_TRACE + 100));
      for (String line : full.split("\n", -1)) {
        if (out.length() > MAX_TRACE) {
          out.append("... (stack trace cut)\n");
          break;
        }
        out.append(bound(line, MAX_LINE)).append('\n');
      }
      out.setLength(out.length() - 1);
      return out.toString();
    }
  }
}
