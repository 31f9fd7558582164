package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.util.FhirTerser;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Media;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

class AttachmentSlotsTest {
  private static final FhirCodec CODEC = new FhirCodec(FhirContext.forR4Cached());
  private static final FhirTerser TERSER = FhirContext.forR4Cached().newTerser();

  private static List<Attachment> attachments(Resource r) {
    return TERSER.getAllPopulatedChildElementsOfType(r, Attachment.class);
  }

  private static Patient patient() {
    Patient p = new Patient();
    p.setId("Patient/p1");
    p.addName().setFamily("Chalmers \"Jim\"").addGiven("Ünïcode");
    p.addPhoto().setContentType("image/jpeg").setUrl("Binary/b1");
    p.addPhoto().setContentType("image/png").setUrl("Binary/b2/_history/3");
    p.addPhoto().setContentType("image/gif").setUrl("https://example.org/photo.gif");
    p.addPhoto().setContentType("image/jpeg").setUrl("Binary/b1");
    Media contained = new Media();
    contained.setId("m1");
    contained.getContent().setContentType("video/mp4").setUrl("Binary/v1");
    p.addContained(contained);
    return p;
  }

  @Test
  void storedFormIsTheResourceEncodedAsIs() {
    Patient p = patient();
    String plain = CODEC.toJson(p);
    AttachmentSlots slots = AttachmentSlots.encode(p, attachments(p), CODEC::toJson).orElseThrow();
    assertThat(slots.stored()).isEqualTo(plain);
    assertThat(attachments(p)).extracting(Attachment::getUrl).containsExactlyInAnyOrder("Binary/b1",
        "Binary/b2/_history/3", "https://example.org/photo.gif", "Binary/b1", "Binary/v1");
  }

  @Test
  void aNewHeadShiftsEverySlotAndASlotInsideTheOldHeadIsRefused() {
    Patient p = patient();
    p.getMeta().setVersionId("9");
    AttachmentSlots slots = AttachmentSlots.encode(p, attachments(p), CODEC::toJson).orElseThrow();
    String was = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"9\"";
    assertThat(slots.stored()).startsWith(was);

    AttachmentSlots restamped = slots.withHead(was.length(), was.replace("\"9\"", "\"10\"")).orElseThrow();
    p.getMeta().setVersionId("10");
    assertThat(restamped.stored()).isEqualTo(CODEC.toJson(p));
    assertThat(restamped.fill(u -> u + "?signed")).isEqualTo(slots.fill(u -> u + "?signed").replace("\"9\"", "\"10\""));
    assertThat(slots.withHead(slots.stored().indexOf("Binary/b1") + 1, "{")).isEmpty();
  }

  @Test
  void filledSlotsAreTheResourceEncodedWithThoseUrls() {
    Patient p = patient();
    AttachmentSlots slots = AttachmentSlots.encode(p, attachments(p), CODEC::toJson).orElseThrow();
    Map<String, String> signed = Map.of("Binary/b1", "http://h/storage/b1?sig=a&exp=1",
        "Binary/v1", "http://h/storage/v1?name=\"odd\\name\"");
    String filled = slots.fill(u -> signed.getOrDefault(u, u));
    for (Attachment a : attachments(p)) {
      a.setUrl(signed.getOrDefault(a.getUrl(), a.getUrl()));
    }
    assertThat(filled).isEqualTo(CODEC.toJson(p)).contains("Binary/b2/_history/3").doesNotContain("\"Binary/b1\"");
  }

  @Test
  void aResourceWithoutBinaryUrlsIsEncodedOnce() {
    DocumentReference d = new DocumentReference();
    d.addContent().getAttachment().setUrl("https://example.org/x.pdf");
    AttachmentSlots slots = AttachmentSlots.encode(d, attachments(d), CODEC::toJson).orElseThrow();
    assertThat(slots.stored()).isEqualTo(slots.fill(u -> "changed")).isEqualTo(CODEC.toJson(d));
  }

  @Test
  void aMarkerFoundTwiceOrElsewhereGivesUp() {
    Patient p = patient();
    p.getNameFirstRep().setFamily(AttachmentSlots.marker() + "0");
    assertThat(AttachmentSlots.encode(p, attachments(p), CODEC::toJson)).isEmpty();
    Patient q = patient();
    q.getNameFirstRep().setFamily("x " + AttachmentSlots.marker() + "9");
    assertThat(AttachmentSlots.encode(q, attachments(q), CODEC::toJson)).isEmpty();
    assertThat(attachments(q)).extracting(Attachment::getUrl).contains("Binary/b1", "Binary/v1");
  }

  @Test
  void urlsComeBackWhenTheEncoderFails() {
    Patient p = patient();
    assertThatThrownBy(() -> AttachmentSlots.encode(p, attachments(p), r -> {
      throw new IllegalStateException("encoder failed");
    })).hasMessage("encoder failed");
    assertThat(attachments(p)).extracting(Attachment::getUrl).doesNotContain((String) null)
        .allSatisfy(u -> assertThat(u).doesNotStartWith("fhirbox-slot-"));
    assertThat(Optional.of(p.getPhotoFirstRep().getUrl())).contains("Binary/b1");
  }
}
