package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's {@code chromium}, headless, driven through {@code chromedriver} with a fresh profile.
 * The driver and browser paths are explicit, so Selenium Manager is never asked and nothing is
 * downloaded; a missing binary fails the test (a browser test that skips proves nothing in CI).
 * A start takes seconds: a test class gets one from {@link BrowserFixture}, and a test starts
 * another here only when it needs a second browser (a fresh profile, a phone's screen).
 */
public final class Chromium implements AutoCloseable {
  private static final Path BROWSER = Path.of(System.getProperty("fhirbox.chromium", "/usr/bin/chromium"));
  private static final Path DRIVER = Path.of(System.getProperty("fhirbox.chromedriver", "/usr/bin/chromedriver"));
  private static final String INSTALL = " `apt-get install -y --no-install-recommends chromium chromium-driver`";

  private final Path profile;
  private final ChromeDriver driver;

  private Chromium(Path profile, ChromeDriver driver) {
    this.profile = profile;
    this.driver = driver;
  }

  /** A browser with a 30 s script timeout; {@code options} adds arguments or capabilities. */
  public static Chromium start(Consumer<ChromeOptions> options) throws IOException {
    assertThat(Files.isExecutable(BROWSER)).as("Chromium not found at %s: install it with" + INSTALL, BROWSER)
        .isTrue();
    assertThat(Files.isExecutable(DRIVER)).as("chromedriver not found at %s: install it with" + INSTALL, DRIVER)
        .isTrue();
    Path profile = Files.createTempDirectory("fhirbox-chromium");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
    ChromeOptions chrome = new ChromeOptions().setBinary(BROWSER.toFile())
        .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--user-data-dir=" + profile);
    options.accept(chrome);
    ChromeDriver driver = new ChromeDriver(service, chrome);
    driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    return new Chromium(profile, driver);
  }

  public ChromeDriver driver() {
    return driver;
  }

  @Override
  public void close() throws IOException {
    try {
      driver.quit();
    } finally {
      TestServer.deleteTree(profile);
    }
  }
}
