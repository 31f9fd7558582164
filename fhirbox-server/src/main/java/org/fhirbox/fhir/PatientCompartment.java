package org.fhirbox.fhir;

import ca.uhn.fhir.context.RuntimeSearchParam;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.fhirbox.auth.AccessPolicy;
import org.fhirbox.auth.AccessPolicy.Interaction;
import org.fhirbox.auth.Principal;
import org.fhirbox.core.FhirException;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.db.SearchValue;
import org.fhirbox.model.BinaryContent;
import org.fhirbox.model.StoredResource;
import org.hl7.fhir.r4.model.Resource;

/**
 * The FHIR R4 Patient compartment (CompartmentDefinition {@code patient}, compartmentdefinition-patient.html)
 * and what it means for a caller whose SMART {@code patient/} scopes limit an interaction to its
 * launch patient's compartment ({@link AccessPolicy#limitedToPatient}).
 *
 * <p>Membership is HAPI's R4 definition, not a hand-made list: a resource of type T is in
 * {@code Patient/X}'s compartment when one of T's search parameters that
 * {@linkplain RuntimeSearchParam#getProvidesMembershipInCompartments() provide membership} in
 * the Patient compartment names {@code Patient/X} ({@code Observation.subject},
 * {@code Observation.performer}, ...), and {@code Patient/X} is in its own. The parameters are
 * judged on a resource's content, version by version ({@link #contains(Resource, String)}), or
 * on the search index for the current version ({@link #criterion}): both are the
 * {@link SearchIndexer}'s extraction, so they agree. Only a local reference names {@code Patient/X}:
 * {@code Patient/X} itself or a URL of it on the server's own base; an absolute reference to
 * another server ({@code https://ehr.example/fhir/Patient/X}) names that server's patient, another
 * person, and places nothing in this server's {@code Patient/X} compartment ({@link References}).
 * A type with no such parameter (Practitioner,
 * Organization, Medication, ...) is outside every Patient compartment.
 *
 * <p>Binary is not in the R4 compartment; a Binary is in a patient's compartment when its
 * {@code securityContext} is, or, without one, when an Attachment of a current resource in the
 * compartment names it ({@link #containsBinary}).
 */
public final class PatientCompartment {
  private static final String PATIENT = "Patient";
  private static final String BINARY = "Binary";
  /** The parameters that say whose a resource is, where they place its type in the compartment. */
  private static final List<String> OWNER_PARAMS = List.of("patient", "subject");

  private final FhirCodec codec;
  private final SearchIndexer indexer;
  private final CompartmentDefinitions definitions;
  private volatile List<String> memberTypes;

  public PatientCompartment(FhirCodec codec, SearchIndexer indexer) {
    this.codec = codec;
    this.indexer = indexer;
    this.definitions = new CompartmentDefinitions(codec, indexer);
  }

  /** Every R4 compartment, as compartment searches use them; the Patient one is this class's. */
  public CompartmentDefinitions definitions() {
    return definitions;
  }

  /** The parameters that place a {@code type} in a Patient's compartment; empty for a type outside it. */
  public List<String> params(String type) {
    return definitions.params(PATIENT, type);
  }

  /** Whether resources of {@code type} can be in a Patient compartment (Patient itself is). */
  public boolean isMember(String type) {
    return !params(type).isEmpty();
  }

  /**
   * Every member type, sorted. Built on first use, not at start: it reads HAPI's definition of
   * every resource type, which costs a few seconds of CPU and about 20 MB once per process, and only
   * a caller with {@code patient/} scopes needs it (for a Binary named by Attachments, and system history).
   */
  public List<String> memberTypes() {
    List<String> types = memberTypes;
    if (types == null) {
      synchronized (this) {
        if (memberTypes == null) {
          memberTypes = codec.context().getResourceTypes().stream().filter(this::isMember).sorted().toList();
        }
        types = memberTypes;
      }
    }
    return types;
  }

  /** Whether only a {@code patient/} grant lets the caller do {@code interaction} on {@code type}. */
  public boolean limited(Principal principal, String type, Interaction interaction) {
    return principal.access().limitedToPatient(type, interaction);
  }

  /**
   * The patient whose compartment limits {@code interaction} on {@code type}, or empty when a
   * wider grant covers it. 403 when the token has {@code patient/} scopes but no patient context,
   * and, unless {@code type} is Binary (see {@link #containsBinary}), when {@code type} is outside
   * the Patient compartment: no resource of it is any patient's.
   */
  public Optional<String> limit(Principal principal, String type, Interaction interaction) {
    if (!limited(principal, type, interaction)) {
      return Optional.empty();
    }
    String patient = requirePatient(principal);
    if (!type.equals(BINARY) && !isMember(type)) {
      throw FhirException.forbidden(type + " is outside the Patient compartment, to which the access token's"
          + " patient/ scopes limit " + interaction.name().toLowerCase(Locale.ROOT));
    }
    return Optional.of(patient);
  }

  /** The token's launch patient; 403 when it has none. */
  public String requirePatient(Principal principal) {
    return principal.patient().orElseThrow(() -> FhirException.forbidden("the access token's patient/ scopes need"
        + " a patient context (SMART launch/patient), and it has none"));
  }

  /**
   * Whether a search (or a chain or {@code _has} through it) may reach {@code type}: everything when
   * the caller's grant is wider than {@code patient/}, else only a member type with a patient context.
   */
  public boolean mayReach(Principal principal, String type, Interaction interaction) {
    return !limited(principal, type, interaction)
        || (principal.patient().isPresent() && isMember(type) && !type.equals(BINARY));
  }

  /** The criterion that keeps a search of member {@code type} inside {@code Patient/{patient}}'s compartment. */
  public SearchClause criterion(String type, String patient) {
    if (!isMember(type)) {
      return new SearchClause.Ids(List.of()); // matches nothing
    }
    return new SearchClause.Compartment(params(type), PATIENT + "/" + patient,
        type.equals(PATIENT) ? patient : null);
  }

  /**
   * The extra criteria of a search of {@code type} for this caller: none when its grant is wider,
   * the compartment otherwise (nothing at all without a patient context).
   */
  public List<SearchClause> criteria(Principal principal, String type, Interaction interaction) {
    if (!limited(principal, type, interaction)) {
      return List.of();
    }
    return List.of(principal.patient().map(p -> criterion(type, p)).orElse(new SearchClause.Ids(List.of())));
  }

  /**
   * {@code query} with the caller's compartment as one more criterion, where its search of the
   * query's type is limited ({@link #criteria}).
   */
  public SearchQuery confine(Principal principal, SearchQuery query) {
    List<SearchClause> extra = criteria(principal, query.type(), Interaction.SEARCH);
    return extra.isEmpty() ? query : query.and(extra);
  }

  /**
   * 403 when the caller's search of {@code type} is limited to a patient and {@code type} is
   * Binary, which is in no compartment: a patient's Binaries are reached through what names them.
   */
  public void requireSearchable(Principal principal, String type) {
    limit(principal, type, Interaction.SEARCH).filter(p -> type.equals(BINARY)).ifPresent(p -> {
      throw FhirException.forbidden("Binary is outside the Patient compartment, to which the access token's"
          + " patient/ scopes limit search; read a patient's Binaries through the resources that name them");
    });
  }

  /** Whether {@code resource}, as written or read, is in {@code Patient/{patient}}'s compartment. */
  public boolean contains(Resource resource, String patient) {
    String type = resource.fhirType();
    if (type.equals(PATIENT) && patient.equals(resource.getIdElement().getIdPart())) {
      return true;
    }
    if (!isMember(type)) {
      return false;
    }
    String reference = PATIENT + "/" + patient;
    for (SearchValue v : indexer.extract(resource, Set.copyOf(params(type)))) {
      if (reference.equals(v.code())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code resource}, as written under a patient limit, is {@code Patient/{patient}}'s: in
   * the compartment ({@link #contains(Resource, String)}), and, where its type's {@code patient} or
   * {@code subject} parameter provides membership and the resource sets it, every reference there
   * names that patient. Another membership field (a performer, an author) naming the patient does
   * not make a resource about someone else the patient's to write; a type without such a field is
   * judged by membership alone.
   */
  public boolean belongsTo(Resource resource, String patient) {
    if (!contains(resource, patient)) {
      return false;
    }
    String reference = PATIENT + "/" + patient;
    List<String> members = params(resource.fhirType());
    for (String owner : OWNER_PARAMS) {
      if (members.contains(owner)
          && !indexer.extract(resource, Set.of(owner)).stream().allMatch(v -> reference.equals(v.code()))) {
        return false;
      }
    }
    return true;
  }

  /**
   * 403 when the current {@code type/id}, found in {@code patient}'s compartment, is not that
   * patient's own ({@link #belongsTo}): its {@code subject} or {@code patient} names another patient,
   * and only another membership field (a performer, an author) names this one. The patient's app
   * reads such a record, but an update or delete of it would rewrite, take over or remove another
   * patient's record: the test a write under the limit passes after it, applied to what it replaces.
   * A Patient is judged by {@link #requireVisible} alone (its own record, or one whose {@code link}
   * names it); a Binary by the record it belongs to ({@link #ownsBinary}).
   */
  public void requireOwnToChange(ResourceStore.Tx tx, String project, String patient, String type, String id,
      Interaction interaction) {
    if (type.equals(PATIENT)) {
      return;
    }
    Optional<StoredResource> stored = tx.current(project, type, id, false).filter(s -> !s.deleted());
    boolean own = type.equals(BINARY)
        ? stored.flatMap(s -> tx.binaryContent(project, id, s.versionId())).map(c -> ownsBinary(tx, c, patient))
            .orElse(true)
        : stored.flatMap(s -> codec.tryFromJson(s.json())).map(r -> belongsTo(r, patient)).orElse(true);
    if (!own) {
      throw FhirException.forbidden(type + "/" + id + " is about another patient (its subject or patient names one"
          + " other than Patient/" + patient + "): the access token's patient/ scopes limit "
          + (interaction == Interaction.DELETE ? "deletes" : "changes") + " to that patient's own records");
    }
  }

  /**
   * Whether a Binary version is {@code patient}'s own to change: its securityContext is a current
   * resource that is ({@link #ownsCurrent}), or, without one, a current resource that is attaches it.
   * {@link #containsBinary} alone also admits a Binary of a record about another patient that names
   * this one as a performer or author, which the patient's app may read but not replace, delete or
   * attach to a record of its own (which would then make it the patient's).
   */
  public boolean ownsBinary(ResourceStore.Tx tx, BinaryContent content, String patient) {
    return binaryJudgedBy(tx, content, patient, this::ownsCurrent);
  }

  /**
   * Whether the current {@code type/id} is in the compartment and, but for a Patient, {@link #belongsTo}
   * it: a record a Binary written under the patient limit may be filed under as its securityContext.
   */
  public boolean ownsCurrent(ResourceStore.Tx tx, String project, String type, String id, String patient) {
    if (!containsCurrent(tx, project, type, id, patient)) {
      return false;
    }
    return type.equals(PATIENT) || tx.current(project, type, id, false).filter(s -> !s.deleted())
        .flatMap(s -> codec.tryFromJson(s.json())).map(r -> belongsTo(r, patient)).orElse(false);
  }

  /**
   * The patients ({@code Patient/id}) whose compartments the membership parameters of
   * {@code resource}, as written or read, name; empty for a type outside the compartment.
   */
  public Set<String> patientsNamed(Resource resource) {
    String type = resource.fhirType();
    Set<String> out = new TreeSet<>();
    if (!isMember(type)) {
      return out;
    }
    for (SearchValue v : indexer.extract(resource, Set.copyOf(params(type)))) {
      if (v.code() != null && v.code().startsWith(PATIENT + "/")) {
        out.add(v.code());
      }
    }
    return out;
  }

  /**
   * Whether the stored version {@code s} is in the compartment, judged on its own content: an
   * earlier version of a resource that moved between patients stays its first patient's. A
   * deletion is judged by the version it deleted, so it tells no more than that version did; a
   * version that cannot be read back is in no compartment. A Binary version is judged by its
   * content row ({@link #containsBinary}).
   */
  public boolean contains(ResourceStore.Tx tx, StoredResource s, String patient) {
    if (s.type().equals(PATIENT) && s.id().equals(patient)) {
      return true;
    }
    if (s.type().equals(BINARY)) {
      long version = s.deleted() ? s.versionId() - 1 : s.versionId();
      return tx.binaryContent(s.project(), s.id(), version).map(c -> containsBinary(tx, c, patient)).orElse(false);
    }
    if (!isMember(s.type())) {
      return false;
    }
    if (s.deleted()) {
      return s.versionId() > 1 && tx.version(s.project(), s.type(), s.id(), s.versionId() - 1)
          .map(previous -> contains(tx, previous, patient)).orElse(false);
    }
    return codec.tryFromJson(s.json()).map(r -> contains(r, patient)).orElse(false);
  }

  /**
   * 404, worded as for a resource that does not exist, when {@code type/id} (at {@code version},
   * or its current version when null) exists but is outside {@code patient}'s compartment; nothing
   * when it does not exist, which the caller's own lookup then answers. Judged before a read tells
   * 404 from 410, so a deletion outside the compartment is not known either.
   */
  public void requireVisible(ResourceStore.Tx tx, String project, String patient, String type, String id,
      Long version) {
    ResourceIds.requireValid(id);
    Optional<StoredResource> s = version == null ? tx.current(project, type, id, false)
        : tx.version(project, type, id, version);
    if (s.isPresent() && !contains(tx, s.get(), patient)) {
      throw FhirException.notFound(type + "/" + id + (version == null ? "" : "/_history/" + version) + " is not known");
    }
  }

  /** Whether the current, not deleted {@code type/id} is in the compartment, by the search index. */
  public boolean containsCurrent(ResourceStore.Tx tx, String project, String type, String id, String patient) {
    if (type.equals(PATIENT) && id.equals(patient)) {
      return tx.current(project, type, id, false).map(r -> !r.deleted()).orElse(false);
    }
    if (!isMember(type)) {
      return false;
    }
    SearchQuery q = new SearchQuery(project, type, List.of(new SearchClause.Ids(List.of(id)), criterion(type, patient)),
        true, 1, 0);
    return !tx.ids(q).isEmpty();
  }

  /**
   * Whether a Binary version is in the compartment: its {@code securityContext} is (a current
   * resource in it), or, when it has none, a current resource in the compartment names the Binary
   * in an Attachment ({@link SearchIndexer#ATTACHED_BINARY}). A Binary with a securityContext
   * elsewhere stays out even when a resource of the compartment names it: the securityContext is
   * the Binary's own statement of whose it is (FHIR R4 binary.html#security).
   */
  public boolean containsBinary(ResourceStore.Tx tx, BinaryContent content, String patient) {
    return binaryJudgedBy(tx, content, patient, this::containsCurrent);
  }

  /** A judgement of one current resource ({@link #ownsCurrent} or {@link #containsCurrent}). */
  private interface CurrentJudge {
    boolean test(ResourceStore.Tx tx, String project, String type, String id, String patient);
  }

  /**
   * A Binary version judged by the resource that stands for it: its {@code securityContext}, or
   * without one any current resource that attaches it.
   */
  private boolean binaryJudgedBy(ResourceStore.Tx tx, BinaryContent content, String patient, CurrentJudge judge) {
    String ctx = content.securityContext();
    if (ctx != null) {
      int slash = ctx.indexOf('/');
      return slash > 0 && judge.test(tx, content.project(), ctx.substring(0, slash), ctx.substring(slash + 1),
          patient);
    }
    for (String ref : tx.namedBy(content.project(), memberTypes(), SearchIndexer.ATTACHED_BINARY,
        BINARY + "/" + content.binaryId())) {
      int slash = ref.indexOf('/');
      if (judge.test(tx, content.project(), ref.substring(0, slash), ref.substring(slash + 1), patient)) {
        return true;
      }
    }
    return false;
  }
}
