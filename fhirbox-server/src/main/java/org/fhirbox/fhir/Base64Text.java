package org.fhirbox.fhir;

import java.util.Base64;
import org.hl7.fhir.r4.model.Base64BinaryType;

/**
 * A {@code base64Binary} that is encoded once. HAPI's {@link Base64BinaryType} keeps only the
 * bytes and encodes them again at every {@code getValueAsString}, that is at every JSON or XML
 * encoding, through commons-codec, which allocates an 8 KiB buffer for each: the
 * {@code Attachment.hash} the normaliser fills was encoded three times per Patient create
 * (setting it, storing the resource, answering), 12 % of what a create allocated.
 */
final class Base64Text extends Base64BinaryType {
  private String text;

  Base64Text(byte[] value) {
    super(value);
  }

  @Override
  protected String encode(byte[] value) {
    return value == null ? null : Base64.getEncoder().encodeToString(value);
  }

  @Override
  public Base64BinaryType setValue(byte[] value) {
    text = null;
    return super.setValue(value);
  }

  @Override
  public String getValueAsString() {
    String t = text;
    if (t == null && getValue() != null) {
      t = encode(getValue());
      text = t;
    }
    return t;
  }

  @Override
  public Base64Text copy() {
    Base64Text copy = new Base64Text(getValue());
    copyValues(copy);
    return copy;
  }
}
