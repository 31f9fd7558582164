package org.fhirbox;

import static com.tngtech.archunit.base.DescribedPredicate.or;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package graph of the server points one way (see the README's Layout): the wiring on top,
 * then HTTP, the services, signing, the database and the blob store, and at the bottom the types
 * every layer shares. Checked on the compiled classes, so a dependency through a method's return
 * type counts as much as an import.
 */
class ArchitectureTest {
  /**
   * Every server package, top to bottom; a package may use only the packages after it. Wiring
   * ({@code app}) is used by nobody; {@code core} (the shared error type) uses no other package.
   */
  static final List<String> LAYERS = List.of(
      "app", "http", "binary", "audit", "fhir", "auth", "signing", "db", "model", "metrics", "storage", "config",
      "logging", "core");

  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    // The server's own classes only: scanning every jar on the class path for them costs half a minute.
    main = new ClassFileImporter().importPath(Path.of("target/classes"));
    assertThat(main).as("server classes under target/classes").hasSizeGreaterThan(100);
  }

  @Test
  void everyClassLivesInAKnownPackage() {
    classes().should().resideInAnyPackage(LAYERS.stream().map(p -> "org.fhirbox." + p + "..").toArray(String[]::new))
        .because("a new package needs its place in ArchitectureTest.LAYERS")
        .check(main);
  }

  @Test
  void noPackageCycle() {
    slices().matching("org.fhirbox.(*)..").should().beFreeOfCycles().check(main);
  }

  @Test
  void eachPackageUsesOnlyThePackagesBelowIt() {
    for (int i = 0; i < LAYERS.size(); i++) {
      String[] allowed = LAYERS.subList(i, LAYERS.size()).stream().map(p -> "org.fhirbox." + p + "..")
          .toArray(String[]::new);
      classes().that().resideInAPackage("org.fhirbox." + LAYERS.get(i) + "..")
          .should().onlyDependOnClassesThat(or(resideOutsideOfPackage("org.fhirbox.."), resideInAnyPackage(allowed)))
          .because(LAYERS.get(i) + " may use only " + String.join(", ", LAYERS.subList(i + 1, LAYERS.size())))
          .check(main);
    }
  }

  @Test
  void storageConfigAndCoreUseNoOtherServerPackage() {
    for (String p : List.of("storage", "config", "core")) {
      classes().that().resideInAPackage("org.fhirbox." + p + "..")
          .should().onlyDependOnClassesThat(or(resideOutsideOfPackage("org.fhirbox.."),
              resideInAnyPackage("org.fhirbox." + p + "..")))
          .check(main);
    }
  }

  @Test
  void theDatabaseKnowsNothingOfFhirOrBinaries() {
    noClasses().that().resideInAPackage("org.fhirbox.db..")
        .should().dependOnClassesThat().resideInAnyPackage("org.fhirbox.fhir..", "org.fhirbox.binary..")
        .check(main);
  }

  /**
   * HTTP maps requests to service calls: it never opens a transaction or names a query. The rows
   * the services hand back are records of the model package.
   */
  @Test
  void httpUsesNoDatabase() {
    noClasses().that().resideInAPackage("org.fhirbox.http..")
        .should().dependOnClassesThat().resideInAPackage("org.fhirbox.db..")
        .check(main);
  }

  @Test
  void nothingUsesTheWiring() {
    noClasses().that().resideOutsideOfPackage("org.fhirbox.app..")
        .should().dependOnClassesThat().resideInAPackage("org.fhirbox.app..")
        .check(main);
  }

  /** Imports show the dependencies; a fully qualified name written inline hides one. */
  @Test
  void noInlineFullyQualifiedServerNames() throws IOException {
    Pattern inline = Pattern.compile("org\\.fhirbox\\.[a-z]");
    List<String> found = new ArrayList<>();
    for (Path root : List.of(Path.of("src/main/java"), Path.of("src/test/java"))) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
          List<String> lines = Files.readAllLines(f);
          for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).strip();
            if (line.startsWith("import ") || line.startsWith("package ")) {
              continue;
            }
            Matcher m = inline.matcher(line);
            if (m.find() && !isPackageNameInAString(line)) {
              found.add(f + ":" + (n + 1) + ": " + line);
            }
          }
        }
      }
    }
    assertThat(found).as("inline org.fhirbox names").isEmpty();
  }

  /** A package name in a string (the ArchUnit patterns above) names no class. */
  private static boolean isPackageNameInAString(String line) {
    return line.contains("\"org.fhirbox.") || line.contains("\"org\\\\.fhirbox");
  }
}
