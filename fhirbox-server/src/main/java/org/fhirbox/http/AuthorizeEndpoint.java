package org.fhirbox.http;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.fhirbox.audit.SignInListener;
import org.fhirbox.auth.AuthorizationCodes;
import org.fhirbox.auth.AuthorizationRequests;
import org.fhirbox.auth.AuthorizationRequests.Pending;
import org.fhirbox.auth.AppClients;
import org.fhirbox.auth.Audiences;
import org.fhirbox.auth.ClientAuthenticator;
import org.fhirbox.auth.OAuthClient;
import org.fhirbox.auth.SignIn;
import org.fhirbox.auth.Principal;
import org.fhirbox.auth.Scopes;
import org.fhirbox.auth.SignInModule;
import org.fhirbox.auth.SignInScopes;
import org.fhirbox.auth.User;
import org.fhirbox.core.FhirException;

/**
 * The authorization endpoint (RFC 6749 §4.1.1, SMART App Launch "Obtain authorization code") and
 * the pages behind it:
 * <pre>
 * GET|POST /oauth2/authorize   validates the request, then shows the sign-in page
 * POST     /oauth2/signin      email and password, in the client's project
 * GET      /oauth2/patient?q=  the patient picker (a standalone launch that needs a patient)
 * POST     /oauth2/patient     the chosen patient
 * POST     /oauth2/consent     allow or deny (third-party apps; a first-party app skips it); deny is
 *                              also the Cancel of the sign-in page and of the patient picker
 * </pre>
 * and finally a redirect to the app with {@code code}, {@code state} and {@code iss}
 * ({@link AuthorizationResponses}).
 *
 * <p>Errors (RFC 6749 §4.1.2.1): when {@code client_id} or {@code redirect_uri} is missing,
 * unknown or not registered, the person sees an error page and is never sent to that URI; so they
 * do when the app's registration loses the URI while they sign in. Every other error redirects
 * to the app with {@code error}, {@code error_description}, {@code state} and {@code iss}
 * ({@link AuthorizationRequestCheck} checks the parameters).
 *
 * <p>A valid request is stored only while its caller's address is within
 * {@code FHIRBOX_AUTHORIZE_REQUESTS_PER_MINUTE}; beyond it the person sees a 429 page with
 * {@code Retry-After}, and nothing is stored. A HEAD request gets the header fields of the GET's
 * answer (the same status, the sign-in page's length and fields) but stores nothing, sets no
 * cookie and takes none of the address's requests.
 *
 * <p>The request lives in {@link AuthorizationRequests}, found by a short-lived cookie
 * ({@link SignInRequestCookie}); every form also carries the request's CSRF token, checked in
 * constant time.
 */
final class AuthorizeEndpoint {
  private static final String APP_GONE = "the app is disabled or no longer exists";

  private final ClientAuthenticator clients;
  private final AppClients appClients;
  private final SignInModule signIn;
  private final PatientPicker picker;
  private final SignInListener audit;
  private final AuthorizationResponses responses;
  private final AuthorizationRequestCheck check;
  private final long refreshDays;

  /**
   * @param issuer the server's issuer, as in the discovery documents: every answer at a redirect URI names it
   * @param audiences the FHIR bases a request may name as {@code aud}
   */
  AuthorizeEndpoint(ClientAuthenticator clients, AppClients appClients, SignInModule signIn, PatientPicker picker,
      SignInListener audit, Supplier<String> issuer, Audiences audiences) {
    this.clients = clients;
    this.appClients = appClients;
    this.signIn = signIn;
    this.picker = picker;
    this.audit = audit;
    this.responses = new AuthorizationResponses(issuer);
    this.check = new AuthorizationRequestCheck(audiences);
    this.refreshDays = signIn.refreshTokens().ttl().toDays();
  }

  /**
   * The enabled client of {@code clientId}; for one of the web app's ids, as {@link AppClients#forSignIn}
   * gives it for this base URL's app page.
   */
  private Optional<OAuthClient> client(Exchange ex, String clientId) {
    Optional<OAuthClient> app;
    try {
      app = appClients.forSignIn(clientId, AppRoutes.appUrl(ex.baseUrl()));
    } catch (IllegalArgumentException e) {
      // this base URL's app page cannot be a redirect URI (plain http on a public host)
      app = Optional.empty();
    }
    return app.or(() -> clients.find(clientId)).filter(c -> !c.disabled());
  }

  /** {@code GET|POST /oauth2/authorize} (SMART {@code authorize-post}: the same parameters as a form). */
  void authorize(Exchange ex) throws IOException {
    Map<String, List<String>> params;
    try {
      params = switch (ex.method()) {
        case "GET", "HEAD" -> ex.params(); // RFC 9110 §9.3.2: HEAD as GET, its body unsent
        case "POST" -> FormBody.readForm(ex);
        default -> null;
      };
    } catch (IllegalArgumentException | FhirException e) {
      SignInPages.error(ex, e instanceof FhirException f ? f.status() : 400, "Sign-in request not understood",
          e.getMessage(), e instanceof FhirException g ? g.headers() : Map.of());
      return;
    }
    if (params == null) {
      SignInPages.error(ex, 405, "Use GET or POST", "The sign-in address accepts GET and POST only.",
          Map.of("Allow", "GET, HEAD, POST"));
      return;
    }
    String clientId = single(params, "client_id");
    String redirectUri = single(params, "redirect_uri");
    Optional<OAuthClient> client = client(ex, clientId);
    if (client.isEmpty()) {
      SignInPages.error(ex, 400, "Unknown app", "The app that sent you here is not registered with this server"
          + " (client_id). Tell its developer.", Map.of());
      return;
    }
    if (redirectUri == null || !client.get().hasRedirectUri(redirectUri)) {
      SignInPages.error(ex, 400, "Unknown return address", "The app asked to send you back to an address it has not"
          + " registered here (redirect_uri), so you are not sent there. Tell the app's developer.", Map.of());
      return;
    }
    String state = single(params, "state");
    AuthorizationRequests.Request request;
    try {
      request = check.validate(params, client.get(), redirectUri, state);
    } catch (AuthorizationRequestCheck.Refusal r) {
      redirect(ex, responses.error(redirectUri, r.error, r.getMessage(), state));
      return;
    }
    // HEAD is safe (RFC 9110 §9.2.1): it is answered as GET is (§9.3.2), but it starts no sign-in, so
    // it takes none of the address's requests, stores no request and sets no cookie
    boolean head = ex.method().equals("HEAD");
    String address = ex.request().getRemoteAddr();
    long wait = head ? signIn.requestLimiter().peek(address) : signIn.requestLimiter().tryAcquire(address);
    if (wait > 0) {
      SignInPages.error(ex, 429, "Too many sign-in requests", "Too many sign-ins were started from your network"
          + " just now. Wait " + seconds(wait) + ", then go back to the app and start again.",
          Map.of("Retry-After", Long.toString(wait)));
      return;
    }
    if (head) {
      SignInPages.signIn(ex, 200, frame(request), AuthorizationRequests.UNISSUED_CSRF, "", null, Map.of());
      return;
    }
    AuthorizationRequests.Cookie cookie = signIn.requests().start(request);
    if (Scopes.parse(request.scope()).has("openid")) {
      signIn.idTokens().prepare(); // the ID token's key is then ready by the time the person has signed in
    }
    SignInRequestCookie.set(ex, cookie.value());
    SignInPages.signIn(ex, 200, frame(request), cookie.pending().csrf(), "", null, Map.of());
  }

  /** {@code POST /oauth2/signin}. */
  void signIn(Exchange ex) throws IOException {
    Optional<Step> step = step(ex, true, false);
    if (step.isEmpty()) {
      return;
    }
    Step s = step.get();
    if (s.pending().user().isPresent()) {
      next(ex, s.cookie(), s.pending());
      return;
    }
    Optional<OAuthClient> client = client(ex, s.pending().request().clientId());
    if (client.isEmpty()) {
      endWithError(ex, s.cookie(), "access_denied", APP_GONE);
      return;
    }
    String email = single(s.form(), "email");
    String address = ex.request().getRemoteAddr();
    SignInPages.Frame frame = frame(s.pending().request());
    SignIn.Result outcome = signIn.passwordSignIn().authenticate(client.get().project(), email,
        single(s.form(), "password"), address);
    if (outcome instanceof SignIn.Throttled t) {
      if (t.toRecord()) { // the first refusal by its limit in a minute; the rest would only flood the audit
        audit.signInRefused(address, client.get().clientId(), client.get().project(), email,
            signIn.passwordSignIn().namesUser(client.get().project(), email),
            "too many failed sign-ins (later refusals by the same limit within a minute are not recorded)");
      }
      SignInPages.signIn(ex, 429, frame, s.pending().csrf(), email, "Too many failed sign-ins. Wait "
          + seconds(t.retryAfterSeconds()) + ", then try again.", Map.of("Retry-After",
          Long.toString(t.retryAfterSeconds())));
      return;
    }
    if (outcome instanceof SignIn.BadCredentials) {
      audit.signInRefused(address, client.get().clientId(), client.get().project(), email,
          signIn.passwordSignIn().namesUser(client.get().project(), email),
          "wrong email or password, no password set, or a disabled user");
      SignInPages.signIn(ex, 200, frame, s.pending().csrf(), email, SignIn.BAD_CREDENTIALS_MESSAGE,
          Map.of());
      return;
    }
    SignIn.SignedIn signedIn = (SignIn.SignedIn) outcome;
    User user = signedIn.user();
    Optional<AuthorizationRequests.Cookie> renewed = signIn.requests().signedIn(s.cookie(), user.id(),
        signedIn.checkedFrom());
    if (renewed.isEmpty()) {
      gone(ex);
      return;
    }
    SignInRequestCookie.set(ex, renewed.get().value());
    audit.signedIn(address, client.get().clientId(), user);
    next(ex, renewed.get().value(), renewed.get().pending());
  }

  /** {@code GET /oauth2/patient?q=}: search; {@code POST /oauth2/patient}: choose. */
  void patient(Exchange ex) throws IOException {
    boolean post = ex.method().equals("POST");
    Optional<Step> step = step(ex, post, true);
    if (step.isEmpty()) {
      return;
    }
    Step s = step.get();
    Optional<Person> person = person(ex, s);
    if (person.isEmpty()) {
      return;
    }
    Principal as = person.get().principal();
    if (!post) {
      String q = ex.param("q").map(String::strip).orElse("");
      showPicker(ex, s, q);
      return;
    }
    String chosen = single(s.form(), "patient");
    User user = person.get().user();
    // a person who is a Patient launches with their own record only (SMART: the launch context
    // never reaches beyond what the user may see as that patient)
    boolean ownOnly = user.fhirUserType().equals("Patient");
    if (chosen == null || ownOnly && !chosen.equals(user.fhirUserId()) || picker.readable(as, chosen).isEmpty()) {
      SignInPages.picker(ex, frame(s.pending().request()), s.pending().csrf(), "", List.of(), false,
          chosen == null ? "Choose a patient." : "That patient cannot be chosen.");
      return;
    }
    if (!signIn.requests().choosePatient(s.cookie(), chosen)) {
      gone(ex);
      return;
    }
    Optional<Pending> updated = signIn.requests().find(s.cookie());
    if (updated.isEmpty()) {
      gone(ex);
      return;
    }
    next(ex, s.cookie(), updated.get());
  }

  /**
   * {@code POST /oauth2/consent}: {@code decision=allow} or {@code deny}. Deny is also the Cancel of
   * the sign-in page and of the patient picker: at any step, signed in or not, it ends the request
   * with {@code access_denied} and the state at the app's redirect URI (RFC 6749 §4.1.2.1). Allow
   * needs a signed-in person.
   */
  void consent(Exchange ex) throws IOException {
    Optional<Step> step = step(ex, true, false);
    if (step.isEmpty()) {
      return;
    }
    Step s = step.get();
    if (!"allow".equals(single(s.form(), "decision"))) {
      Optional<Pending> ended = signIn.requests().finish(s.cookie());
      SignInRequestCookie.clear(ex);
      if (ended.isEmpty()) {
        gone(ex);
        return;
      }
      AuthorizationRequests.Request r = ended.get().request();
      toApp(ex, r, responses.error(r.redirectUri(), "access_denied", "the person did not allow access", r.state()));
      return;
    }
    if (s.pending().user().isEmpty()) {
      gone(ex); // as for every page past the sign-in reached without one
      return;
    }
    // an app disabled since the sign-in gets no code (a disabled person is refused as well)
    if (person(ex, s).isEmpty()) {
      return;
    }
    issueCode(ex, s.cookie());
  }

  /** After the sign-in: the patient picker, the consent page, or the code, whichever is due. */
  private void next(Exchange ex, String cookie, Pending pending) throws IOException {
    Optional<Person> person = person(ex, new Step(cookie, pending, Map.of()));
    if (person.isEmpty()) {
      return;
    }
    User user = person.get().user();
    OAuthClient client = person.get().client();
    // cut again to the registration as it is now: an admin may have narrowed it since the request began
    Scopes granted = SignInScopes.forUser(SignInScopes.forClient(client, Scopes.parse(pending.request().scope())),
        user);
    if (granted.isEmpty()) {
      endWithError(ex, cookie, "invalid_scope", "none of the requested scopes is allowed for this user");
      return;
    }
    Optional<String> patient = pending.patient();
    if (SignInScopes.needsPatient(granted) && patient.isEmpty()) {
      if (!user.fhirUserType().equals("Patient")) {
        showPicker(ex, new Step(cookie, pending, Map.of()), "");
        return;
      }
      // a person who is a Patient launches with their own record, not a picker
      if (picker.find(user.project(), client.clientId(), user.fhirUserId()).isEmpty()) {
        endWithError(ex, cookie, "access_denied", "the signed-in user's " + user.fhirUser() + " does not exist");
        return;
      }
      signIn.requests().choosePatient(cookie, user.fhirUserId());
      patient = Optional.of(user.fhirUserId());
    }
    if (client.firstParty()) {
      issueCode(ex, cookie);
      return;
    }
    String patientLabel = patient.flatMap(id -> picker.readable(person.get().principal(), id)
        .or(() -> picker.find(user.project(), client.clientId(), id)))
        .map(c -> c.name() + (c.details().isEmpty() ? "" : " (" + c.details() + ")")).orElse(patient.orElse(null));
    SignInPages.consent(ex, frame(pending.request()), pending.csrf(),
        ScopeWords.describe(granted, refreshDays), patientLabel, user.name() + " (" + user.email() + ")");
  }

  /**
   * Ends the request with a code, sent to the app's redirect URI with the request's state; the
   * grant is cut to the app's registration as it is now, and a URI it no longer registers gets
   * nothing.
   */
  private void issueCode(Exchange ex, String cookie) throws IOException {
    Optional<Pending> ended = signIn.requests().finish(cookie);
    SignInRequestCookie.clear(ex);
    if (ended.isEmpty() || ended.get().user().isEmpty() || ended.get().authTime().isEmpty()) {
      gone(ex);
      return;
    }
    Pending p = ended.get();
    AuthorizationRequests.Request r = p.request();
    Optional<OAuthClient> client = client(ex, r.clientId());
    if (client.isPresent() && !client.get().hasRedirectUri(r.redirectUri())) {
      redirectUriRemoved(ex);
      return;
    }
    if (client.isEmpty()) {
      redirect(ex, responses.error(r.redirectUri(), "access_denied", APP_GONE, r.state()));
      return;
    }
    Optional<User> user = signIn.users().find(p.user().get()).filter(u -> !u.disabled());
    if (user.isEmpty()) {
      redirect(ex, responses.error(r.redirectUri(), "access_denied", "the user is disabled", r.state()));
      return;
    }
    if (user.get().endedSignIn(p.authTime().get())) {
      // a password reset since this sign-in ended its sessions, this one too
      redirect(ex, responses.error(r.redirectUri(), "access_denied",
          "the user's sessions were ended after this sign-in", r.state()));
      return;
    }
    // the registration as it is now is the ceiling, as at a refresh: the request was cut to it when it began
    Scopes granted = SignInScopes.forUser(SignInScopes.forClient(client.get(), Scopes.parse(r.scope())), user.get());
    if (granted.isEmpty()) {
      redirect(ex, responses.error(r.redirectUri(), "invalid_scope",
          "none of the requested scopes is allowed for this app any more", r.state()));
      return;
    }
    if (SignInScopes.needsPatient(granted) && p.patient().isEmpty()) {
      redirect(ex, responses.error(r.redirectUri(), "access_denied", "no patient was chosen", r.state()));
      return;
    }
    String code = signIn.codes().issue(new AuthorizationCodes.Grant(r.clientId(), r.redirectUri(),
        r.codeChallenge(), granted, user.get().id(), p.patient(), Optional.ofNullable(r.nonce()),
        p.authTime().get()));
    redirect(ex, responses.code(r.redirectUri(), code, r.state()));
  }

  private void showPicker(Exchange ex, Step s, String q) throws IOException {
    Optional<Person> person = person(ex, s);
    if (person.isEmpty()) {
      return;
    }
    List<SignInPages.Option> options = List.of();
    String error = null;
    if (!q.isEmpty()) {
      try {
        options = picker.search(person.get().principal(), q).stream()
            .map(c -> new SignInPages.Option(c.id(), c.name() + (c.details().isEmpty() ? "" : " (" + c.details() + ")")))
            .toList();
      } catch (FhirException e) {
        error = e.status() == 403 ? "Your account may not search patients here (" + e.getMessage() + ")."
            : "The search could not be run: " + e.getMessage();
      }
    }
    SignInPages.picker(ex, frame(s.pending().request()), s.pending().csrf(), q, options, !q.isEmpty(),
        error);
  }

  private void endWithError(Exchange ex, String cookie, String error, String description) throws IOException {
    Optional<Pending> ended = signIn.requests().finish(cookie);
    SignInRequestCookie.clear(ex);
    if (ended.isEmpty()) {
      gone(ex);
      return;
    }
    AuthorizationRequests.Request r = ended.get().request();
    toApp(ex, r, responses.error(r.redirectUri(), error, description, r.state()));
  }

  /**
   * Sends the browser to {@code location} at the request's redirect URI, unless the app no longer
   * registers that URI: an admin who removed it (a lost domain, a compromised callback) means
   * nothing, not even an error and the state, to go there for sign-ins already under way. An app
   * disabled or deleted since keeps the URI it was checked against, so that it hears why it got
   * nothing (RFC 6749 §4.1.2.1).
   */
  private void toApp(Exchange ex, AuthorizationRequests.Request r, String location) throws IOException {
    if (client(ex, r.clientId()).filter(c -> !c.hasRedirectUri(r.redirectUri())).isPresent()) {
      redirectUriRemoved(ex);
      return;
    }
    redirect(ex, location);
  }

  private static void redirectUriRemoved(Exchange ex) throws IOException {
    SignInPages.error(ex, 400, "Return address removed", "The app no longer has the address it asked to send you"
        + " back to registered here (redirect_uri), so you are not sent there. Go back to the app and start again.",
        Map.of());
  }

  /** A page's request: the cookie, the request it names, and the posted form. */
  private record Step(String cookie, Pending pending, Map<String, List<String>> form) {}

  /** The signed-in person of a request, their client, and the principal they search as. */
  private record Person(User user, OAuthClient client, Principal principal) {}

  /**
   * The request a page belongs to; answers the page itself (and returns empty) when there is
   * none, when a POST lacks its CSRF token, or when the person should have signed in first.
   */
  private Optional<Step> step(Exchange ex, boolean post, boolean signedIn) throws IOException {
    if (post != ex.method().equals("POST")) {
      SignInPages.error(ex, 405, "Not allowed", "This page accepts " + (post ? "POST" : "GET") + " only.",
          Map.of("Allow", post ? "POST" : "GET"));
      return Optional.empty();
    }
    Map<String, List<String>> form = Map.of();
    if (post) {
      try {
        form = FormBody.readForm(ex);
      } catch (IllegalArgumentException | FhirException e) {
        SignInPages.error(ex, e instanceof FhirException f ? f.status() : 400, "Form not understood", e.getMessage(),
            e instanceof FhirException g ? g.headers() : Map.of());
        return Optional.empty();
      }
    }
    String cookie = SignInRequestCookie.read(ex);
    Optional<Pending> pending = signIn.requests().find(cookie);
    if (pending.isEmpty() || (signedIn && pending.get().user().isEmpty())) {
      gone(ex);
      return Optional.empty();
    }
    if (post && !sameToken(single(form, "csrf"), pending.get().csrf())) {
      SignInPages.error(ex, 403, "Form expired", "This form could not be checked (its CSRF token is missing or"
          + " wrong). Go back to the app and start again.", Map.of());
      return Optional.empty();
    }
    return Optional.of(new Step(cookie, pending.get(), form));
  }

  /**
   * The signed-in person of the request and its app; when either has since been disabled or
   * deleted, ends the request with a redirect to the app ({@code access_denied} and the state) and
   * returns empty.
   */
  private Optional<Person> person(Exchange ex, Step s) throws IOException {
    Optional<User> user = s.pending().user().flatMap(id -> signIn.users().find(id)).filter(u -> !u.disabled());
    Optional<OAuthClient> client = client(ex, s.pending().request().clientId());
    if (user.isEmpty() || client.isEmpty()) {
      // the redirect URI was checked when the request began, so the app hears why (RFC 6749 §4.1.2.1)
      endWithError(ex, s.cookie(), "access_denied", user.isEmpty() ? "the user is disabled or no longer exists"
          : APP_GONE);
      return Optional.empty();
    }
    return Optional.of(new Person(user.get(), client.get(), new Principal(client.get().clientId(),
        user.get().project(), user.get().allowedScopes(), Optional.of(user.get().id()), Optional.empty())));
  }

  private static void gone(Exchange ex) throws IOException {
    SignInPages.error(ex, 400, "Sign-in expired", "This sign-in has expired or was already used. Go back to the app"
        + " and start again.", Map.of());
  }

  /** What the pages of a request show, and where its forms may lead. */
  private static SignInPages.Frame frame(AuthorizationRequests.Request r) {
    URI uri = URI.create(r.redirectUri());
    String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
    boolean web = scheme.equals("https") || scheme.equals("http");
    String origin = web ? scheme + "://" + uri.getRawAuthority() : scheme + ":";
    String returnTo = web ? uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") : scheme + ":";
    return new SignInPages.Frame(r.clientId(), returnTo, origin);
  }

  /** The parameter's one value, or null when it is absent, empty or repeated. */
  private static String single(Map<String, List<String>> params, String name) {
    List<String> v = params.get(name);
    return v == null || v.size() != 1 || v.get(0).isEmpty() ? null : v.get(0);
  }

  private static boolean sameToken(String sent, String expected) {
    return sent != null && MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
        expected.getBytes(StandardCharsets.UTF_8));
  }

  /** 303: the browser follows with a GET whatever method brought it here (RFC 9110 §15.4.4). */
  private static void redirect(Exchange ex, String location) {
    ex.response().setStatus(303);
    ex.response().setHeader("Location", location);
    ex.response().setHeader("Cache-Control", "no-store");
    ex.response().setHeader("Referrer-Policy", "no-referrer");
    ex.response().setContentLength(0);
  }

  /** "1 second", "5 seconds". */
  static String seconds(long n) {
    return n + (n == 1 ? " second" : " seconds");
  }
}
