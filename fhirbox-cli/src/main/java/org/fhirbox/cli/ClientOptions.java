package org.fhirbox.cli;

import java.net.URI;
import org.fhirbox.client.FhirboxClient;
import org.fhirbox.client.FhirboxClientBuilder;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Where the server is and who we are, shared by every client command; flags override the environment. */
final class ClientOptions {
  static final String DEFAULT_SERVER = "http://localhost:8103/";

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--server", paramLabel = "URL",
      description = "server root URL (env FHIRBOX_SERVER, default " + DEFAULT_SERVER + ")")
  String server;

  @Option(names = "--client-id", paramLabel = "ID", description = "OAuth2 client id (env FHIRBOX_CLIENT_ID)")
  String clientId;

  @Option(names = "--client-secret", paramLabel = "SECRET",
      description = "OAuth2 client secret (env FHIRBOX_CLIENT_SECRET; prefer it: flags show in ps)")
  String clientSecret;

  @Option(names = "--verbose", description = "print stack traces on errors")
  boolean verbose;

  Main main() {
    return (Main) mixee.root().userObject();
  }

  /** A client authenticating with client credentials (a cached token, fetched on first use). */
  FhirboxClient client() {
    String url = pick(server, "--server", "FHIRBOX_SERVER");
    String id = pick(clientId, "--client-id", "FHIRBOX_CLIENT_ID");
    String secret = pick(clientSecret, "--client-secret", "FHIRBOX_CLIENT_SECRET");
    if (id == null || secret == null) {
      throw new UsageException("no credentials: set FHIRBOX_CLIENT_ID and FHIRBOX_CLIENT_SECRET,"
          + " or pass --client-id and --client-secret");
    }
    return build(FhirboxClient.builder().baseUrl(serverUrl(url)).clientCredentials(id, secret));
  }

  /**
   * The server URL, default {@link #DEFAULT_SERVER}. One with {@code user:password@} is a usage
   * error that names this command's ways to give credentials (the password is never shown, nor
   * sent: RFC 9110 §4.2.4 deprecates userinfo in http(s) URIs); any other fault the SDK names.
   */
  private static String serverUrl(String url) {
    if (url == null) {
      return DEFAULT_SERVER;
    }
    URI u;
    try {
      u = URI.create(url);
    } catch (IllegalArgumentException e) {
      return url;
    }
    if (u.getRawUserInfo() != null) {
      String shown = u.getScheme() + "://…@" + u.getRawAuthority().substring(u.getRawAuthority().lastIndexOf('@') + 1)
          + (u.getRawPath() == null ? "" : u.getRawPath());
      throw new UsageException("--server or FHIRBOX_SERVER must not hold user:password, which is never sent: pass"
          + " --client-id and --client-secret, or set FHIRBOX_CLIENT_ID and FHIRBOX_CLIENT_SECRET; got '" + shown + "'");
    }
    return url;
  }

  /** The client; a server URL that is none (not absolute http or https) is a usage error. */
  private static FhirboxClient build(FhirboxClientBuilder builder) {
    try {
      return builder.build();
    } catch (IllegalArgumentException e) {
      throw new UsageException("--server or FHIRBOX_SERVER: " + e.getMessage());
    }
  }

  /**
   * A client without credentials, for URLs that carry their own authorization (signed URLs):
   * fetching one needs no client id or secret, and none is sent with it anyway.
   */
  FhirboxClient anonymousClient() {
    String url = pick(server, "--server", "FHIRBOX_SERVER");
    return build(FhirboxClient.builder().baseUrl(serverUrl(url)));
  }

  /**
   * The flag's value, else the environment's (unset or blank there counts as unset). A flag given
   * empty ({@code --server ""}, often an unset shell variable) is a usage error rather than a
   * silent fall back to the environment, which may name another server or client.
   */
  private String pick(String flag, String flagName, String envName) {
    if (flag != null) {
      if (flag.isBlank()) {
        throw new UsageException(flagName + " is empty: give a value, or leave the flag out to use " + envName);
      }
      return flag;
    }
    String value = main().env.get(envName);
    return value == null || value.isBlank() ? null : value;
  }
}
