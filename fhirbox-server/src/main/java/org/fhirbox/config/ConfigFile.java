package org.fhirbox.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The settings file ({@code fhirbox serve --config FILE}): a Java properties file in UTF-8. One
 * that cannot be read stops the start with an {@link IllegalArgumentException} that names the file
 * and why: permission denied, a directory, more than {@value #MAX_BYTES} bytes, the line that is
 * not UTF-8, or the line of a malformed {@code \\uXXXX} escape.
 */
final class ConfigFile {
  static final int MAX_BYTES = 1 << 20;
  /** A {@code \\u} that is itself not escaped and is not followed by four hex digits. */
  private static final Pattern BAD_ESCAPE = Pattern.compile("(?<!\\\\)(?:\\\\\\\\)*\\\\u(?![0-9a-fA-F]{4})");

  private ConfigFile() {}

  static Properties read(Path file) {
    String text = utf8(file, bytes(file));
    Properties p = new Properties();
    try {
      p.load(new StringReader(text));
    } catch (IllegalArgumentException e) {
      int line = badEscapeLine(text);
      throw unreadable(file, (line > 0 ? "line " + line + ": " : "") + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringReader does not fail
    }
    return p;
  }

  private static byte[] bytes(Path file) {
    if (Files.isDirectory(file)) {
      throw unreadable(file, "it is a directory");
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] b = in.readNBytes(MAX_BYTES + 1);
      if (b.length > MAX_BYTES) {
        throw unreadable(file, "it is larger than " + MAX_BYTES + " bytes");
      }
      return b;
    } catch (IOException e) {
      throw unreadable(file, reason(e));
    }
  }

  /** Why the file system refused, in words: its own exceptions' messages name only the path. */
  static String reason(IOException e) {
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  private static String utf8(Path file, byte[] bytes) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult r = decoder.decode(in, out, true);
    if (r.isError()) {
      int line = 1;
      for (int i = 0; i < in.position(); i++) {
        if (bytes[i] == '\n') {
          line++;
        }
      }
      throw unreadable(file, "line " + line + " is not UTF-8 text");
    }
    decoder.flush(out);
    return out.flip().toString();
  }

  /** The line of the first malformed {@code \\u} escape outside a comment, or 0. */
  private static int badEscapeLine(String text) {
    String[] lines = text.split("\r\n|\r|\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String l = lines[i].stripLeading();
      if (!l.startsWith("#") && !l.startsWith("!") && BAD_ESCAPE.matcher(l).find()) {
        return i + 1;
      }
    }
    return 0;
  }

  private static IllegalArgumentException unreadable(Path file, String why) {
    return new IllegalArgumentException("the config file " + file + " cannot be read: " + why);
  }
}
