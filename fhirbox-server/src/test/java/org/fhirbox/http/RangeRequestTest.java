package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.fhirbox.http.RangeRequest.Full;
import org.fhirbox.http.RangeRequest.Partial;
import org.fhirbox.http.RangeRequest.Unsatisfiable;
import org.junit.jupiter.api.Test;

class RangeRequestTest {
  private static final long LEN = 10_000;

  private static List<ByteRange> ranges(String header, long length) {
    RangeRequest r = RangeRequest.parse(header, length);
    assertThat(r).as(header).isInstanceOf(Partial.class);
    return ((Partial) r).ranges();
  }

  private static ByteRange r(long first, long last) {
    return new ByteRange(first, last);
  }

  // RFC 9110 §14.1.2 examples, on a 10000-byte representation.

  @Test
  void firstFiveHundredBytes() {
    assertThat(ranges("bytes=0-499", LEN)).containsExactly(r(0, 499));
  }

  @Test
  void secondFiveHundredBytes() {
    assertThat(ranges("bytes=500-999", LEN)).containsExactly(r(500, 999));
  }

  @Test
  void suffixRangeReturnsLastBytes() {
    assertThat(ranges("bytes=-500", LEN)).containsExactly(r(9500, 9999));
  }

  @Test
  void openRangeRunsToTheEnd() {
    assertThat(ranges("bytes=9500-", LEN)).containsExactly(r(9500, 9999));
  }

  @Test
  void firstAndLastByteAreTwoParts() {
    assertThat(ranges("bytes=0-0,-1", LEN)).containsExactly(r(0, 0), r(9999, 9999));
  }

  @Test
  void adjacentRangesAreCoalesced() {
    assertThat(ranges("bytes=500-600,601-999", LEN)).containsExactly(r(500, 999));
  }

  @Test
  void overlappingRangesAreCoalesced() {
    assertThat(ranges("bytes=500-700,601-999", LEN)).containsExactly(r(500, 999));
  }

  // Clamping and satisfiability.

  @Test
  void lastPositionBeyondTheEndIsClamped() {
    assertThat(ranges("bytes=9000-20000", LEN)).containsExactly(r(9000, 9999));
    assertThat(ranges("bytes=0-99999999999999999999999", LEN)).containsExactly(r(0, 9999));
  }

  @Test
  void suffixLongerThanTheContentIsTheWholeContent() {
    assertThat(ranges("bytes=-20000", LEN)).containsExactly(r(0, 9999));
    assertThat(ranges("bytes=-99999999999999999999999", LEN)).containsExactly(r(0, 9999));
  }

  @Test
  void rangeStartingAtTheEndIsUnsatisfiable() {
    assertThat(RangeRequest.parse("bytes=10000-", LEN)).isEqualTo(new Unsatisfiable());
    assertThat(RangeRequest.parse("bytes=10000-10005", LEN)).isEqualTo(new Unsatisfiable());
    assertThat(RangeRequest.parse("bytes=99999999999999999999999-", LEN)).isEqualTo(new Unsatisfiable());
  }

  @Test
  void zeroSuffixIsUnsatisfiable() {
    assertThat(RangeRequest.parse("bytes=-0", LEN)).isEqualTo(new Unsatisfiable());
  }

  @Test
  void unsatisfiableRangesAreDroppedWhenOthersAreSatisfiable() {
    assertThat(ranges("bytes=20000-30000,0-9", LEN)).containsExactly(r(0, 9));
  }

  @Test
  void everyRangeOfEmptyContentFromAFirstPositionIsUnsatisfiable() {
    assertThat(RangeRequest.parse("bytes=0-0", 0)).isEqualTo(new Unsatisfiable());
    assertThat(RangeRequest.parse("bytes=0-", 0)).isEqualTo(new Unsatisfiable());
    assertThat(RangeRequest.parse("bytes=-0", 0)).isEqualTo(new Unsatisfiable());
  }

  @Test
  void aSuffixOfEmptyContentIsTheWholeEmptyContent() {
    assertThat(RangeRequest.parse("bytes=-500", 0)).isEqualTo(new Full());
    assertThat(RangeRequest.parse("bytes=0-0,-1", 0)).isEqualTo(new Full());
    assertThat(RangeRequest.parse("bytes=5-,-1", 0)).isEqualTo(new Full());
  }

  @Test
  void singleByteContent() {
    assertThat(ranges("bytes=0-0", 1)).containsExactly(r(0, 0));
    assertThat(ranges("bytes=-1", 1)).containsExactly(r(0, 0));
    assertThat(RangeRequest.parse("bytes=1-", 1)).isEqualTo(new Unsatisfiable());
  }

  // Grammar: whitespace, unit, invalid headers.

  @Test
  void noHeaderIsFull() {
    assertThat(RangeRequest.parse(null, LEN)).isEqualTo(new Full());
  }

  @Test
  void whitespaceAroundCommasAndEmptyElementsAreAllowed() {
    assertThat(ranges("  bytes=0-9 ,  20-29 ,, 40-49\t", LEN))
        .containsExactly(r(0, 9), r(20, 29), r(40, 49));
  }

  @Test
  void unitIsCaseInsensitive() {
    assertThat(ranges("Bytes=0-9", LEN)).containsExactly(r(0, 9));
  }

  @Test
  void unknownUnitIsIgnored() {
    assertThat(RangeRequest.parse("items=0-9", LEN)).isEqualTo(new Full());
    assertThat(RangeRequest.parse("bytesx=0-9", LEN)).isEqualTo(new Full());
  }

  @Test
  void invalidHeadersAreIgnored() {
    for (String header : List.of("bytes=", "bytes", "bytes=,", "bytes=5-1", "bytes=0-1,5-1",
        "bytes=-", "bytes=--5", "bytes=-5-10", "bytes=a-b", "bytes=1-2-3", "bytes=0 - 9",
        "bytes = 0-9", "bytes=+1-2", "bytes=0x10-20", "bytes=１-2", "bytes=0-9;q=1", "")) {
      assertThat(RangeRequest.parse(header, LEN)).as(header).isEqualTo(new Full());
    }
  }

  // Abuse protection.

  @Test
  void sixteenRangesAreServed() {
    String header = "bytes=" + IntStream.range(0, 16)
        .mapToObj(i -> (i * 600) + "-" + (i * 600 + 199)).collect(Collectors.joining(","));

    assertThat(ranges(header, LEN)).hasSize(16);
  }

  @Test
  void moreThanSixteenRangesAreIgnored() {
    String seventeen = "bytes=" + IntStream.range(0, 17)
        .mapToObj(i -> (i * 500) + "-" + (i * 500 + 99)).collect(Collectors.joining(","));
    String thousand = "bytes=" + IntStream.range(0, 1000)
        .mapToObj(i -> i + "-" + i).collect(Collectors.joining(","));

    assertThat(RangeRequest.parse(seventeen, LEN)).isEqualTo(new Full());
    assertThat(RangeRequest.parse(thousand, LEN)).isEqualTo(new Full());
  }

  @Test
  void heavilyOverlappingRangesAreIgnored() {
    assertThat(RangeRequest.parse("bytes=0-,0-,0-", LEN)).isEqualTo(new Full());
    assertThat(RangeRequest.parse("bytes=0-9999,-10000", LEN)).isEqualTo(new Partial(List.of(r(0, 9999))));
  }

  @Test
  void manySmallRangesAreIgnored() {
    String fiveTiny = "bytes=0-0,100-100,200-200,300-300,400-400";
    String fourTiny = "bytes=0-0,100-100,200-200,300-300";

    assertThat(RangeRequest.parse(fiveTiny, LEN)).isEqualTo(new Full());
    assertThat(ranges(fourTiny, LEN)).hasSize(4);
    assertThat(ranges("bytes=0-127,200-327,400-527,600-727,800-927", LEN)).hasSize(5);
  }

  @Test
  void partsKeepTheRequestedOrder() {
    assertThat(ranges("bytes=9000-9099,0-99,5000-5099", LEN))
        .containsExactly(r(9000, 9099), r(0, 99), r(5000, 5099));
  }

  @Test
  void coalescingBridgesEarlierParts() {
    assertThat(ranges("bytes=0-9,20-29,10-19,500-509", LEN)).containsExactly(r(0, 29), r(500, 509));
    assertThat(ranges("bytes=500-509,20-29,0-9,5-25", LEN)).containsExactly(r(500, 509), r(0, 29));
  }

  // ByteRange itself.

  @Test
  void byteRangeKnowsItsLengthAndContentRange() {
    assertThat(r(500, 999).length()).isEqualTo(500);
    assertThat(r(0, 0).length()).isEqualTo(1);
    assertThat(r(500, 999).contentRange(8000)).isEqualTo("bytes 500-999/8000");
  }

  @Test
  void byteRangeRejectsNegativeOrReversedBounds() {
    assertThatThrownBy(() -> r(-1, 5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r(5, 4)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void partialNeedsARange() {
    assertThatThrownBy(() -> new Partial(List.of())).isInstanceOf(IllegalArgumentException.class);
  }
}
