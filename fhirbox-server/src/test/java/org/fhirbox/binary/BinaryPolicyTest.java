package org.fhirbox.binary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.fhirbox.core.FhirException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The file name deny list judges names as the downloader's file system will save them. */
class BinaryPolicyTest {
  private static final BinaryPolicy POLICY = new BinaryPolicy(1 << 20, Set.of("application/x-msdownload"),
      Set.of("exe", "bat", ".PS1"));

  @ParameterizedTest
  @ValueSource(strings = {"a.exe", "A.EXE", "a.Exe", "a.exe.", "a.exe...", "a.exe ", "a.exe . .", "a.exe\t",
      "a.exe\u00a0", "a.exe::$DATA", "a.exe:$DATA", "a.exe:Zone.Identifier", "a.txt:evil.exe", "a.ex\u200be",
      "a.e\u0000xe", "a.exe\u0000.txt", "a.exe\r\n", "dir/a.exe.", "dir\\a.exe ", "C:\\temp\\a.bat", "b.ps1",
      "a.\u202eexe"})
  void namesThatAreSavedWithADeniedExtensionAreRefused(String name) {
    assertThatThrownBy(() -> POLICY.check("application/octet-stream", name))
        .isInstanceOfSatisfying(FhirException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.getMessage()).contains("are not accepted", "executable content");
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"a.pdf", "a.exe.pdf", "exe", "a.exe/", "a.exe/scan.pdf", "report.exe-notes.txt", "a.executable",
      "a..", "...", " "})
  void otherNamesPass(String name) {
    assertThatCode(() -> POLICY.check("application/pdf", name)).doesNotThrowAnyException();
  }

  @Test
  void theDiagnosticsSayWhatTheNameIsSavedAs() {
    assertThatThrownBy(() -> POLICY.checkFilename("setup.exe. "))
        .hasMessageContaining("'.exe'").hasMessageContaining("saved as 'setup.exe'");
  }

  @Test
  void deniedTypesAreStillRefused() {
    assertThatThrownBy(() -> POLICY.check("Application/X-MSDownload; charset=x", null))
        .hasMessageContaining("application/x-msdownload");
  }
}
