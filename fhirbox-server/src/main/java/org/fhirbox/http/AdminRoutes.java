package org.fhirbox.http;

import org.fhirbox.audit.AdminAction;
import org.fhirbox.audit.AdminActor;
import org.fhirbox.audit.AdminListener;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.ClientCredentials;
import org.fhirbox.auth.ClientProfile;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.ClientStore;
import org.fhirbox.auth.AuthModule;
import org.fhirbox.auth.PasswordLinks;
import org.fhirbox.auth.User;
import org.fhirbox.auth.UserStore;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fhirbox.core.FhirException;
import org.fhirbox.fhir.QueryLimits;
import org.fhirbox.model.ListPosition;

/**
 * Client and user administration under {@code /admin} (admin scope only, else 403):
 * <pre>
 * POST /admin/clients                      {"project","scope","admin"?,"public"?,"firstParty"?,"redirectUris"?,
 *                                          "idTokenSignedResponseAlg"?}
 *                                          → 201 credentials (secret shown once; a public client has none)
 *                                          and the client, as the list shows it
 * GET  /admin/clients[?project=P][&_count=n][&_cursor=c]
 *                                          {"clients":[...],"next"?} (never secrets or hashes), oldest first
 *                                          ({@link AdminPaging})
 * POST /admin/clients/{id}/disable         the client
 * POST /admin/clients/{id}/rotate-secret   new credentials (secret shown once) and the client
 * PUT  /admin/clients/{id}/jwks            JWK Set (public keys) for private_key_jwt → the client
 * PUT  /admin/clients/{id}/redirect-uris   {"redirectUris":[...]} → the client
 * PUT  /admin/clients/{id}/scope           {"scope":"..."} → the client; refresh tokens issued before
 *                                          are cut to it (without offline_access they stop working)
 * POST /admin/users                        {"project"?,"email","name","fhirUser","scope","admin"?}
 *                                          → 201 the user with "setPasswordUrl" and "setPasswordExpires"
 * GET  /admin/users[?project=P][&_count=n][&_cursor=c]
 *                                          {"users":[...],"next"?} (never passwords, hashes or links), oldest first
 * POST /admin/users/{id}/disable           the user; their tokens stop working at once here, within a minute elsewhere
 * POST /admin/users/{id}/reset-password    the user with a new "setPasswordUrl" (password and sessions end)
 * </pre>
 * An admin of project {@value #SERVER_PROJECT} administers every project; any other admin only its
 * own (other projects' clients and users answer 404, creating in another project 403). A
 * {@code setPasswordUrl} is shown once: only a hash of its token is kept.
 *
 * <p>Each change that succeeded (every POST and PUT above) is told to the audit listener
 * ({@link AdminAction}), with the admin client, the person signed in to it if any, and the
 * client or user changed; never a secret, a hash or a set-password link.
 */
public final class AdminRoutes {
  /** The project whose admins administer the whole server. */
  public static final String SERVER_PROJECT = AuthModule.SERVER_PROJECT;
  private static final long MAX_BODY = 256 * 1024;
  /** How Jackson words a field met twice ({@link JsonParser.Feature#STRICT_DUPLICATE_DETECTION}). */
  private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'");

  private final ClientStore clients;
  private final UserStore users;
  private final PasswordLinks links;
  private final ObjectMapper json;
  private final AdminListener audit;

  public AdminRoutes(ClientStore clients, UserStore users, PasswordLinks links, ObjectMapper json,
      AdminListener audit) {
    this.audit = audit;
    this.clients = clients;
    this.users = users;
    this.links = links;
    this.json = json;
  }

  /** Dispatches {@code segments} (the path after {@code /admin/}). */
  public void handle(Exchange ex, Principal principal, List<String> segments) throws IOException {
    if (!principal.access().isAdmin()) {
      throw FhirException.insufficientScope("the admin scope is required");
    }
    String method = ex.method();
    if (segments.size() == 1 && segments.get(0).equals("clients")) {
      switch (method) {
        case "POST" -> create(ex, principal);
        case "GET", "HEAD" -> list(ex, principal);
        default -> throw FhirException.methodNotAllowed(method + " is not allowed on /admin/clients", "GET", "HEAD",
            "POST");
      }
      return;
    }
    if (!segments.isEmpty() && segments.get(0).equals("users")) {
      users(ex, principal, segments);
      return;
    }
    if (segments.size() == 3 && segments.get(0).equals("clients")) {
      String id = segments.get(1);
      String action = segments.get(2);
      switch (action) {
        case "disable" -> {
          require(method, "POST");
          OAuthClient c = owned(principal, id);
          clients.disable(c.clientId());
          changed(ex, principal, AdminAction.CLIENT_DISABLED, c, null);
          write(ex, 200, view(clients.find(id).orElseThrow()));
        }
        case "rotate-secret" -> {
          require(method, "POST");
          OAuthClient c = owned(principal, id);
          ClientCredentials cred = refusingBadInput(() -> clients.rotateSecret(id)).orElseThrow(() -> notFound(id));
          changed(ex, principal, AdminAction.CLIENT_SECRET_ROTATED, c, null);
          write(ex, 200, credentials(cred));
        }
        case "jwks" -> {
          require(method, "PUT");
          OAuthClient c = owned(principal, id);
          JWKSet jwks = parseJwks(jsonBody(ex));
          refusingBadInput(() -> clients.registerJwks(id, jwks));
          changed(ex, principal, AdminAction.CLIENT_JWKS_CHANGED, c, "key ids: " + String.join(" ",
              jwks.getKeys().stream().map(k -> String.valueOf(k.getKeyID())).toList()));
          write(ex, 200, view(clients.find(id).orElseThrow()));
        }
        case "redirect-uris" -> {
          require(method, "PUT");
          OAuthClient c = owned(principal, id);
          List<String> uris = strings(readJson(jsonBody(ex), "redirectUris"), "redirectUris");
          refusingBadInput(() -> clients.setRedirectUris(id, uris), "redirectUris");
          changed(ex, principal, AdminAction.CLIENT_REDIRECT_URIS_CHANGED, c,
              "redirectUris: " + String.join(" ", uris));
          write(ex, 200, view(clients.find(id).orElseThrow()));
        }
        case "scope" -> {
          require(method, "PUT");
          OAuthClient c = owned(principal, id);
          String scope = required(readJson(jsonBody(ex), "scope"), "scope");
          if (Scopes.tryParse(scope).isEmpty()) {
            throw FhirException.badRequest("scope must be space-separated SMART scopes", "scope");
          }
          refusingBadInput(() -> clients.setScope(id, scope));
          changed(ex, principal, AdminAction.CLIENT_SCOPE_CHANGED, c, "scope: " + scope);
          write(ex, 200, view(clients.find(id).orElseThrow()));
        }
        default -> throw FhirException.notFound("no route for " + ex.request().getRequestURI());
      }
      return;
    }
    throw FhirException.notFound("no route for " + ex.request().getRequestURI());
  }

  private void create(Exchange ex, Principal principal) throws IOException {
    JsonNode body = readJson(jsonBody(ex), "project", "scope", "admin", "public", "firstParty", "redirectUris",
        "idTokenSignedResponseAlg");
    String project = text(body, "project", principal.project());
    String scope = text(body, "scope", "system/*.cruds");
    boolean admin = bool(body, "admin");
    boolean publicClient = bool(body, "public");
    boolean firstParty = bool(body, "firstParty");
    List<String> redirectUris = strings(body, "redirectUris");
    // OpenID Connect Dynamic Client Registration §2: id_token_signed_response_alg
    String idTokenAlg = text(body, "idTokenSignedResponseAlg", ClientProfile.RS256);
    if (!isServerAdmin(principal) && !project.equals(principal.project())) {
      throw FhirException.forbidden("an admin of project '" + principal.project() + "' may create clients only there");
    }
    if (!ClientStore.PROJECT_NAME.matcher(project).matches()) {
      throw FhirException.badRequest("project names use letters, digits and . _ - (at most 64)", "project");
    }
    if (Scopes.tryParse(scope).isEmpty()) {
      throw FhirException.badRequest("scope must be space-separated SMART scopes ({system|user|patient}/{type}.{cruds},"
          + " openid, fhirUser, launch/patient, offline_access ...) or admin", "scope");
    }
    refusingBadInput(() -> ClientProfile.checkRedirectUris(redirectUris), "redirectUris");
    if (publicClient && redirectUris.isEmpty()) {
      throw FhirException.badRequest("a public client needs at least one redirect URI: it has no secret, so the"
          + " authorization code flow to a registered URI is its only way to a token", "redirectUris");
    }
    ClientProfile profile = refusingBadInput(() -> ClientProfile.of(publicClient, firstParty, redirectUris,
        idTokenAlg));
    ClientCredentials created = refusingBadInput(() -> clients.create(project, scope, admin, profile));
    // a scope naming admin makes an admin without "admin": true; the record says what was stored
    boolean stored = clients.find(created.clientId()).map(OAuthClient::admin).orElse(admin);
    audit.changed(AdminAction.CLIENT_CREATED, actor(ex, principal), created.project(), created.clientId(), null,
        "scope: " + created.scope() + "; admin: " + stored + "; public: " + publicClient);
    write(ex, 201, credentials(created));
  }

  private void changed(Exchange ex, Principal principal, AdminAction action, OAuthClient client, String detail) {
    audit.changed(action, actor(ex, principal), client.project(), client.clientId(), null, detail);
  }

  /** Who is making an admin change: the client, and the person signed in to it when there is one. */
  static AdminActor actor(Exchange ex, Principal principal, UserStore users) {
    String userId = principal.user().orElse(null);
    User person = userId == null ? null : users.find(userId).orElse(null);
    return new AdminActor(ex.request().getRemoteAddr(), principal.clientId(), userId,
        person == null ? null : person.fhirUser(), person == null ? null : person.email());
  }

  private AdminActor actor(Exchange ex, Principal principal) {
    return actor(ex, principal, users);
  }

  /** Runs a store call whose {@link IllegalArgumentException} names bad input: 400 with its message. */
  private static <T> T refusingBadInput(Supplier<T> call) {
    try {
      return call.get();
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest(e.getMessage());
    }
  }

  /** As {@link #refusingBadInput(Supplier)}, the OperationOutcome naming {@code field} as the issue's expression. */
  private static <T> T refusingBadInput(Supplier<T> call, String field) {
    try {
      return call.get();
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest(e.getMessage(), field);
    }
  }

  private static boolean bool(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return false;
    }
    if (!n.isBoolean()) {
      throw FhirException.badRequest(field + " must be true or false", field);
    }
    return n.asBoolean();
  }

  private static List<String> strings(JsonNode body, String field) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw FhirException.badRequest(field + " must be an array of strings", field);
    }
    List<String> out = new ArrayList<>();
    for (JsonNode item : n) {
      if (!item.isTextual()) {
        throw FhirException.badRequest(field + " must be an array of strings", field);
      }
      out.add(item.asText());
    }
    return out;
  }

  private void list(Exchange ex, Principal principal) throws IOException {
    String project = ex.param("project").orElse(null);
    if (!isServerAdmin(principal)) {
      if (project != null && !project.equals(principal.project())) {
        throw FhirException.forbidden("an admin of project '" + principal.project() + "' may list only its clients");
      }
      project = principal.project();
    }
    AdminPaging page = AdminPaging.of(ex, "clients", AdminPaging.filters("project", project));
    Map<String, Object> out = new LinkedHashMap<>();
    page.put(ex, out, "clients", clients.list(project, page.after(), page.limit()), AdminRoutes::view,
        c -> new ListPosition(c.created(), c.clientId()));
    write(ex, 200, out);
  }

  private void users(Exchange ex, Principal principal, List<String> segments) throws IOException {
    String method = ex.method();
    if (segments.size() == 1) {
      switch (method) {
        case "POST" -> createUser(ex, principal);
        case "GET", "HEAD" -> listUsers(ex, principal);
        default -> throw FhirException.methodNotAllowed(method + " is not allowed on /admin/users", "GET", "HEAD",
            "POST");
      }
      return;
    }
    if (segments.size() != 3) {
      throw FhirException.notFound("no route for " + ex.request().getRequestURI());
    }
    String id = segments.get(1);
    switch (segments.get(2)) {
      case "disable" -> {
        require(method, "POST");
        User u = ownedUser(principal, id);
        users.disable(id);
        audit.changed(AdminAction.USER_DISABLED, actor(ex, principal), u.project(), u.id(), u.fhirUser(), null);
        write(ex, 200, userView(users.find(id).orElseThrow(() -> userNotFound(id))));
      }
      case "reset-password" -> {
        require(method, "POST");
        User u = ownedUser(principal, id);
        PasswordLinks.Link link = links.reset(id).orElseThrow(() -> userNotFound(id));
        // the link itself is never recorded: it sets the password
        audit.changed(AdminAction.USER_PASSWORD_RESET, actor(ex, principal), u.project(), u.id(), u.fhirUser(), null);
        write(ex, 200, withLink(ex, users.find(id).orElseThrow(() -> userNotFound(id)), link));
      }
      default -> throw FhirException.notFound("no route for " + ex.request().getRequestURI());
    }
  }

  private void createUser(Exchange ex, Principal principal) throws IOException {
    JsonNode body = readJson(jsonBody(ex), "project", "email", "name", "fhirUser", "scope", "admin");
    String project = text(body, "project", principal.project());
    if (!isServerAdmin(principal) && !project.equals(principal.project())) {
      throw FhirException.forbidden("an admin of project '" + principal.project() + "' may create users only there");
    }
    if (!ClientStore.PROJECT_NAME.matcher(project).matches()) {
      throw FhirException.badRequest("project names use letters, digits and . _ - (at most 64)", "project");
    }
    String email = required(body, "email");
    String name = required(body, "name");
    String fhirUser = required(body, "fhirUser");
    String scope = required(body, "scope");
    JsonNode admin = body.get("admin");
    if (admin != null && !admin.isNull() && !admin.isBoolean()) {
      throw FhirException.badRequest("admin must be true or false", "admin");
    }
    checkUserScope(scope);
    User user;
    try {
      user = users.create(project, email, name, fhirUser, scope, admin != null && admin.asBoolean(false))
          .orElseThrow(() -> FhirException.conflict("a user with email '" + email.strip() + "' already exists in"
              + " project '" + project + "'"));
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest(e.getMessage(), fieldNamedIn(e.getMessage()));
    }
    PasswordLinks.Link link = links.issue(user.id()).orElseThrow(() -> userNotFound(user.id()));
    audit.changed(AdminAction.USER_CREATED, actor(ex, principal), user.project(), user.id(), user.fhirUser(),
        "scope: " + user.allowedScopes() + "; admin: " + user.admin());
    write(ex, 201, withLink(ex, user, link));
  }

  /**
   * A person's scopes are SMART {@code user/} and {@code patient/} scopes (SMART App Launch 2
   * §Scopes), identity and launch scopes, and {@code admin}; {@code system/} scopes belong to
   * clients acting for themselves.
   */
  private static void checkUserScope(String scope) {
    if (Scopes.tryParse(scope).isEmpty()) {
      throw FhirException.badRequest("scope must be space-separated SMART scopes such as user/*.cruds or"
          + " patient/Observation.rs", "scope");
    }
    for (String s : scope.trim().split("\\s+")) {
      if (s.startsWith("system/")) {
        throw FhirException.badRequest("'" + s + "': a user's scopes are user/ and patient/ scopes", "scope");
      }
    }
  }

  private static String fieldNamedIn(String message) {
    for (String field : List.of("email", "fhirUser", "name", "scope")) {
      if (message.contains(field)) {
        return field;
      }
    }
    return null;
  }

  private void listUsers(Exchange ex, Principal principal) throws IOException {
    String project = ex.param("project").orElse(null);
    if (!isServerAdmin(principal)) {
      if (project != null && !project.equals(principal.project())) {
        throw FhirException.forbidden("an admin of project '" + principal.project() + "' may list only its users");
      }
      project = principal.project();
    }
    AdminPaging page = AdminPaging.of(ex, "users", AdminPaging.filters("project", project));
    Map<String, Object> out = new LinkedHashMap<>();
    page.put(ex, out, "users", users.list(project, page.after(), page.limit()), AdminRoutes::userView,
        u -> new ListPosition(u.created(), u.id()));
    write(ex, 200, out);
  }

  /** The user, if the principal may administer it; another project's user is "not found". */
  private User ownedUser(Principal principal, String id) {
    return users.find(id)
        .filter(u -> isServerAdmin(principal) || u.project().equals(principal.project()))
        .orElseThrow(() -> userNotFound(id));
  }

  private static FhirException userNotFound(String id) {
    return FhirException.notFound("user '" + id + "' not found");
  }

  private static Map<String, Object> userView(User u) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", u.id());
    out.put("project", u.project());
    out.put("email", u.email());
    out.put("name", u.name());
    out.put("fhirUser", u.fhirUser());
    out.put("scope", u.allowedScopes().toString());
    out.put("admin", u.admin());
    out.put("disabled", u.disabled());
    out.put("hasPassword", u.hasPassword());
    out.put("created", u.created().toString());
    out.put("updated", u.updated().toString());
    return out;
  }

  private static Map<String, Object> withLink(Exchange ex, User u, PasswordLinks.Link link) {
    Map<String, Object> out = userView(u);
    out.put("setPasswordUrl", AccountRoutes.setPasswordUrl(ex.baseUrl(), link));
    out.put("setPasswordExpires", link.expires().toString());
    return out;
  }

  private static String required(JsonNode body, String field) {
    String value = text(body, field, null);
    if (value == null) {
      throw FhirException.badRequest(field + " is required", field);
    }
    return value;
  }

  static boolean isServerAdmin(Principal p) {
    return p.access().isAdmin() && p.project().equals(SERVER_PROJECT);
  }

  /** The client, if the principal may administer it; another project's client is "not found". */
  private OAuthClient owned(Principal principal, String id) {
    return clients.find(id)
        .filter(c -> isServerAdmin(principal) || c.project().equals(principal.project()))
        .orElseThrow(() -> notFound(id));
  }

  private static FhirException notFound(String id) {
    return FhirException.notFound("client '" + id + "' not found");
  }

  private static void require(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw FhirException.methodNotAllowed(method + " is not allowed here; use " + allowed, allowed);
    }
  }

  /**
   * The request's body, sent as JSON ({@code application/json}, or a {@code +json} type such as
   * {@code application/jwk-set+json}): 415 for any other type or none. A page of another site can
   * post a form, {@code text/plain} or multipart to this API without a preflight; JSON it cannot.
   */
  private static String jsonBody(Exchange ex) throws IOException {
    String type = ex.contentType() == null ? "" : ex.contentType().split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    if (!type.equals("application/json") && !type.endsWith("+json")) {
      throw FhirException.unsupportedMediaType("send the body as application/json (Content-Type), not "
          + (type.isEmpty() ? "without a Content-Type" : "as " + QueryLimits.shorten(type)));
    }
    return ex.body(MAX_BODY);
  }

  /**
   * The body, a JSON object whose fields are among {@code fields}: any other is 400 naming it rather
   * than ignored, since a misspelt one ({@code "scopes"}) would otherwise leave its default in place
   * (for a client's scope, every system scope).
   */
  private JsonNode readJson(String body, String... fields) {
    try {
      // a field twice is ambiguous, as in a resource body: a check may read one and the store the other
      JsonNode n = json.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).readTree(body);
      if (n == null || !n.isObject()) {
        throw FhirException.badRequest("the body must be a JSON object");
      }
      requireCharacters(n, "");
      List<String> taken = List.of(fields);
      n.fieldNames().forEachRemaining(name -> {
        if (!taken.contains(name)) {
          String shown = shortened(name);
          throw FhirException.badRequest("'" + shown + "' is not a field of this request, which takes "
              + String.join(", ", taken), shown);
        }
      });
      return n;
    } catch (JsonProcessingException e) {
      Matcher twice = DUPLICATE.matcher(String.valueOf(e.getOriginalMessage()));
      if (twice.matches()) {
        String shown = shortened(twice.group(1));
        throw FhirException.badRequest("'" + shown + "' appears twice in the body; send each field once", shown);
      }
      throw FhirException.badRequest("the body is not valid JSON");
    }
  }

  private static String shortened(String name) {
    return name.length() > 64 ? name.substring(0, 64) + "..." : name;
  }

  /**
   * Refuses a name or string holding a C0 control character, which no name, email, scope or URI
   * holds (FHIR strings have none either, and PostgreSQL stores no U+0000 in text), or an unpaired surrogate ({@code "\\ud800"} is valid JSON, and
   * Jackson reads it as a lone UTF-16 unit), as resource bodies are refused: it is no Unicode
   * character (RFC 8259 section 8.2), and no UTF-8 text, a response's included, can carry it.
   */
  private static void requireCharacters(JsonNode n, String path) {
    if (n.isTextual()) {
      requireCharacters(n.textValue(), path.isEmpty() ? "the body" : path);
    }
    var fields = n.fields();
    while (fields.hasNext()) {
      var field = fields.next();
      String at = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
      requireCharacters(field.getKey(), "a field name in " + (path.isEmpty() ? "the body" : path));
      requireCharacters(field.getValue(), at);
    }
    if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) {
        requireCharacters(n.get(i), path + "[" + i + "]");
      }
    }
  }

  private static void requireCharacters(String s, String where) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (c < 0x20) {
        throw FhirException.badRequest(where + " contains the control character U+" + String.format("%04X", (int) c)
            + ", which no name, email, scope or URI holds", where.contains(" ") ? null : where);
      } else if (Character.isSurrogate(c)) {
        throw FhirException.badRequest(where + " contains an unpaired surrogate \\u"
            + Integer.toHexString(c).toUpperCase(java.util.Locale.ROOT) + ", which is not a Unicode character");
      }
    }
  }

  private static String text(JsonNode body, String field, String fallback) {
    JsonNode n = body.get(field);
    if (n == null || n.isNull()) {
      return fallback;
    }
    if (!n.isTextual() || n.asText().isBlank()) {
      throw FhirException.badRequest(field + " must be a non-empty string", field);
    }
    return n.asText().trim();
  }

  private static JWKSet parseJwks(String body) {
    try {
      JWKSet set = JWKSet.parse(body);
      if (set.getKeys().isEmpty() || set.getKeys().stream().anyMatch(k -> k.isPrivate())) {
        throw FhirException.badRequest("the JWK Set must hold at least one key, and only public keys");
      }
      return set;
    } catch (ParseException e) {
      throw FhirException.badRequest("the body is not a valid JWK Set (RFC 7517 §5)");
    }
  }

  private Map<String, Object> credentials(ClientCredentials c) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("project", c.project());
    out.put("clientId", c.clientId());
    if (c.clientSecret() != null) {
      out.put("clientSecret", c.clientSecret());
    }
    out.put("scope", c.scope());
    // and the client as a list shows it, so a list can show the client created or rotated as it is now
    clients.find(c.clientId()).ifPresent(client -> view(client).forEach(out::putIfAbsent));
    return out;
  }

  private static Map<String, Object> view(OAuthClient c) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("clientId", c.clientId());
    out.put("project", c.project());
    out.put("scope", c.allowedScopes().toString());
    out.put("admin", c.admin());
    out.put("disabled", c.disabled());
    out.put("privateKeyJwt", c.hasJwks());
    out.put("public", c.publicClient());
    out.put("firstParty", c.firstParty());
    out.put("redirectUris", c.redirectUris());
    out.put("idTokenSignedResponseAlg", c.idTokenAlg());
    out.put("created", c.created().toString());
    out.put("updated", c.updated().toString());
    return out;
  }

  private void write(Exchange ex, int status, Object body) throws IOException {
    ex.response().setStatus(status);
    ex.response().setContentType("application/json;charset=utf-8");
    ex.response().setHeader("Cache-Control", "no-store");
    byte[] bytes = json.writeValueAsBytes(body);
    ex.response().setContentLength(bytes.length);
    if (!ex.method().equals("HEAD")) { // RFC 9110 §9.3.2: GET's headers, no body
      ex.response().getOutputStream().write(bytes);
    }
  }
}
