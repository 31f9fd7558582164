package org.fhirbox.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;

/**
 * Whether the start of a body sent to {@code POST /Binary} or {@code PUT /Binary/{id}} with a JSON
 * or XML media type is a FHIR Binary resource (R4 binary.html#rest: such a body "is accepted as is
 * and treated as the binary content of a Binary, including when the content type is
 * application/fhir+xml or application/fhir+json, except for the special case where the content is
 * actually a Binary resource"). Read with streaming parsers over a bounded prefix, never the whole
 * body: a JSON object whose top-level {@code resourceType} is {@code "Binary"}, or an XML document
 * whose root element is {@code Binary} in the FHIR namespace. Anything else, a prefix that does not
 * parse or ends before it says, is content.
 */
public final class BinaryResourceSniffer {
  private static final JsonFactory JSON = new JsonFactory();
  private static final XMLInputFactory XML = XmlFormatRules.safeFactory();

  private BinaryResourceSniffer() {}

  /** True when {@code head}, the start of a body in {@code format}'s media types, opens a FHIR Binary. */
  public static boolean isBinaryResource(byte[] head, FhirFormat format) {
    return format == FhirFormat.XML ? xmlBinary(head) : jsonBinary(head);
  }

  private static boolean jsonBinary(byte[] head) {
    try (JsonParser p = JSON.createParser(head)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return false;
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("resourceType")) {
          return value == JsonToken.VALUE_STRING && p.getText().equals("Binary");
        }
        p.skipChildren();
      }
      return false;
    } catch (IOException e) {
      return false; // not JSON, or the prefix ended before resourceType
    }
  }

  private static boolean xmlBinary(byte[] head) {
    XMLStreamReader r = null;
    try {
      r = XML.createXMLStreamReader(new ByteArrayInputStream(head));
      while (r.hasNext()) {
        if (r.next() == XMLStreamConstants.START_ELEMENT) {
          return r.getLocalName().equals("Binary") && XmlFormatRules.FHIR_NS.equals(r.getNamespaceURI());
        }
      }
      return false;
    } catch (XMLStreamException | RuntimeException e) {
      return false; // not XML, or the prefix ended before the root element
    } finally {
      if (r != null) {
        try {
          r.close();
        } catch (XMLStreamException e) {
          // nothing held open: the input is an array
        }
      }
    }
  }
}
