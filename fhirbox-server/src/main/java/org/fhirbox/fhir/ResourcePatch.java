package org.fhirbox.fhir;

import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.flipkart.zjsonpatch.CompatibilityFlags;
import com.flipkart.zjsonpatch.InvalidJsonPatchException;
import com.flipkart.zjsonpatch.JsonPatch;
import com.flipkart.zjsonpatch.JsonPatchApplicationException;
import com.flipkart.zjsonpatch.Operation;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.Map;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.r4.model.Resource;

/**
 * A JSON Patch (RFC 6902, {@code application/json-patch+json}) applied to a resource as FHIR JSON
 * (FHIR R4 http.html#patch). The result is parsed as strictly as any resource a client sends, so
 * a patch cannot store what an update could not. A failed {@code test} operation is 412: it is the
 * patch's own precondition (the Medplum client tests {@code /meta/versionId} this way); a patch that
 * is not a JSON Patch, or names a path the resource does not have, is 400.
 *
 * <p>A few bytes of patch can make a large document: {@code copy} duplicates a subtree, so forty
 * copies of an array into itself double it forty times. The operations are therefore applied one
 * at a time to one document, each answered 413 before it runs when it would take the document's
 * estimated JSON size past the JSON body limit, or when the {@code copy} operations together would
 * duplicate more than that limit; and a patch has at most {@link #MAX_OPERATIONS} operations.
 */
final class ResourcePatch {
  /** The most operations one patch may have. */
  static final int MAX_OPERATIONS = 1000;
  /** Duplicate keys are refused, as in a resource: which of two {@code op}s was meant is unknowable. */
  private static final ObjectMapper JSON = new ObjectMapper(JsonFormatRules.JSON);
  /**
   * RFC 6902 §4.2: the target of {@code remove} must exist; zjsonpatch's default lets a missing
   * member go as a success that writes a new version changing nothing.
   */
  private static final EnumSet<CompatibilityFlags> FLAGS = EnumSet.of(CompatibilityFlags.FORBID_REMOVE_MISSING_OBJECT);

  private ResourcePatch() {}

  /**
   * {@code current} with {@code patch} applied; its type and id must stay as they are.
   *
   * @param maxBytes the largest JSON document the patched resource may be (the JSON body limit)
   */
  static Resource apply(FhirCodec codec, Resource current, String patch, long maxBytes) {
    JsonNode operations;
    try {
      operations = JSON.readTree(patch);
    } catch (JsonProcessingException e) {
      throw FhirException.badRequest("the body is not JSON: " + e.getOriginalMessage());
    }
    if (operations == null || !operations.isArray()) {
      throw FhirException.badRequest("a JSON Patch is an array of operations (RFC 6902)");
    }
    if (operations.size() > MAX_OPERATIONS) {
      throw FhirException.tooLarge("the patch has " + operations.size() + " operations; a patch has at most "
          + MAX_OPERATIONS);
    }
    requirePointers(operations);
    JsonNode patched;
    try {
      JsonPatch.validate(operations, FLAGS);
      String encoded = codec.encode(current, FhirFormat.JSON, false);
      patched = applyBounded(operations, JSON.readTree(encoded), encoded.length(), maxBytes);
    } catch (InvalidJsonPatchException e) {
      throw FhirException.badRequest("not a valid JSON Patch (RFC 6902): " + e.getMessage());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored resource's JSON did not read back", e);
    }
    Resource out = codec.parse(patched.toString(), FhirFormat.JSON);
    return Patch.sameResource(current, out);
  }

  /**
   * Applies {@code operations} (validated) to {@code doc} one by one, in place but for those that
   * write the whole document, keeping an estimate of its JSON size ({@code size}, from its
   * encoding's length) and of what the copies duplicated.
   */
  private static JsonNode applyBounded(JsonNode operations, JsonNode doc, long size, long maxBytes) {
    long copied = 0;
    for (JsonNode op : operations) {
      String name = op.path("op").asText();
      String path = op.path("path").asText();
      long grows = switch (name) {
        case "add" -> estimate(op.get("value"), maxBytes);
        case "replace" -> estimate(op.get("value"), maxBytes) - estimate(at(doc, path), maxBytes);
        case "copy" -> estimate(at(doc, op.path("from").asText()), maxBytes);
        case "remove" -> -estimate(at(doc, path), maxBytes);
        default -> 0; // move keeps the size; test changes nothing
      };
      if (name.equals("copy")) {
        copied += grows;
        if (copied > maxBytes) {
          throw FhirException.tooLarge("the patch's copy operations duplicate more than " + maxBytes
              + " bytes of JSON, the limit of FHIRBOX_MAX_JSON_BYTES");
        }
      }
      size += grows;
      if (size > maxBytes) {
        throw FhirException.tooLarge("the patched resource would exceed " + maxBytes
            + " bytes of JSON, the limit of FHIRBOX_MAX_JSON_BYTES; nothing was changed");
      }
      ArrayNode one = JSON.createArrayNode().add(op);
      try {
        if (path.isEmpty() && !name.equals("test")) {
          doc = JsonPatch.apply(one, doc, FLAGS); // the whole document is replaced: no node to change in place
        } else {
          JsonPatch.applyInPlace(one, doc, FLAGS);
        }
      } catch (JsonPatchApplicationException e) {
        if (e.getOperation() == Operation.TEST) {
          // zjsonpatch names no path when the member tested is absent: the operation's own is named
          throw FhirException.preconditionFailed("the patch's test operation failed at '" + path
              + "'; nothing was changed");
        }
        throw FhirException.badRequest("the patch's " + name + " operation at '" + path + "' cannot be applied to "
            + "the resource: " + e.getMessage());
      }
    }
    return doc;
  }

  /**
   * Each operation's {@code path} and {@code from} must be JSON Pointers (RFC 6901 §3): empty, or
   * {@code /}-led with {@code ~} only in {@code ~0} and {@code ~1}. zjsonpatch checks this with an
   * exception no other check of a patch throws, so it is checked here first.
   */
  private static void requirePointers(JsonNode operations) {
    for (JsonNode op : operations) {
      for (String member : new String[] {"path", "from"}) {
        JsonNode p = op.get(member);
        if (p != null && p.isTextual() && !isPointer(p.textValue())) {
          throw FhirException.badRequest("not a valid JSON Patch: " + member + " '" + p.textValue()
              + "' is not a JSON Pointer (RFC 6901)");
        }
      }
    }
  }

  private static boolean isPointer(String s) {
    if (!s.isEmpty() && s.charAt(0) != '/') {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == '~' && (i + 1 == s.length() || s.charAt(i + 1) != '0' && s.charAt(i + 1) != '1')) {
        return false;
      }
    }
    return true;
  }

  /** The node at a JSON Pointer, or null when there is none (the patch then fails as it runs). */
  private static JsonNode at(JsonNode doc, String pointer) {
    try {
      JsonNode n = doc.at(JsonPointer.compile(pointer));
      return n.isMissingNode() ? null : n;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * About the length of {@code node} as compact JSON; counting stops a little past {@code max}, so
   * estimating a subtree costs no more than the limit allows it to be.
   */
  static long estimate(JsonNode node, long max) {
    if (node == null) {
      return 0;
    }
    long size = 0;
    Deque<JsonNode> todo = new ArrayDeque<>();
    todo.push(node);
    while (!todo.isEmpty() && size <= max) {
      JsonNode n = todo.pop();
      if (n.isObject()) {
        size += 2;
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          size += e.getKey().length() + 4;
          todo.push(e.getValue());
        }
      } else if (n.isArray()) {
        size += 2 + n.size();
        n.forEach(todo::push);
      } else if (n.isTextual()) {
        size += n.textValue().length() + 2;
      } else {
        size += n.isNumber() ? n.asText().length() : n.isBoolean() ? 5 : 4;
      }
    }
    return size;
  }
}
