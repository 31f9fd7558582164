package org.fhirbox.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParserErrorHandler.IParseLocation;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue.ScalarType;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue.ValueType;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.api.MethodOutcome;
import ca.uhn.fhir.rest.api.SearchTotalModeEnum;
import ca.uhn.fhir.rest.client.api.IClientInterceptor;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.IHttpRequest;
import ca.uhn.fhir.rest.client.api.IHttpResponse;
import ca.uhn.fhir.rest.client.api.ServerValidationModeEnum;
import ca.uhn.fhir.rest.client.interceptor.BearerTokenAuthInterceptor;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.fhirbox.testing.TestClient;
import org.fhirbox.testing.TestServer;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.Binary;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * HAPI FHIR's generic client (the client most Java FHIR code uses) against a real server, with
 * a bearer token from {@code /oauth2/token}, in each encoding a client may ask for. Its parser
 * reports every oddity it tolerates to an error handler; this one records them, and the tests
 * require none, save the Binary JSON's signed {@code url}, which one test pins down.
 */
class HapiGenericClientTest {
  private static final String SYSTEM = "urn:fhirbox:compat";
  /** Its own context: the parser error handler is per context, and the server shares TestServer.FHIR. */
  private static final FhirContext CTX = FhirContext.forR4();
  private static final RecordingErrorHandler PARSE_ISSUES = new RecordingErrorHandler();
  private static final List<IHttpResponse> RESPONSES = new CopyOnWriteArrayList<>();
  private static final Map<Encoding, IGenericClient> CLIENTS = new EnumMap<>(Encoding.class);
  private static TestServer server;

  /**
   * How the client is set up. Out of the box HAPI sends JSON bodies and, on reads, accepts XML
   * and JSON at equal weight (the server then answers JSON, whose Binary carries its signed url);
   * {@code setEncoding} asks for one.
   */
  enum Encoding {
    DEFAULT(null, "application/fhir+json;charset=utf-8"),
    JSON(EncodingEnum.JSON, "application/fhir+json;charset=utf-8"),
    XML(EncodingEnum.XML, "application/fhir+xml;charset=utf-8");

    final EncodingEnum hapi;
    final List<String> contentTypes;

    Encoding(EncodingEnum hapi, String... contentTypes) {
      this.hapi = hapi;
      this.contentTypes = List.of(contentTypes);
    }
  }

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start();
    CTX.setParserErrorHandler(PARSE_ISSUES);
    // The default: the client reads /metadata once, before its first request, and checks the FHIR version.
    CTX.getRestfulClientFactory().setServerValidationMode(ServerValidationModeEnum.ONCE);
    String token = accessToken();
    for (Encoding e : Encoding.values()) {
      IGenericClient c = CTX.newRestfulGenericClient(server.fhirBase());
      if (e.hapi != null) {
        c.setEncoding(e.hapi);
      }
      c.registerInterceptor(new BearerTokenAuthInterceptor(token));
      c.registerInterceptor(new IClientInterceptor() {
        @Override
        public void interceptRequest(IHttpRequest request) {}

        @Override
        public void interceptResponse(IHttpResponse response) {
          RESPONSES.add(response);
        }
      });
      CLIENTS.put(e, c);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @BeforeEach
  void clearRecords() {
    PARSE_ISSUES.issues.clear();
    RESPONSES.clear();
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void capabilityStatementParsesCleanly(Encoding encoding) {
    IGenericClient client = CLIENTS.get(encoding);
    CapabilityStatement cs = client.capabilities().ofType(CapabilityStatement.class).execute();

    assertThat(cs.getFhirVersion().toCode()).isEqualTo("4.0.1");
    assertThat(cs.getRest()).isNotEmpty();
    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void createReadUpdateVreadDeleteWithVersionedIds(Encoding encoding) {
    IGenericClient client = CLIENTS.get(encoding);
    Patient p = new Patient();
    p.addName().setFamily("Hapi").addGiven("Generic");
    p.addIdentifier().setSystem(SYSTEM).setValue("crud");

    MethodOutcome created = client.create().resource(p).execute();
    assertThat(created.getCreated()).isTrue();
    IdType id = (IdType) created.getId();
    assertThat(id.getResourceType()).isEqualTo("Patient");
    assertThat(id.getVersionIdPart()).as("Location carries the version").isEqualTo("1");
    assertThat(header("Content-Type")).isIn(encoding.contentTypes);
    assertThat(header("Location")).isEqualTo(server.fhirBase() + "/Patient/" + id.getIdPart() + "/_history/1");
    assertThat(header("ETag")).isEqualTo("W/\"1\"");
    assertThat(((Patient) created.getResource()).getNameFirstRep().getFamily()).isEqualTo("Hapi");

    Patient read = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    assertThat(read.getIdElement().getVersionIdPart()).isEqualTo("1");
    assertThat(read.getMeta().getLastUpdated()).isNotNull();

    read.setActive(true);
    MethodOutcome updated = client.update().resource(read).execute();
    assertThat(updated.getId().getVersionIdPart()).isEqualTo("2");
    assertThat(updated.getCreated()).isNotEqualTo(Boolean.TRUE);
    assertThat(header("ETag")).isEqualTo("W/\"2\"");

    // conditional read (FHIR R4 http.html#cread): the version the client holds is 304, which HAPI answers with null
    assertThat(client.read().resource(Patient.class).withId(id.getIdPart()).ifVersionMatches("2").returnNull()
        .execute()).isNull();
    assertThat(client.read().resource(Patient.class).withId(id.getIdPart()).ifVersionMatches("1").returnNull()
        .execute().getActive()).isTrue();

    Patient v1 = client.read().resource(Patient.class).withIdAndVersion(id.getIdPart(), "1").execute();
    assertThat(v1.hasActive()).isFalse();
    Patient v2 = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    assertThat(v2.getActive()).isTrue();

    Bundle history = client.history().onInstance(id.toUnqualifiedVersionless()).returnBundle(Bundle.class)
        .execute();
    assertThat(history.getType()).isEqualTo(Bundle.BundleType.HISTORY);
    assertThat(history.getEntry()).extracting(e -> e.getResource().getMeta().getVersionId())
        .containsExactly("2", "1");

    client.delete().resourceById(id.toUnqualifiedVersionless()).execute();
    assertThatThrownBy(() -> client.read().resource(Patient.class).withId(id.getIdPart()).execute())
        .isInstanceOf(ResourceGoneException.class);

    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  /** HAPI's client sends a FHIRPath Patch (R4 fhirpatch.html) in the encoding it is set to. */
  @ParameterizedTest
  @EnumSource(Encoding.class)
  void aFhirPathPatchFromTheClientApplies(Encoding encoding) {
    IGenericClient client = CLIENTS.get(encoding);
    Patient p = new Patient();
    p.addName().setFamily("Unpatched");
    IdType id = (IdType) client.create().resource(p).execute().getId();
    Parameters patch = new Parameters();
    Parameters.ParametersParameterComponent op = patch.addParameter().setName("operation");
    op.addPart().setName("type").setValue(new CodeType("replace"));
    op.addPart().setName("path").setValue(new StringType("Patient.name.family"));
    op.addPart().setName("value").setValue(new StringType("Patched"));

    MethodOutcome out = client.patch().withFhirPatch(patch).withId(id.toUnqualifiedVersionless()).execute();
    assertThat(out.getId().getVersionIdPart()).isEqualTo("2");
    assertThat(client.read().resource(Patient.class).withId(id.getIdPart()).execute().getNameFirstRep().getFamily())
        .isEqualTo("Patched");
    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void searchPagesThroughNextLinks(Encoding encoding) {
    IGenericClient client = CLIENTS.get(encoding);
    String tag = "paging-" + encoding;
    Set<String> createdIds = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      Patient p = new Patient();
      p.addIdentifier().setSystem(SYSTEM).setValue(tag);
      p.addName().setFamily("Page" + i);
      createdIds.add(client.create().resource(p).execute().getId().getIdPart());
    }

    Bundle page = client.search().forResource(Patient.class)
        .where(Patient.IDENTIFIER.exactly().systemAndCode(SYSTEM, tag))
        .count(2)
        .totalMode(SearchTotalModeEnum.ACCURATE)
        .returnBundle(Bundle.class)
        .execute();
    assertThat(page.getTotal()).isEqualTo(5);
    List<String> seen = new ArrayList<>();
    int pages = 0;
    while (true) {
      pages++;
      page.getEntry().forEach(e -> seen.add(e.getResource().getIdElement().getIdPart()));
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        break;
      }
      page = client.loadPage().next(page).execute();
    }

    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(5).containsExactlyInAnyOrderElementsOf(createdIds);
    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  /**
   * HAPI's compartment search ({@code withIdAndCompartment}, FHIR R4 http.html#search) in a
   * compartment other than the Patient one, paged through its next links.
   */
  @ParameterizedTest
  @EnumSource(Encoding.class)
  void compartmentSearchInAnEncounterPagesThroughNextLinks(Encoding encoding) {
    IGenericClient client = CLIENTS.get(encoding);
    Encounter visit = new Encounter().setStatus(Encounter.EncounterStatus.FINISHED);
    visit.getClass_().setCode("AMB");
    String visitId = client.create().resource(visit).execute().getId().getIdPart();
    Set<String> createdIds = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      Observation o = new Observation().setStatus(Observation.ObservationStatus.FINAL)
          .setEncounter(new Reference("Encounter/" + visitId));
      o.getCode().addCoding().setSystem(SYSTEM).setCode("visit-" + i);
      createdIds.add(client.create().resource(o).execute().getId().getIdPart());
    }

    Bundle page = client.search().forResource(Encounter.class).withIdAndCompartment(visitId, "Observation")
        .count(2).returnBundle(Bundle.class).execute();
    List<String> seen = new ArrayList<>();
    while (true) {
      page.getEntry().forEach(e -> seen.add(e.getResource().getIdElement().getIdPart()));
      if (page.getLink(Bundle.LINK_NEXT) == null) {
        break;
      }
      assertThat(page.getLink(Bundle.LINK_NEXT).getUrl()).contains("/Encounter/" + visitId + "/Observation?");
      page = client.loadPage().next(page).execute();
    }
    assertThat(seen).containsExactlyInAnyOrderElementsOf(createdIds);
    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(Encoding.class)
  void attachmentsComeBackWithSignedUrlsAndParseCleanly(Encoding encoding) {
    IGenericClient client = CLIENTS.get(encoding);
    // Uploaded as raw bytes (FHIR R4 binary.html#rest), the way files reach a FHIR server.
    HttpResponse<String> up = server.client().postBytes("fhir/R4/Binary", "image/png", new byte[] {1, 2, 3, 4});
    assertThat(up.statusCode()).isEqualTo(201);
    String binaryId = up.headers().firstValue("Location").orElseThrow().replaceFirst(".*/Binary/([^/]+)/.*", "$1");

    Patient p = new Patient();
    p.addPhoto(new Attachment().setContentType("image/png").setUrl("Binary/" + binaryId).setTitle("face.png"));
    IdType id = (IdType) client.create().resource(p).execute().getId();

    Patient read = client.read().resource(Patient.class).withId(id.getIdPart()).execute();
    Attachment photo = read.getPhotoFirstRep();
    assertThat(photo.getUrl()).startsWith(server.baseUrl() + "storage/" + binaryId + "/").contains("Signature=");
    assertThat(photo.getSize()).isEqualTo(4);
    assertThat(photo.getHash()).hasSize(20);

    Bundle search = client.search().forResource(Patient.class).where(Patient.RES_ID.exactly().code(id.getIdPart()))
        .returnBundle(Bundle.class).execute();
    assertThat(((Patient) search.getEntryFirstRep().getResource()).getPhotoFirstRep().getUrl())
        .contains("/storage/" + binaryId + "/");
    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  /**
   * Binary JSON carries no {@code data} (the content lives in the blob store) and a non-standard
   * {@code url}: the signed URL, as Medplum's server returns it and Medplum's client reads it.
   * HAPI's lenient parser skips that one element and reports nothing else; XML has no such
   * element. A HAPI user gets the bytes through {@code $presigned-url}, which is plain FHIR.
   */
  @ParameterizedTest
  @EnumSource(Encoding.class)
  void binaryParsesWithOnlyItsJsonSignedUrlSkippedAndPresignedUrlServesTheBytes(Encoding encoding)
      throws Exception {
    IGenericClient client = CLIENTS.get(encoding);
    HttpResponse<String> up = server.client().postBytes("fhir/R4/Binary", "text/plain",
        "hello".getBytes(StandardCharsets.UTF_8));
    String binaryId = up.headers().firstValue("Location").orElseThrow().replaceFirst(".*/Binary/([^/]+)/.*", "$1");

    Binary read = client.read().resource(Binary.class).withId(binaryId).execute();
    assertThat(header("Content-Type")).isIn(encoding.contentTypes);
    assertThat(read.getContentType()).isEqualTo("text/plain");
    assertThat(read.getIdElement().getVersionIdPart()).isEqualTo("1");
    assertThat(read.hasData()).isFalse();
    if (encoding != Encoding.XML) {
      assertThat(PARSE_ISSUES.issues).containsExactly("unknownElement: url");
      PARSE_ISSUES.issues.clear();
    }
    assertThat(PARSE_ISSUES.issues).isEmpty();

    Parameters signed = client.operation().onInstance(new IdType("Binary", binaryId)).named("$presigned-url")
        .withNoParameters(Parameters.class).useHttpGet().execute();
    String url = signed.getParameter("url").getValue().primitiveValue();
    assertThat(url).startsWith(server.baseUrl() + "storage/" + binaryId + "/");
    HttpResponse<String> bytes = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(bytes.statusCode()).isEqualTo(200);
    assertThat(bytes.body()).isEqualTo("hello");
    assertThat(PARSE_ISSUES.issues).isEmpty();
  }

  private static String header(String name) {
    IHttpResponse last = RESPONSES.get(RESPONSES.size() - 1);
    List<String> values = last.getHeaders(name);
    assertThat(values).as("response header %s", name).hasSize(1);
    return values.get(0);
  }

  private static String accessToken() throws Exception {
    String form = "grant_type=client_credentials&client_id=" + enc(TestServer.ADMIN_ID)
        + "&client_secret=" + enc(TestServer.ADMIN_SECRET);
    HttpResponse<String> r = new TestClient(server.baseUrl()).send(
        new TestClient(server.baseUrl()).request("oauth2/token")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new ObjectMapper().readTree(r.body()).path("access_token").asText();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Records every leniency HAPI's parser would otherwise only log, then behaves as the default. */
  static final class RecordingErrorHandler extends LenientErrorHandler {
    final List<String> issues = new CopyOnWriteArrayList<>();

    RecordingErrorHandler() {
      super(false);
    }

    private void record(String kind, IParseLocation loc, Object detail) {
      String where = loc == null || loc.getParentElementName() == null ? "" : " in " + loc.getParentElementName();
      issues.add(kind + where + ": " + detail);
    }

    @Override
    public void containedResourceWithNoId(IParseLocation loc) {
      record("containedResourceWithNoId", loc, "");
    }

    @Override
    public void incorrectJsonType(IParseLocation loc, String name, ValueType expected, ScalarType expectedScalar,
        ValueType found, ScalarType foundScalar) {
      record("incorrectJsonType", loc, name + " expected " + expected + " found " + found);
    }

    @Override
    public void invalidValue(IParseLocation loc, String value, String error) {
      record("invalidValue", loc, value + ": " + error);
    }

    @Override
    public void missingRequiredElement(IParseLocation loc, String name) {
      record("missingRequiredElement", loc, name);
    }

    @Override
    public void unexpectedRepeatingElement(IParseLocation loc, String name) {
      record("unexpectedRepeatingElement", loc, name);
    }

    @Override
    public void unknownAttribute(IParseLocation loc, String name) {
      record("unknownAttribute", loc, name);
    }

    @Override
    public void unknownElement(IParseLocation loc, String name) {
      record("unknownElement", loc, name);
    }

    @Override
    public void unknownReference(IParseLocation loc, String ref) {
      record("unknownReference", loc, ref);
    }

    @Override
    public void invalidInternalReference(IParseLocation loc, String ref) {
      record("invalidInternalReference", loc, ref);
    }

    @Override
    public void extensionContainsValueAndNestedExtensions(IParseLocation loc) {
      record("extensionContainsValueAndNestedExtensions", loc, "");
    }
  }
}
