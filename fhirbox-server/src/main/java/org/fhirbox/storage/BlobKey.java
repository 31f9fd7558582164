package org.fhirbox.storage;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/** A blob's name in the store: 32 lowercase hex characters, made only by {@link #random()}. */
public record BlobKey(String value) {
  private static final Pattern FORMAT = Pattern.compile("[0-9a-f]{32}");
  private static final SecureRandom RANDOM = new SecureRandom();

  public BlobKey {
    if (value == null || !FORMAT.matcher(value).matches()) {
      throw new IllegalArgumentException("not a blob key");
    }
  }

  public static BlobKey random() {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    return new BlobKey(HexFormat.of().formatHex(bytes));
  }

  public static Optional<BlobKey> tryParse(String value) {
    return value != null && FORMAT.matcher(value).matches()
        ? Optional.of(new BlobKey(value)) : Optional.empty();
  }

  @Override
  public String toString() {
    return value;
  }
}
