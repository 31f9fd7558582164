package org.fhirbox.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.fhirbox.db.Database;
import org.fhirbox.db.JdbcResourceStore;
import org.fhirbox.db.ResourceStore;
import org.fhirbox.db.SearchClause;
import org.fhirbox.db.SearchQuery;
import org.fhirbox.db.SearchValue;
import org.fhirbox.model.StoredResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SearchReindexerTest {
  private static final FhirContext FHIR = FhirContext.forR4Cached();

  @Test
  void resourcesIndexedByAnOlderExtractorBecomeSearchableByTheNewParameters(@TempDir Path dir) {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        4)) {
      ResourceStore store = new JdbcResourceStore(db);
      SearchIndexer indexer = new SearchIndexer(FHIR);
      // As version 1 stored it: the identifier token, but neither the name nor the birth date.
      store.inTransaction(tx -> {
        tx.insert(patient("old", 1, "{\"resourceType\":\"Patient\",\"id\":\"old\",\"identifier\":[{\"value\":\"7\"}],"
            + "\"name\":[{\"family\":\"Ödegaard\"}],\"birthDate\":\"1975-02-03\"}"),
            List.of(SearchValue.token("identifier", null, "7")));
        tx.insert(patient("deleted", 1, null), List.of());
        return null;
      });
      assertThat(store.read(ResourceStore.Tx::searchIndexVersion)).isEqualTo(1);
      SearchClause byName = new SearchClause.Text(List.of("name", "family", "given"), List.of("odeg"), SearchClause.TextMatch.STARTS_WITH);
      assertThat(search(store, byName)).isEmpty();

      SearchReindexer reindexer = new SearchReindexer(store, indexer, new FhirCodec(FHIR));
      assertThat(reindexer.run()).isEqualTo(1);

      assertThat(store.read(ResourceStore.Tx::searchIndexVersion)).isEqualTo(SearchIndexer.VERSION);
      assertThat(search(store, byName)).containsExactly("old");
      long feb3 = Instant.parse("1975-02-03T00:00:00Z").toEpochMilli();
      assertThat(search(store, new SearchClause.DateRange("birthdate", feb3 - 86_400_000L, feb3 + 2 * 86_400_000L,
          true))).containsExactly("old");
      assertThat(search(store, new SearchClause.Token("identifier", List.of(new SearchClause.TokenValue(null, "7")))))
          .containsExactly("old");
      assertThat(reindexer.run()).as("an index at the current version is left alone").isZero();
    }
  }

  @Test
  void anotherServersReferenceIndexedAsTheLocalResourceIsIndexedWholeAfterTheUpgrade(@TempDir Path dir) {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        4)) {
      ResourceStore store = new JdbcResourceStore(db);
      String foreign = "https://ehr.example/fhir/Patient/123";
      // As version 6 stored it: the other server's patient taken for the local Patient/123.
      store.inTransaction(tx -> {
        tx.insert(new StoredResource("p", "Observation", "o", 1, Instant.ofEpochMilli(1000), false,
            "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"" + foreign + "\"}}"),
            List.of(SearchValue.token("subject", null, "Patient/123")));
        tx.setSearchIndexVersion(6);
        return null;
      });

      assertThat(new SearchReindexer(store, new SearchIndexer(FHIR), new FhirCodec(FHIR)).run()).isEqualTo(1);

      assertThat(subjects(store, "Patient/123")).isEmpty();
      assertThat(subjects(store, foreign)).containsExactly("o");
    }
  }

  @Test
  void referencesByIdentifierStoredBeforeVersion12BecomeSearchableByIdentifierAfterTheUpgrade(@TempDir Path dir) {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        4)) {
      ResourceStore store = new JdbcResourceStore(db);
      // As version 11 stored it: the literal reference only, not Reference.identifier.
      store.inTransaction(tx -> {
        tx.insert(new StoredResource("p", "Observation", "o", 1, Instant.ofEpochMilli(1000), false,
            "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/1\",\"identifier\":{\"system\":\"urn:mrn\",\"value\":\"4711\"}}}"),
            List.of(SearchValue.token("subject", null, "Patient/1")));
        tx.setSearchIndexVersion(11);
        return null;
      });
      SearchClause byIdentifier = new SearchClause.Token("subject:identifier",
          List.of(new SearchClause.TokenValue("urn:mrn", "4711")));
      assertThat(search(store, "Observation", byIdentifier)).isEmpty();

      assertThat(new SearchReindexer(store, new SearchIndexer(FHIR), new FhirCodec(FHIR)).run()).isEqualTo(1);

      assertThat(search(store, "Observation", byIdentifier)).containsExactly("o");
    }
  }

  @Test
  void identifierTypesStoredBeforeVersion13BecomeSearchableByOfTypeAndTextAfterTheUpgrade(@TempDir Path dir) {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        4)) {
      ResourceStore store = new JdbcResourceStore(db);
      // As version 12 stored it: the identifier's system and value, not its type.
      store.inTransaction(tx -> {
        tx.insert(patient("mr", 1, "{\"resourceType\":\"Patient\",\"id\":\"mr\",\"identifier\":[{\"type\":"
            + "{\"text\":\"Medical record\",\"coding\":[{\"system\":\"urn:types\",\"code\":\"MR\"}]},"
            + "\"system\":\"urn:mrn\",\"value\":\"7\"}]}"),
            List.of(SearchValue.token("identifier", "urn:mrn", "7")));
        tx.setSearchIndexVersion(12);
        return null;
      });
      SearchClause ofType = new SearchClause.Token("identifier:of-type",
          List.of(new SearchClause.TokenValue("urn:types", "MR|7")));
      SearchClause text = new SearchClause.Text(List.of("identifier:text"), List.of("medical"),
          SearchClause.TextMatch.STARTS_WITH);
      assertThat(search(store, ofType)).isEmpty();
      assertThat(search(store, text)).isEmpty();

      assertThat(new SearchReindexer(store, new SearchIndexer(FHIR), new FhirCodec(FHIR)).run()).isEqualTo(1);

      assertThat(search(store, ofType)).containsExactly("mr");
      assertThat(search(store, text)).containsExactly("mr");
    }
  }

  @Test
  void resourcesStoredBeforeTheCommonParametersBecomeSearchableByTagAfterTheUpgrade(@TempDir Path dir) {
    try (Database db = new Database("jdbc:h2:file:" + dir.resolve("fhirbox") + ";DB_CLOSE_ON_EXIT=FALSE", "", "",
        4)) {
      ResourceStore store = new JdbcResourceStore(db);
      // As version 9 stored it: the identifier, but nothing of meta.
      store.inTransaction(tx -> {
        tx.insert(patient("tagged", 1, "{\"resourceType\":\"Patient\",\"id\":\"tagged\",\"meta\":{\"tag\":[{\"system\":"
            + "\"urn:tags\",\"code\":\"vip\"}],\"profile\":[\"http://x.example/sd|2\"]},\"identifier\":[{\"value\":\"9\"}]}"),
            List.of(SearchValue.token("identifier", null, "9")));
        tx.setSearchIndexVersion(9);
        return null;
      });
      SearchClause byTag = new SearchClause.Token("_tag", List.of(new SearchClause.TokenValue("urn:tags", "vip")));
      assertThat(search(store, byTag)).isEmpty();

      assertThat(new SearchReindexer(store, new SearchIndexer(FHIR), new FhirCodec(FHIR)).run()).isEqualTo(1);

      assertThat(search(store, byTag)).containsExactly("tagged");
      assertThat(search(store, new SearchClause.Token("_profile",
          List.of(new SearchClause.TokenValue(null, "http://x.example/sd"))))).containsExactly("tagged");
    }
  }

  private static List<String> subjects(ResourceStore store, String reference) {
    SearchQuery q = new SearchQuery("p", "Observation", List.of(new SearchClause.Token("subject",
        List.of(new SearchClause.TokenValue(null, reference)))), true, 10, 0);
    return store.read(tx -> tx.search(q)).items().stream().map(StoredResource::id).toList();
  }

  private static StoredResource patient(String id, long version, String json) {
    return new StoredResource("p", "Patient", id, version, Instant.ofEpochMilli(1000), json == null, json);
  }

  private static List<String> search(ResourceStore store, SearchClause clause) {
    return search(store, "Patient", clause);
  }

  private static List<String> search(ResourceStore store, String type, SearchClause clause) {
    SearchQuery q = new SearchQuery("p", type, List.of(clause), true, 10, 0);
    return store.read(tx -> tx.search(q)).items().stream().map(StoredResource::id).toList();
  }
}
