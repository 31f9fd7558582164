package org.fhirbox.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.parser.DataFormatException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fhirbox.core.FhirException;
import org.hl7.fhir.exceptions.FHIRException;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.fhirpath.ExpressionNode;
import org.hl7.fhir.r4.fhirpath.FHIRPathEngine;
import org.hl7.fhir.r4.hapi.ctx.HapiWorkerContext;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Resource;

/**
 * A FHIRPath Patch (FHIR R4 fhirpatch.html) applied to a resource: a Parameters resource whose
 * parameters are all named {@code operation}, each with the parts {@code type} (add, insert,
 * delete, replace, move), {@code path} (a FHIRPath expression, evaluated by HAPI's engine) and
 * those its type takes. The operations apply in order to one copy of the resource, which is then
 * encoded and parsed as strictly as any resource a client sends, so a patch cannot store what an
 * update could not; it may not exceed the JSON body limit (413) nor change the type or id (400).
 *
 * <p>The rules of fhirpatch.html: the path of add and replace selects exactly one element, that of
 * delete one or none (deleting nothing is no error); insert and move name a list by a path whose
 * last step is its element's name ({@code Patient.identifier}), the step before selecting exactly
 * one element; and a value must be of the type of the element it goes to. Each refusal is 400 and
 * names the operation ({@code Parameters.parameter[i]}). A patch has at most
 * {@link ResourcePatch#MAX_OPERATIONS} operations (413), as a JSON Patch; unlike JSON Patch's
 * {@code copy}, no operation duplicates a subtree, so the patched resource outgrows the current
 * one by no more than the patch's own values.
 *
 * <p>The engine is given no StructureDefinitions: a path navigates the instance (names, indexes,
 * {@code where()}, {@code first()}, {@code extension(url)}, ...), while what needs type
 * definitions ({@code ofType()}, {@code is}, {@code as}, {@code conformsTo()}) or terminology
 * ({@code memberOf()}) is 400 wherever the server runs ({@link FhirPathLimits}), rather
 * than working only where HAPI happens to find definitions on the class path.
 */
final class FhirPathPatch {
  /** The functions that select some of the elements before them, so that those are held where they were. */
  private static final Set<ExpressionNode.Function> SUBSETS = EnumSet.of(ExpressionNode.Function.Where,
      ExpressionNode.Function.Item, ExpressionNode.Function.First, ExpressionNode.Function.Last,
      ExpressionNode.Function.Single);
  /**
   * How long applying a patch may take, its operations and the search for one that made the
   * result invalid together: 1,000 operations over a resource near the JSON body limit could
   * otherwise hold a worker's CPU for minutes.
   */
  static final Duration BUDGET = Duration.ofSeconds(10);
  private static final Map<String, List<String>> PARTS = Map.of(
      "add", List.of("type", "path", "name", "value"),
      "insert", List.of("type", "path", "value", "index"),
      "delete", List.of("type", "path"),
      "replace", List.of("type", "path", "value"),
      "move", List.of("type", "path", "source", "destination"));

  /** One operation of the patch; {@code index} is its place among the Parameters' parameters. */
  private record Operation(int index, String type, String path, String name, ParametersParameterComponent value,
      Integer at, Integer source, Integer destination) {
    String where() {
      return "Parameters.parameter[" + index + "]";
    }

    FhirException refused(String why) {
      return FhirException.badRequest(where() + " (" + type + " " + QueryLimits.shorten(path) + "): " + why, where());
    }
  }

  private final FHIRPathEngine engine;
  private final ElementSlots slots;
  private final Resource doc;

  /** The engine and model lookups of one patch's application, made once for all its operations and probes. */
  private record Tools(FHIRPathEngine engine, ElementSlots slots) {
    static Tools of(FhirContext ctx) {
      return new Tools(new FHIRPathEngine(new HapiWorkerContext(ctx, new NoDefinitions(ctx))), new ElementSlots(ctx));
    }
  }

  private FhirPathPatch(Tools tools, Resource doc) {
    this.engine = tools.engine();
    this.slots = tools.slots();
    this.doc = doc;
  }

  /**
   * {@code current} with the FHIRPath Patch {@code patch} applied; its type and id must stay.
   *
   * @param maxBytes the largest JSON document the patched resource may be (the JSON body limit)
   */
  static Resource apply(FhirCodec codec, Resource current, Parameters patch, long maxBytes) {
    return apply(codec, current, patch, maxBytes, BUDGET);
  }

  /** {@link #apply(FhirCodec, Resource, Parameters, long)} within {@code budget}; 413 beyond it. */
  static Resource apply(FhirCodec codec, Resource current, Parameters patch, long maxBytes, Duration budget) {
    List<Operation> operations = operations(patch);
    Budget deadline = new Budget(budget, System.nanoTime() + budget.toNanos());
    Tools tools = Tools.of(codec.context());
    Resource patched = applied(tools, current, operations, deadline);
    String encoded;
    try {
      encoded = encoded(codec, patched);
    } catch (FhirException e) {
      throw culprit(codec, tools, current, operations, e, deadline);
    }
    if (encoded.length() > maxBytes) {
      throw FhirException.tooLarge("the patched resource would exceed " + maxBytes
          + " bytes of JSON, the limit of FHIRBOX_MAX_JSON_BYTES; nothing was changed");
    }
    Resource out;
    try {
      out = codec.parse(encoded, FhirFormat.JSON);
    } catch (FhirException e) {
      throw culprit(codec, tools, current, operations, e, deadline);
    }
    return Patch.sameResource(current, out);
  }

  /** How long applying may take, and when ({@link System#nanoTime}) that is over. */
  private record Budget(Duration length, long at) {}

  /** A copy of {@code current} with {@code operations} applied; 400 naming the first that cannot apply. */
  private static Resource applied(Tools tools, Resource current, List<Operation> operations, Budget deadline) {
    FhirPathPatch p = new FhirPathPatch(tools, current.copy());
    for (Operation op : operations) {
      if (System.nanoTime() - deadline.at() > 0) {
        throw FhirException.tooLarge("the patch took more than " + deadline.length().toMillis()
            + " ms to apply, up to " + op.where() + "; nothing was changed: send fewer operations, or paths that"
            + " name elements rather than search the whole resource");
      }
      try {
        p.run(op);
      } catch (FhirException e) {
        throw op.refused(e.getMessage());
      }
    }
    return p.doc;
  }

  /** {@code resource} as FHIR JSON; 400 when HAPI will not write it (an extension with a value and extensions). */
  private static String encoded(FhirCodec codec, Resource resource) {
    try {
      return codec.encode(resource, FhirFormat.JSON, false);
    } catch (DataFormatException e) {
      throw FhirException.badRequest("it cannot be written as FHIR: " + FhirCodec.clean(e.getMessage()));
    }
  }

  /**
   * {@code invalid}, the refusal of the patched resource, naming the operation that made it
   * invalid: one after which the resource no longer parses while it did before. The operations
   * are bisected, each probe applying a first part of them to a fresh copy, so that finding it
   * costs a few encodings and parses, not one per operation.
   */
  private static FhirException culprit(FhirCodec codec, Tools tools, Resource current, List<Operation> operations,
      FhirException invalid, Budget deadline) {
    if (operations.isEmpty()) {
      return invalid;
    }
    int parses = 0;
    int fails = operations.size();
    FhirException failure = invalid;
    while (fails - parses > 1) {
      int mid = (parses + fails) >>> 1;
      try {
        codec.parse(encoded(codec, applied(tools, current, operations.subList(0, mid), deadline)), FhirFormat.JSON);
        parses = mid;
      } catch (FhirException e) {
        fails = mid;
        failure = e;
      }
    }
    Operation op = operations.get(fails - 1);
    String label = op.where() + " (" + op.type() + " " + QueryLimits.shorten(op.path()) + ") makes the resource"
        + " invalid: ";
    List<FhirException.Issue> issues = failure.issues().stream().map(i -> new FhirException.Issue(i.severity(),
        i.type(), label + i.diagnostics(), i.expression())).toList();
    return new FhirException(failure.kind(), issues, failure.headers(), failure);
  }

  /** The operations of {@code patch}, each checked for the parts its type takes before any applies. */
  private static List<Operation> operations(Parameters patch) {
    List<ParametersParameterComponent> params = patch.getParameter();
    if (params.size() > ResourcePatch.MAX_OPERATIONS) {
      throw FhirException.tooLarge("the patch has " + params.size() + " operations; a patch has at most "
          + ResourcePatch.MAX_OPERATIONS);
    }
    List<Operation> out = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      ParametersParameterComponent p = params.get(i);
      String where = "Parameters.parameter[" + i + "]";
      if (!"operation".equals(p.getName()) || p.getValue() != null || p.hasResource()) {
        throw FhirException.badRequest(where + " is not an operation: a FHIRPath Patch has only parameters named"
            + " 'operation', each made of parts (FHIR R4 fhirpatch.html)", where);
      }
      Map<String, ParametersParameterComponent> parts = new HashMap<>();
      for (ParametersParameterComponent part : p.getPart()) {
        if (parts.put(part.getName(), part) != null) {
          throw FhirException.badRequest(where + " has two '" + part.getName() + "' parts", where);
        }
      }
      String type = parts.containsKey("type") ? text(parts.get("type"), where) : null;
      List<String> takes = type == null ? null : PARTS.get(type);
      if (takes == null) {
        throw FhirException.badRequest(where + ": '" + type + "' is not an operation type of FHIRPath Patch"
            + " (add, insert, delete, replace or move)", where);
      }
      for (String name : parts.keySet()) {
        if (!takes.contains(name)) {
          throw FhirException.badRequest(where + ": a " + type + " operation takes the parts " + takes + ", not '"
              + name + "'", where);
        }
      }
      for (String name : takes) {
        if (!parts.containsKey(name)) {
          throw FhirException.badRequest(where + ": a " + type + " operation needs a '" + name + "' part", where);
        }
      }
      out.add(new Operation(i, type, text(parts.get("path"), where), text(parts.get("name"), where),
          parts.get("value"), integer(parts.get("index"), where), integer(parts.get("source"), where),
          integer(parts.get("destination"), where)));
    }
    return out;
  }

  private static String text(ParametersParameterComponent part, String where) {
    if (part == null) {
      return null;
    }
    if (!(part.getValue() instanceof PrimitiveType<?> v) || v.getValueAsString() == null) {
      throw FhirException.badRequest(where + ": its '" + part.getName() + "' part needs a value (valueString,"
          + " valueCode for type)", where);
    }
    return v.getValueAsString();
  }

  private static Integer integer(ParametersParameterComponent part, String where) {
    if (part == null) {
      return null;
    }
    if (!(part.getValue() instanceof IntegerType v) || v.getValue() == null) {
      throw FhirException.badRequest(where + ": its '" + part.getName() + "' part needs a valueInteger", where);
    }
    return v.getValue();
  }

  private void run(Operation op) {
    switch (op.type()) {
      case "add" -> add(op);
      case "insert" -> insert(op);
      case "delete" -> delete(op);
      case "replace" -> replace(op);
      default -> move(op);
    }
  }

  /** add: {@code name} with {@code value} into the one element the path selects. */
  private void add(Operation op) {
    Base target = one(select(op.path()), "add");
    ElementSlots.Slot slot = slots.child(target, op.name());
    if (!slot.repeats() && slot.isSet()) {
      throw FhirException.badRequest("the element already has a '" + op.name() + "'; add sets an element that"
          + " is empty or repeats (use replace)");
    }
    slot.add(slots.value(slot, op.value()));
  }

  private void insert(Operation op) {
    ElementSlots.Slot list = list(op);
    List<IBase> items = list.values();
    if (op.at() < 0 || op.at() > items.size()) {
      throw FhirException.badRequest("index " + op.at() + " is outside the list; insert takes 0 to " + items.size());
    }
    items.add(op.at(), slots.value(list, op.value()));
    list.write(items);
  }

  /** delete: the one element the path selects; none is no error (fhirpatch.html: "if found"). */
  private void delete(Operation op) {
    List<Base> found = select(op.path());
    if (found.isEmpty()) {
      return;
    }
    if (found.size() > 1) {
      throw FhirException.badRequest("the path selects " + found.size() + " elements; delete removes one");
    }
    ElementSlots.Slot slot = holder(op.path(), found.get(0));
    List<IBase> items = slot.values();
    items.removeIf(v -> v == found.get(0));
    slot.write(items);
  }

  private void replace(Operation op) {
    Base old = one(select(op.path()), "replace");
    ElementSlots.Slot slot = holder(op.path(), old);
    IBase value = slots.value(slot, op.value());
    keepAbout(old, value);
    List<IBase> items = slot.values();
    for (int i = 0; i < items.size(); i++) {
      if (items.get(i) == old) {
        items.set(i, value);
      }
    }
    slot.write(items);
  }

  /**
   * Gives {@code value}, a primitive replacing the primitive {@code old} of the same type, the id
   * and extensions of {@code old} when it has none of its own. In FHIR JSON a primitive's value and
   * its extensions are two properties ({@code birthDate}, {@code _birthDate}; R4 json.html#primitive)
   * and fhirpatch.html's replace names the element whose value changes: an extension that says
   * something about the element (where a date came from, that it is approximate) stays with it,
   * as HAPI's own FhirPatch keeps it by setting the new value into the old primitive. A value that
   * brings an id or extensions replaces the old one whole, so a client can still drop them.
   */
  private static void keepAbout(Base old, IBase value) {
    if (old instanceof PrimitiveType<?> before && value instanceof PrimitiveType<?> after
        && before.fhirType().equals(after.fhirType()) && !after.hasId() && !after.hasExtension()) {
      after.setId(before.getId());
      after.getExtension().addAll(before.getExtension());
    }
  }

  private void move(Operation op) {
    ElementSlots.Slot list = list(op);
    List<IBase> items = list.values();
    for (int i : new int[] {op.source(), op.destination()}) {
      if (i < 0 || i >= items.size()) {
        throw FhirException.badRequest("index " + i + " is outside the list of " + items.size() + " elements");
      }
    }
    items.add(op.destination(), items.remove((int) op.source()));
    list.write(items);
  }

  /**
   * The list insert and move name: the path's last step is the list's element name, and the steps
   * before select the one element that holds it (all of the resource when there are none), so an
   * empty list can be named too.
   */
  private ElementSlots.Slot list(Operation op) {
    List<ExpressionNode> steps = steps(op.path());
    ExpressionNode last = steps.get(steps.size() - 1);
    if (steps.stream().anyMatch(n -> n.getOperation() != null) || last.getKind() != ExpressionNode.Kind.Name) {
      throw FhirException.badRequest("the path names no list; " + op.type() + " takes the path of a list whose"
          + " last step is its name, as Patient.identifier");
    }
    Base parent = steps.size() == 1 ? doc : one(before(steps, steps.size() - 1), op.type());
    ElementSlots.Slot slot = slots.child(parent, last.getName());
    if (!slot.repeats()) {
      throw FhirException.badRequest("'" + slot.name() + "' does not repeat; " + op.type() + " works on a list");
    }
    return slot;
  }

  /** The slot that holds {@code element}, which {@code path} selected; 400 when none of the resource's does. */
  private ElementSlots.Slot holder(String path, Base element) {
    ElementSlots.Slot slot = element == doc ? null : near(path, element);
    if (slot == null && element != doc) {
      slot = slots.holding(doc, element);
    }
    if (slot == null && element instanceof IdType) {
      // HAPI's FHIRPath gives a resource's id as a new value, not the element itself
      throw FhirException.badRequest("the path selects a resource's id; a patch may not change the resource's type"
          + " or id");
    }
    if (slot == null) {
      throw FhirException.badRequest(element == doc ? "the path selects the resource itself, not one of its elements"
          : "the path selects a value the expression computes, not an element of the resource");
    }
    return slot;
  }

  /**
   * The slot holding {@code element} found from the path's own steps, without searching the whole
   * resource: when the path ends in an element's name, perhaps narrowed by {@code where()},
   * {@code [n]}, {@code first()}, {@code last()} or {@code single()}, the element is held under that
   * name by one of the elements the steps before it select. Null when the path does not end so.
   */
  private ElementSlots.Slot near(String path, Base element) {
    List<ExpressionNode> steps = steps(path);
    int name = steps.size() - 1;
    while (name > 0 && steps.get(name).getKind() == ExpressionNode.Kind.Function
        && SUBSETS.contains(steps.get(name).getFunction())) {
      name--;
    }
    if (steps.get(name).getKind() != ExpressionNode.Kind.Name
        || steps.stream().anyMatch(n -> n.getOperation() != null)) {
      return null;
    }
    String child = steps.get(name).getName();
    for (Base parent : name == 0 ? List.of((Base) doc) : before(steps, name)) {
      if (parent instanceof PrimitiveType<?> && !"extension".equals(child)) {
        continue;
      }
      ElementSlots.Slot slot;
      try {
        slot = slots.child(parent, child);
      } catch (FhirException e) {
        continue; // a type name (Patient.name: "Patient"), not an element
      }
      for (IBase v : slot.values()) {
        if (v == element) {
          return slot;
        }
      }
    }
    return null;
  }

  /** The steps of {@code path}, freshly parsed: each node is one step, its inner node the next. */
  private List<ExpressionNode> steps(String path) {
    List<ExpressionNode> steps = new ArrayList<>();
    for (ExpressionNode n = parse(path); n != null; n = n.getInner()) {
      steps.add(n);
    }
    return steps;
  }

  /** What the first {@code count} of {@code steps} select (the steps are cut there). */
  private List<Base> before(List<ExpressionNode> steps, int count) {
    steps.get(count - 1).setInner(null);
    return evaluate(steps.get(0));
  }

  private static Base one(List<Base> found, String type) {
    if (found.size() != 1) {
      throw FhirException.badRequest("the path selects " + (found.isEmpty() ? "no element" : found.size()
          + " elements") + "; " + type + " needs exactly one");
    }
    return found.get(0);
  }

  private List<Base> select(String path) {
    return evaluate(parse(path));
  }

  private ExpressionNode parse(String path) {
    FhirPathLimits.requireShort(path);
    ExpressionNode parsed;
    try {
      parsed = engine.parse(path);
    } catch (FHIRException e) {
      throw FhirException.badRequest("the path is not a FHIRPath expression: " + e.getMessage());
    } catch (IndexOutOfBoundsException | NumberFormatException e) {
      // HAPI's lexer reads a \\u escape's four hex digits without checking they are there and hex
      throw FhirException.badRequest("the path is not a FHIRPath expression: a \\u escape needs four hex digits");
    }
    FhirPathLimits.requireBounded(parsed);
    return parsed;
  }

  /**
   * What {@code path} selects in the resource. Any failure of the engine is the path's: HAPI's
   * engine answers some paths it cannot evaluate with a runtime exception ({@code name[-1]}).
   */
  private List<Base> evaluate(ExpressionNode path) {
    try {
      return engine.evaluate(doc, path);
    } catch (RuntimeException e) {
      throw FhirException.badRequest("the path cannot be evaluated: "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : FhirCodec.clean(e.getMessage())));
    }
  }

  /** A validation support with no definitions at all, whatever is on the class path. */
  private static final class NoDefinitions implements IValidationSupport {
    private final FhirContext ctx;

    NoDefinitions(FhirContext ctx) {
      this.ctx = ctx;
    }

    @Override
    public FhirContext getFhirContext() {
      return ctx;
    }

    @Override
    public List<IBaseResource> fetchAllConformanceResources() {
      return new ArrayList<>();
    }

    @Override
    public <T extends IBaseResource> List<T> fetchAllStructureDefinitions() {
      return new ArrayList<>();
    }
  }
}
