package org.fhirbox.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.logging.Level;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A browser test class's {@link Chromium} and, when it has pages of its own, the second origin
 * ({@link PageServer}) that serves them. Register it on a static field; it starts before the
 * class's {@code @BeforeAll} methods and stops after its {@code @AfterAll} methods:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final BrowserFixture browser = BrowserFixture.chromium()
 *     .servingPages(() -> Map.of("/index.html", html));
 * ...
 * browser.driver().get(browser.pageOrigin() + "/index.html");
 * }</pre>
 */
public final class BrowserFixture implements BeforeAllCallback, AfterAllCallback {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The page server's files, path to bytes; read once the class starts (they may need a download first). */
  @FunctionalInterface
  public interface Pages {
    Map<String, byte[]> files() throws Exception;
  }

  /**
   * Held by a browser test class from start to end: the slow tier runs its classes in two JVMs,
   * and two Chromiums at once, with their servers, would starve each other on two cores (pages
   * whose timing a test meets, such as an upload still running when Pause is pressed).
   */
  private static final Path ONE_AT_A_TIME = Path.of("target", "browser-classes.lock");

  /**
   * How often a wait for the page ({@link #waitUpTo}) looks again. Selenium's own interval, 500 ms,
   * adds a quarter of a second on average to every wait for something not there yet, hundreds of
   * times a run; a look costs a few milliseconds.
   */
  public static final Duration POLL = Duration.ofMillis(50);

  private final Consumer<ChromeOptions> options;
  private final Pages pages;
  private Chromium chromium;
  private PageServer pageServer;
  private FileChannel lockFile;
  private FileLock lock;

  private BrowserFixture(Consumer<ChromeOptions> options, Pages pages) {
    this.options = options;
    this.pages = pages;
  }

  /** Chromium as {@link Chromium} starts it, and no page server. */
  public static BrowserFixture chromium() {
    return chromium(options -> { });
  }

  /** Chromium with {@code options} added to {@link Chromium}'s own, and no page server. */
  public static BrowserFixture chromium(Consumer<ChromeOptions> options) {
    return new BrowserFixture(options, null);
  }

  /**
   * The same browser with a page server for {@code pages}. The map is read on every request, so
   * a test may pass a concurrent map and add pages as it goes.
   */
  public BrowserFixture servingPages(Pages pages) {
    return new BrowserFixture(options, pages);
  }

  /**
   * Media play without a gesture, and chromedriver keeps the network events (for
   * {@link #responsesReceived}) and the console messages.
   */
  public static void autoplayAndLogs(ChromeOptions options) {
    options.addArguments("--autoplay-policy=no-user-gesture-required");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.PERFORMANCE, Level.ALL);
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    options.setExperimentalOption("perfLoggingPrefs", Map.of("enableNetwork", true, "enablePage", false));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Files.createDirectories(ONE_AT_A_TIME.toAbsolutePath().getParent());
    lockFile = FileChannel.open(ONE_AT_A_TIME, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    lock = lockFile.lock(); // waits while the other JVM's browser class runs
    chromium = Chromium.start(options);
    if (pages != null) {
      pageServer = PageServer.start(pages.files());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    try {
      if (chromium != null) {
        chromium.close();
      }
    } finally {
      try {
        if (pageServer != null) {
          pageServer.close();
        }
      } finally {
        if (lockFile != null) {
          lockFile.close(); // releases the lock
        }
      }
    }
  }

  /** A wait of up to {@code seconds} that looks every {@link #POLL}. */
  public static WebDriverWait waitUpTo(WebDriver driver, long seconds) {
    return new WebDriverWait(driver, Duration.ofSeconds(seconds), POLL);
  }

  public ChromeDriver driver() {
    return chromium.driver();
  }

  /** The page server's {@code http://127.0.0.1:<port>}, without a trailing slash. */
  public String pageOrigin() {
    return pageServer.origin();
  }

  /**
   * A blank page, no cookies, no throttled or cut network, and no network events from before:
   * what a test finds when an earlier one in the class failed halfway.
   */
  public void reset() {
    ChromeDriver driver = driver();
    try {
      driver.deleteNetworkConditions();
    } catch (WebDriverException noneWereSet) {
      // nothing throttled or cut the network
    }
    driver.manage().deleteAllCookies();
    driver.get("about:blank");
    forgetNetworkEvents();
  }

  /** chromedriver hands out each performance-log entry once: this drains what earlier tests left. */
  public void forgetNetworkEvents() {
    driver().manage().logs().get(LogType.PERFORMANCE);
  }

  /**
   * The {@code Network.responseReceived} responses since the last call whose URL starts with
   * {@code urlPrefix}, from Chrome's performance log ({@link #autoplayAndLogs} enables it).
   */
  public List<JsonNode> responsesReceived(String urlPrefix) throws IOException {
    List<JsonNode> responses = new ArrayList<>();
    for (LogEntry entry : driver().manage().logs().get(LogType.PERFORMANCE)) {
      JsonNode message = JSON.readTree(entry.getMessage()).path("message");
      JsonNode response = message.path("params").path("response");
      if (message.path("method").asText().equals("Network.responseReceived")
          && response.path("url").asText().startsWith(urlPrefix)) {
        responses.add(response);
      }
    }
    return responses;
  }
}
