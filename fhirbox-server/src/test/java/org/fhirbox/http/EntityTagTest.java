package org.fhirbox.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class EntityTagTest {
  private static final EntityTag STRONG = new EntityTag(false, "1");
  private static final EntityTag WEAK = new EntityTag(true, "1");

  @Test
  void parsesStrongAndWeakTags() {
    assertThat(EntityTag.tryParse("\"1\"")).contains(STRONG);
    assertThat(EntityTag.tryParse("W/\"1\"")).contains(WEAK);
    assertThat(EntityTag.tryParse("\"\"")).contains(new EntityTag(false, ""));
  }

  @Test
  void rejectsMalformedTags() {
    for (String v : new String[] {"1", "\"1", "w/\"1\"", "\"a\"b", "\"a b\"", "", "\"1\",\"2\""}) {
      assertThat(EntityTag.tryParse(v)).as(v).isEmpty();
    }
  }

  @Test
  void parsesListsWithWhitespaceAndCommasInsideTags() {
    assertThat(EntityTag.parseList(" \"a,b\" ,W/\"c\",\t\"d\" "))
        .contains(List.of(new EntityTag(false, "a,b"), new EntityTag(true, "c"), new EntityTag(false, "d")));
    assertThat(EntityTag.parseList("\"a\" \"b\"")).isEmpty();
    assertThat(EntityTag.parseList(" , ")).isEmpty();
  }

  @Test
  void comparisonFollowsRfc9110Table() {
    // RFC 9110 §8.8.3.2 example table.
    EntityTag weak2 = new EntityTag(true, "2");
    assertThat(WEAK.strongMatch(WEAK)).isFalse();
    assertThat(WEAK.weakMatch(WEAK)).isTrue();
    assertThat(WEAK.strongMatch(weak2)).isFalse();
    assertThat(WEAK.weakMatch(weak2)).isFalse();
    assertThat(WEAK.strongMatch(STRONG)).isFalse();
    assertThat(WEAK.weakMatch(STRONG)).isTrue();
    assertThat(STRONG.strongMatch(STRONG)).isTrue();
    assertThat(STRONG.weakMatch(STRONG)).isTrue();
  }

  @Test
  void printsInWireFormat() {
    assertThat(WEAK.toString()).isEqualTo("W/\"1\"");
    assertThat(STRONG.toString()).isEqualTo("\"1\"");
  }
}
