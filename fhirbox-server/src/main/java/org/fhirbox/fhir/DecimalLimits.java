package org.fhirbox.fhir;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Optional;

/**
 * The range of numbers fhirbox stores and searches by, checked on the text of the number before
 * anything converts it: a {@code BigDecimal} built from {@code 1e999999} is cheap, but its plain
 * form (what HAPI keeps and writes back) has a million digits, and parsing that takes minutes.
 *
 * <p>FHIR R4 datatypes.html#decimal gives {@code decimal} the range of the XML schema types
 * behind it ({@code xs:decimal} union {@code xs:double}) and warns that large or highly precise
 * values are "extremely rare in medicine". The limits are those of {@code xs:double}'s range
 * (10<sup>&plusmn;308</sup>) with far more precision than a double has:
 * <ul>
 *   <li>at most {@value #MAX_DIGITS} significant digits (leading zeros do not count, trailing
 *       zeros do: they carry precision);</li>
 *   <li>a decimal exponent, in scientific notation ({@code d.ddd}&times;10<sup>e</sup>), from
 *       {@value #MIN_EXPONENT} to {@value #MAX_EXPONENT};</li>
 *   <li>at most {@value #MAX_LENGTH} characters of text.</li>
 * </ul>
 * Such a number's plain form has at most about 410 characters, well inside what Jackson reads
 * back (1,000).
 */
public final class DecimalLimits {
  public static final int MAX_DIGITS = 100;
  public static final int MAX_EXPONENT = 308;
  public static final int MIN_EXPONENT = -308;
  public static final int MAX_LENGTH = 400;

  private DecimalLimits() {}

  /**
   * Why {@code text} (JSON number grammar, RFC 8259 section 6, which FHIR's decimal regex
   * follows) is not a number within the limits, or empty when it is. Runs in time linear in
   * the text and converts nothing.
   */
  public static Optional<String> problem(String text) {
    if (text == null || text.isEmpty()) {
      return Optional.of("an empty number");
    }
    if (text.length() > MAX_LENGTH) {
      return Optional.of("a number of " + text.length() + " characters; at most " + MAX_LENGTH + " are allowed");
    }
    int i = 0;
    int n = text.length();
    if (text.charAt(i) == '-') {
      i++;
    }
    int digits = 0;
    int leadingZeros = 0;
    boolean seenNonZero = false;
    int intDigits = 0;
    int start = i;
    while (i < n && isDigit(text.charAt(i))) {
      if (text.charAt(i) != '0') {
        seenNonZero = true;
      }
      if (seenNonZero) {
        digits++;
      } else {
        leadingZeros++;
      }
      intDigits++;
      i++;
    }
    if (intDigits == 0 || (intDigits > 1 && text.charAt(start) == '0')) {
      return Optional.of("'" + abbreviate(text) + "' is not a number");
    }
    // position of the first significant digit relative to the decimal point, as a power of ten
    long exponent = seenNonZero ? intDigits - leadingZeros - 1 : 0;
    // a zero's own power of ten: that of its last digit, -(digits after the point) + its exponent
    long zeroExponent = 0;
    if (i < n && text.charAt(i) == '.') {
      i++;
      int fracStart = i;
      while (i < n && isDigit(text.charAt(i))) {
        char c = text.charAt(i);
        if (seenNonZero) {
          digits++;
        } else if (c != '0') {
          seenNonZero = true;
          digits++;
          exponent = -(i - fracStart + 1);
        }
        i++;
      }
      if (i == fracStart) {
        return Optional.of("'" + abbreviate(text) + "' is not a number");
      }
      zeroExponent = -(i - fracStart);
    }
    if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
      i++;
      boolean negative = false;
      if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
        negative = text.charAt(i) == '-';
        i++;
      }
      int expStart = i;
      long e = 0;
      while (i < n && isDigit(text.charAt(i))) {
        // saturate: anything past ten digits is out of range whatever follows
        e = Math.min(e * 10 + (text.charAt(i) - '0'), 10_000_000_000L);
        i++;
      }
      if (i == expStart) {
        return Optional.of("'" + abbreviate(text) + "' is not a number");
      }
      if (seenNonZero) {
        exponent += negative ? -e : e;
      } else {
        zeroExponent += negative ? -e : e;
      }
    }
    if (i != n) {
      return Optional.of("'" + abbreviate(text) + "' is not a number");
    }
    if (digits > MAX_DIGITS) {
      return Optional.of("'" + abbreviate(text) + "' has " + digits + " significant digits; at most " + MAX_DIGITS
          + " are allowed");
    }
    // a zero written to a power of ten beyond the range (0e-20000, 0.000... with 400 zeros) too: a
    // database number holds no such scale, and no search bound of it could be written
    if (exponent > MAX_EXPONENT || exponent < MIN_EXPONENT
        || !seenNonZero && (zeroExponent > MAX_EXPONENT || zeroExponent < MIN_EXPONENT)) {
      return Optional.of("'" + abbreviate(text) + "' is out of range: numbers run from 1e" + MIN_EXPONENT
          + " to 9.99e" + MAX_EXPONENT);
    }
    return Optional.empty();
  }

  /**
   * Why {@code text}, a whole number already within {@link #problem}'s limits, is no value of the
   * R4 type {@code typeName} (integer, positiveInt or unsignedInt: datatypes.html#integer, a
   * signed 32-bit value, of which positiveInt takes 1 and up, unsignedInt 0 and up), or empty.
   */
  static Optional<String> integerProblem(String typeName, String text) {
    long low = switch (typeName) {
      case "positiveInt" -> 1;
      case "unsignedInt" -> 0;
      default -> Integer.MIN_VALUE;
    };
    BigInteger value;
    try {
      value = new BigDecimal(text).toBigIntegerExact();
    } catch (ArithmeticException | NumberFormatException e) {
      return Optional.of(abbreviate(text) + " is not a whole number");
    }
    if (value.compareTo(BigInteger.valueOf(low)) < 0
        || value.compareTo(BigInteger.valueOf(Integer.MAX_VALUE)) > 0) {
      return Optional.of(abbreviate(text) + " is not an R4 " + typeName + " (" + low + ".." + Integer.MAX_VALUE + ")");
    }
    return Optional.empty();
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
