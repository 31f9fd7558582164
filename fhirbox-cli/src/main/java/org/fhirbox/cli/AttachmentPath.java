package org.fhirbox.cli;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Resource;

/**
 * A dotted element path to an Attachment inside a resource type, such as {@code photo}
 * (Patient), {@code content} (Media) or {@code content.attachment} (DocumentReference), walked
 * with HAPI's element definitions. Attaching appends to repeating elements and sets single ones:
 * {@code Patient.photo} gets another photo, {@code Media.content} is replaced, and
 * {@code DocumentReference.content.attachment} adds a new {@code content} holding the attachment.
 */
final class AttachmentPath {
  private final String resourceType;
  private final List<Step> steps;

  private record Step(String name, BaseRuntimeChildDefinition child, BaseRuntimeElementDefinition<?> type) {}

  private AttachmentPath(String resourceType, List<Step> steps) {
    this.resourceType = resourceType;
    this.steps = steps;
  }

  /** Resolves {@code path} (optionally prefixed with the type, {@code Patient.photo}) against {@code type}. */
  static AttachmentPath resolve(FhirContext fhir, String type, String path) {
    BaseRuntimeElementCompositeDefinition<?> def = fhir.getResourceDefinition(type);
    String rest = path.startsWith(type + ".") ? path.substring(type.length() + 1) : path;
    String[] names = rest.split("\\.", -1);
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      String name = names[i];
      BaseRuntimeChildDefinition child = name.isEmpty() ? null : def.getChildByName(name);
      if (child == null) {
        throw new UsageException(type + " has no element '" + String.join(".", List.of(names).subList(0, i + 1)) + "'");
      }
      BaseRuntimeElementDefinition<?> elementType = child.getChildByName(name);
      steps.add(new Step(name, child, elementType));
      boolean last = i == names.length - 1;
      if (last && (elementType == null || elementType.getImplementingClass() != Attachment.class)) {
        throw new UsageException(type + "." + rest + " is not an Attachment");
      }
      if (!last) {
        if (!(elementType instanceof BaseRuntimeElementCompositeDefinition<?> composite)) {
          throw new UsageException(type + "." + name + " has no child elements");
        }
        def = composite;
      }
    }
    return new AttachmentPath(type, List.copyOf(steps));
  }

  /** Puts {@code attachment} into {@code resource} at this path. */
  void attach(Resource resource, Attachment attachment) {
    if (!resource.fhirType().equals(resourceType)) {
      throw new IllegalArgumentException("the path is for " + resourceType + ", not " + resource.fhirType());
    }
    IBase target = resource;
    for (int i = 0; i < steps.size() - 1; i++) {
      Step s = steps.get(i);
      List<IBase> existing = s.child().getAccessor().getValues(target);
      IBase next;
      if (s.child().getMax() == 1 && !existing.isEmpty()) {
        next = existing.get(0);
      } else {
        next = s.type().newInstance(s.child().getInstanceConstructorArguments());
        put(s, target, next);
      }
      target = next;
    }
    put(steps.get(steps.size() - 1), target, attachment);
  }

  private static void put(Step s, IBase target, IBase value) {
    if (s.child().getMax() == 1) {
      s.child().getMutator().setValue(target, value);
    } else {
      s.child().getMutator().addValue(target, value);
    }
  }
}
