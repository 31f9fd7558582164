package org.fhirbox.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.fhirbox.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the README's curl walkthrough, exactly as written there, against a real server. */
class ReadmeWalkthroughTest {
  @TempDir
  Path work;

  static String walkthrough() throws Exception {
    String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
    int start = readme.indexOf("<!-- walkthrough:start -->");
    int end = readme.indexOf("<!-- walkthrough:end -->");
    assertThat(start).as("README has the walkthrough markers").isGreaterThanOrEqualTo(0);
    String block = readme.substring(start, end);
    return block.substring(block.indexOf("```bash") + "```bash".length(), block.lastIndexOf("```"));
  }

  @Test
  void readmeWalkthroughRunsAgainstARealServer() throws Exception {
    BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < 64; x++) {
      for (int y = 0; y < 48; y++) {
        img.setRGB(x, y, (x * 4) << 16 | (y * 5) << 8 | 128);
      }
    }
    ImageIO.write(img, "jpg", work.resolve("photo.jpg").toFile());
    Files.writeString(work.resolve("walkthrough.sh"), walkthrough());
    try (TestServer server = TestServer.start()) {
      ProcessBuilder pb = new ProcessBuilder("bash", "walkthrough.sh").directory(work.toFile())
          .redirectErrorStream(true);
      pb.environment().put("FHIRBOX_SERVER", server.baseUrl().replaceAll("/$", ""));
      pb.environment().put("FHIRBOX_CLIENT_ID", TestServer.ADMIN_ID);
      pb.environment().put("FHIRBOX_CLIENT_SECRET", TestServer.ADMIN_SECRET);
      Process p = pb.start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(output).isZero();
      assertThat(output).contains("signed photo URL: " + server.baseUrl() + "storage/");
      assertThat(Files.mismatch(work.resolve("photo.jpg"), work.resolve("photo-copy.jpg"))).isEqualTo(-1);
    }
  }
}
