package org.fhirbox.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fhirbox.auth.PasswordLinks;
import org.fhirbox.auth.User;

/**
 * A SMART app as a test plays it: registered through the admin API, it builds authorization
 * URLs with a fresh PKCE verifier and state, and calls the token endpoint as a public client
 * ({@code client_id}) or a confidential one (HTTP Basic).
 */
public final class SmartApp {
  /** The password every test user gets. */
  public static final String PASSWORD = "correct horse battery staple";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final TestServer server;
  private final String clientId;
  private final String clientSecret;
  private final String redirectUri;
  private String verifier;
  private String state;

  private SmartApp(TestServer server, String clientId, String clientSecret, String redirectUri) {
    this.server = server;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.redirectUri = redirectUri;
  }

  /** {@code POST /admin/clients} as the bootstrap admin. */
  public static SmartApp register(TestServer server, String project, String scope, boolean publicClient,
      boolean firstParty, String redirectUri) {
    return register(server, project, scope, publicClient, firstParty, redirectUri, Map.of());
  }

  /** As {@link #register(TestServer, String, String, boolean, boolean, String)}, with {@code extra} fields in the body. */
  public static SmartApp register(TestServer server, String project, String scope, boolean publicClient,
      boolean firstParty, String redirectUri, Map<String, Object> extra) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("project", project);
    body.put("scope", scope);
    body.put("public", publicClient);
    body.put("firstParty", firstParty);
    body.put("redirectUris", List.of(redirectUri));
    body.putAll(extra);
    HttpResponse<String> r = server.client().send(server.client().request("admin/clients")
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json(body))));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    JsonNode n = read(r.body());
    return new SmartApp(server, n.get("clientId").asText(),
        n.has("clientSecret") ? n.get("clientSecret").asText() : null, redirectUri);
  }

  /** A public client already registered (the web app's, say), known by its id and redirect URI. */
  public static SmartApp publicClient(TestServer server, String clientId, String redirectUri) {
    return new SmartApp(server, clientId, null, redirectUri);
  }

  /** A user with {@link #PASSWORD}, made through the server's user store. */
  public static User user(TestServer server, String project, String email, String fhirUser, String scope) {
    User u = server.server().signIn().users().create(project, email, "Test " + fhirUser, fhirUser, scope, false)
        .orElseThrow();
    // the one way a password is set: a set-password link, used at once
    String link = server.server().auth().passwordLinks().issue(u.id()).orElseThrow().token();
    assertThat(server.server().auth().passwordLinks().setPassword(link, PASSWORD))
        .isInstanceOf(PasswordLinks.PasswordSet.class);
    return server.server().signIn().users().find(u.id()).orElseThrow();
  }

  public String clientId() {
    return clientId;
  }

  public String redirectUri() {
    return redirectUri;
  }

  public String verifier() {
    return verifier;
  }

  public String state() {
    return state;
  }

  /** The authorize URL with a fresh verifier and state, and {@code extra} parameters added or replacing. */
  public String authorizeUrl(String scope, Map<String, String> extra) {
    return server.baseUrl() + "oauth2/authorize?" + FormBrowser.encode(authorizeParams(scope, extra));
  }

  /** The parameters of a SMART standalone launch: response_type, client_id, redirect_uri, scope, state, aud, PKCE S256. */
  public Map<String, String> authorizeParams(String scope, Map<String, String> extra) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    state = "state-" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).substring(0, 12);
    Map<String, String> p = new LinkedHashMap<>();
    p.put("response_type", "code");
    p.put("client_id", clientId);
    p.put("redirect_uri", redirectUri);
    p.put("scope", scope);
    p.put("state", state);
    p.put("aud", server.fhirBase());
    p.put("code_challenge", challenge(verifier));
    p.put("code_challenge_method", "S256");
    p.putAll(extra);
    p.values().removeIf(v -> v == null);
    return p;
  }

  public static String challenge(String verifier) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Opens the authorize URL in {@code browser} and signs in; returns what follows the sign-in (a page or a redirect). */
  public FormBrowser.Page signIn(FormBrowser browser, String scope, String email, Map<String, String> extra) {
    FormBrowser.Page signInPage = browser.get(authorizeUrl(scope, extra));
    assertThat(signInPage.status()).as(signInPage.body()).isEqualTo(200);
    return browser.submit(signInPage, "oauth2/signin", Map.of("email", email, "password", PASSWORD));
  }

  /** The code of a redirect back to this app, after checking that it echoes the state. */
  public String code(FormBrowser.Page redirect) {
    Map<String, String> params = redirect.redirectParams();
    assertThat(redirect.location().toString()).startsWith(redirectUri + "?");
    assertThat(params).as(params.toString()).containsEntry("state", state).containsKey("code")
        .doesNotContainKey("error");
    return params.get("code");
  }

  /** Exchanges {@code code} with this app's redirect URI and the last verifier. */
  public HttpResponse<String> exchange(String code) {
    return exchange(code, redirectUri, verifier);
  }

  public HttpResponse<String> exchange(String code, String redirect, String codeVerifier) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "authorization_code");
    form.put("code", code);
    form.put("redirect_uri", redirect);
    form.put("code_verifier", codeVerifier);
    return token(form);
  }

  public HttpResponse<String> refresh(String refreshToken, Optional<String> scope) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "refresh_token");
    form.put("refresh_token", refreshToken);
    scope.ifPresent(s -> form.put("scope", s));
    return token(form);
  }

  /** POSTs to the token endpoint, authenticated as this app. */
  public HttpResponse<String> token(Map<String, String> form) {
    return post("oauth2/token", form);
  }

  /** POSTs a form to an OAuth endpoint ({@code oauth2/revoke}, ...), authenticated as this app. */
  public HttpResponse<String> post(String path, Map<String, String> form) {
    Map<String, String> f = new LinkedHashMap<>(form);
    TestClient anonymous = new TestClient(server.baseUrl());
    HttpRequest.Builder b = anonymous.request(path).header("Content-Type", "application/x-www-form-urlencoded");
    if (clientSecret == null) {
      f.put("client_id", clientId);
    } else {
      b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(
          (clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8)));
    }
    return anonymous.send(b.POST(HttpRequest.BodyPublishers.ofString(FormBrowser.encode(f))));
  }

  public static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
