package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DecimalLimitsTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "0", "-0", "0.0", "5.4", "-5.40", "100", "1e308", "1E+308", "9.99e308", "1e-308", "0.001e-305",
      "10e307", "123456789012345678901234567890", "0.000100", "1.5e0", "-1e-308", "0e-308", "0.000e5", "0e308"})
  void numbersWithinTheLimitsPass(String text) {
    assertThat(DecimalLimits.problem(text)).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = ';', value = {
      "1e309; out of range", "10e308; out of range", "1e-309; out of range", "0.01e-307; out of range",
      "1e1001; out of range", "1e999999; out of range", "1e99999999999999999999; out of range",
      "-1e-999999; out of range", "0.1e-308; out of range",
      "0e-20000; out of range", "0e-309; out of range", "0.0e-308; out of range", "0e309; out of range",
      "01; not a number", "1.; not a number", ".5; not a number", "1e; not a number", "+1; not a number",
      "1e+; not a number", "0x10; not a number", "NaN; not a number", "; an empty number"})
  void numbersBeyondTheLimitsOrMalformedAreNamed(String text, String expected) {
    assertThat(DecimalLimits.problem(text == null ? "" : text)).get().asString().contains(expected);
  }

  @Test
  void significantDigitsCountTrailingZerosButNotLeadingOnes() {
    assertThat(DecimalLimits.problem("0.000" + "1".repeat(100))).isEmpty();
    assertThat(DecimalLimits.problem("1." + "0".repeat(99))).isEmpty();
    assertThat(DecimalLimits.problem("1." + "0".repeat(100))).get().asString().contains("101 significant digits");
    assertThat(DecimalLimits.problem("9".repeat(101))).get().asString().contains("101 significant digits");
  }

  @Test
  void longTextIsRefusedBeforeItIsScanned() {
    assertThat(DecimalLimits.problem("0." + "0".repeat(500) + "1")).get().asString().contains("at most 400");
  }

  @Test
  void theCheckTakesMicroseconds() {
    String[] inputs = {"1e999999", "1e-999999", "9".repeat(400), "5.4"};
    for (int warm = 0; warm < 20_000; warm++) {
      DecimalLimits.problem(inputs[warm % inputs.length]);
    }
    int n = 100_000;
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      DecimalLimits.problem(inputs[i % inputs.length]);
    }
    double micros = (System.nanoTime() - start) / 1000.0 / n;
    // a generous bound for a loaded machine; the figure is printed for the record
    System.out.printf("DecimalLimits.problem: %.3f us per call%n", micros);
    assertThat(micros).isLessThan(100);
  }
}
