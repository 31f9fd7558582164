package org.fhirbox.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeChildChoiceDefinition;
import ca.uhn.fhir.context.RuntimeChildContainedResources;
import ca.uhn.fhir.context.RuntimeChildExtension;
import ca.uhn.fhir.parser.DataFormatException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.Type;

/**
 * Where a FHIRPath Patch ({@link FhirPathPatch}) reads and writes in a resource: the child
 * elements of an element ({@link Slot}), found by name or by the element they hold, and the values
 * put there, built from a patch's {@code value} part and checked against the element's type with
 * HAPI's model definitions (FHIR R4 fhirpatch.html: "the type of the value must be correct for
 * the place at which it will be added/inserted").
 */
final class ElementSlots {
  private final FhirContext ctx;

  ElementSlots(FhirContext ctx) {
    this.ctx = ctx;
  }

  /**
   * One child element of {@code parent}: its values, as a list even when it does not repeat.
   * {@code child} is null for the extensions of a primitive value, which HAPI's definitions do
   * not list; {@code typedName} is the name a choice was named by with its type
   * ({@code valueQuantity}), or null.
   */
  record Slot(Base parent, BaseRuntimeChildDefinition child, String typedName) {
    String name() {
      return child == null ? "extension" : child.getElementName();
    }

    boolean repeats() {
      return child == null || child.getMax() != 1;
    }

    /** Whether the element takes several types ({@code value[x]}); HAPI models extension lists as choices too. */
    boolean isChoice() {
      return child instanceof RuntimeChildChoiceDefinition && !(child instanceof RuntimeChildExtension);
    }

    /** A copy of the values held. */
    List<IBase> values() {
      return new ArrayList<>(child == null ? ((PrimitiveType<?>) parent).getExtension()
          : child.getAccessor().getValues(parent));
    }

    /** Whether a value that is not empty is held. */
    boolean isSet() {
      return values().stream().anyMatch(v -> !v.isEmpty());
    }

    /** Makes {@code items} the values held, in that order. */
    void write(List<IBase> items) {
      if (child == null) {
        List<Extension> extensions = ((PrimitiveType<?>) parent).getExtension();
        extensions.clear();
        items.forEach(i -> extensions.add((Extension) i));
      } else if (!repeats()) {
        child.getMutator().setValue(parent, items.isEmpty() ? null : items.get(0));
      } else {
        child.getMutator().setValue(parent, null); // a list's mutator empties the list
        items.forEach(i -> child.getMutator().addValue(parent, i));
      }
    }

    void add(IBase value) {
      List<IBase> items = values();
      items.add(value);
      write(items);
    }
  }

  /** The child {@code name} of {@code parent}; 400 when it has none of that name. */
  Slot child(Base parent, String name) {
    if (parent instanceof PrimitiveType<?>) {
      if ("extension".equals(name)) {
        return new Slot(parent, null, null);
      }
      throw FhirException.badRequest("a " + parent.fhirType() + " value has no element '" + name
          + "' a patch writes, only extension");
    }
    if (ctx.getElementDefinition(parent.getClass()) instanceof BaseRuntimeElementCompositeDefinition<?> def
        && name != null) {
      BaseRuntimeChildDefinition child = def.getChildByName(name);
      if (child == null) {
        child = def.getChildByName(name + "[x]");
      }
      if (child != null && !(child instanceof RuntimeChildContainedResources)) {
        Slot slot = new Slot(parent, child, null);
        return slot.isChoice() && !name.equals(child.getElementName()) && !name.endsWith("[x]")
            ? new Slot(parent, child, name) : slot;
      }
    }
    throw FhirException.badRequest(parent.fhirType() + " has no element '" + name + "' a patch writes");
  }

  /**
   * The slot that holds {@code target} (that very object) in {@code root}, or null when nothing
   * does: the root itself, or a value a FHIRPath expression computed rather than selected.
   */
  Slot holding(Resource root, Base target) {
    Deque<Base> todo = new ArrayDeque<>();
    todo.push(root);
    while (!todo.isEmpty()) {
      Base node = todo.pop();
      if (node instanceof PrimitiveType<?> p) {
        for (Extension e : p.hasExtension() ? p.getExtension() : List.<Extension>of()) {
          if (e == target) {
            return new Slot(node, null, null);
          }
          todo.push(e);
        }
      } else if (ctx.getElementDefinition(node.getClass()) instanceof BaseRuntimeElementCompositeDefinition<?> def) {
        for (BaseRuntimeChildDefinition child : def.getChildrenAndExtension()) {
          for (IBase v : child.getAccessor().getValues(node)) {
            if (v == target) {
              return new Slot(node, child, null);
            }
            if (v instanceof Base b) {
              todo.push(b);
            }
          }
        }
      }
    }
    return null;
  }

  /**
   * The value a {@code value} part gives for {@code slot}: its value[x], or for a type a
   * Parameters cannot carry (an anonymous element such as {@code Patient.contact}, an Extension)
   * the element made of its parts, one part per child element (FHIR R4 fhirpatch.html).
   */
  IBase value(Slot slot, ParametersParameterComponent part) {
    if (part.hasResource()) {
      throw FhirException.badRequest("a value is a data type, not a resource");
    }
    if (part.getValue() != null) {
      if (part.hasPart()) {
        throw FhirException.badRequest("the value part has both a value[x] and parts");
      }
      return typed(slot, part.getValue());
    }
    if (!part.hasPart()) {
      throw FhirException.badRequest("the value part has neither a value[x] nor parts");
    }
    if (slot.isChoice()) {
      throw FhirException.badRequest("'" + slot.name() + "' takes several types: give its value as value[x]");
    }
    BaseRuntimeElementDefinition<?> def = slot.child() == null ? ctx.getElementDefinition(Extension.class)
        : slot.child().getChildByName(slot.child().getElementName());
    if (!(def instanceof BaseRuntimeElementCompositeDefinition<?>)) {
      throw FhirException.badRequest("'" + slot.name() + "' is a " + def.getName() + ": give its value as value[x]");
    }
    Base made = (Base) def.newInstance(slot.child() == null ? null : slot.child().getInstanceConstructorArguments());
    for (ParametersParameterComponent sub : part.getPart()) {
      Slot s = child(made, sub.getName());
      IBase v = value(s, sub);
      if (!s.repeats() && s.isSet()) {
        throw FhirException.badRequest("the value has two '" + s.name() + "' parts; " + s.name() + " does not repeat");
      }
      s.add(v);
    }
    return made;
  }

  /**
   * {@code value} as a value of {@code slot}'s type, a copy: the patch's own values stay as they
   * are, for a later operation may change what this one put in, and the patch may be applied again
   * (to a newer version, or to find the operation that made a resource invalid). 400 when it is of
   * another type.
   */
  private IBase typed(Slot slot, Type value) {
    BaseRuntimeChildDefinition child = slot.child();
    if (child == null) {
      if (value instanceof Extension) {
        return value.copy();
      }
      throw FhirException.badRequest("a " + value.fhirType() + " is not allowed at 'extension', which takes Extension");
    }
    if (slot.isChoice()) {
      String name = child.getChildNameByDatatype(value.getClass());
      if (name == null || slot.typedName() != null && !slot.typedName().equals(name)) {
        throw FhirException.badRequest("a " + value.fhirType() + " is not allowed at '"
            + (slot.typedName() == null ? slot.name() : slot.typedName()) + "'");
      }
      return value.copy();
    }
    BaseRuntimeElementDefinition<?> def = child.getChildByName(child.getElementName());
    Class<?> wanted = def.getImplementingClass();
    if (wanted == value.getClass()) {
      return value.copy();
    }
    // a string for a code, a uri for a canonical: the text is taken if it is valid as the element's type
    if (value instanceof PrimitiveType<?> given && IPrimitiveType.class.isAssignableFrom(wanted)
        && (given instanceof StringType || wanted.isInstance(given) || given.getClass().isAssignableFrom(wanted))) {
      IPrimitiveType<?> made = (IPrimitiveType<?>) def.newInstance(child.getInstanceConstructorArguments());
      try {
        made.setValueAsString(given.getValueAsString());
      } catch (DataFormatException | IllegalArgumentException e) {
        throw FhirException.badRequest("'" + QueryLimits.shorten(given.getValueAsString()) + "' is not a valid "
            + def.getName() + " for '" + slot.name() + "'");
      }
      return made;
    }
    throw FhirException.badRequest("a " + value.fhirType() + " is not allowed at '" + slot.name() + "', which takes "
        + def.getName());
  }
}
