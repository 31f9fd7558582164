package org.fhirbox.http;

import java.util.ArrayList;
import java.util.List;
import org.fhirbox.auth.Scopes;

/** The scopes an app asks for, in the plain words a consent page shows a person. */
final class ScopeWords {
  private static final String[] VERBS = {"create", "read", "update", "delete", "search"};
  private static final String LETTERS = "cruds";

  private ScopeWords() {}

  /**
   * One sentence per scope of {@code granted}, e.g. "Read and search Observation records of the
   * patient" for {@code patient/Observation.rs}.
   *
   * @param refreshDays how long {@code offline_access} keeps the app signed in
   */
  static List<String> describe(Scopes granted, long refreshDays) {
    List<String> out = new ArrayList<>();
    for (String scope : granted.toString().split(" ")) {
      if (!scope.isEmpty()) {
        out.add(describe(scope, refreshDays));
      }
    }
    return out;
  }

  private static String describe(String scope, long refreshDays) {
    switch (scope) {
      case "openid":
        return "Confirm that it is you who signed in";
      case "fhirUser":
        return "Know which record in this system is you";
      case "profile":
        return "See your name and email address";
      case "launch/patient":
        return "Know which patient you chose";
      case "offline_access":
        return "Stay signed in after you close it, for up to " + refreshDays + " days or until you sign out";
      case Scopes.ADMIN:
        return "Administer this project, its apps and its audit trail";
      default:
        break;
    }
    int slash = scope.indexOf('/');
    int dot = scope.lastIndexOf('.');
    if (slash < 0 || dot < slash) {
      return scope;
    }
    String context = scope.substring(0, slash);
    String type = scope.substring(slash + 1, dot);
    String letters = scope.substring(dot + 1);
    List<String> verbs = new ArrayList<>();
    for (char c : letters.toCharArray()) {
      int i = LETTERS.indexOf(c);
      if (i >= 0) {
        verbs.add(VERBS[i]);
      }
    }
    String what = type.equals("*") ? "all kinds of records" : type + " records";
    String whose = switch (context) {
      case "patient" -> "of the patient";
      case "user" -> "that you can access";
      default -> "in the whole project";
    };
    return capitalise(join(verbs)) + " " + what + " " + whose;
  }

  private static String join(List<String> words) {
    if (words.size() <= 1) {
      return String.join("", words);
    }
    return String.join(", ", words.subList(0, words.size() - 1)) + " and " + words.get(words.size() - 1);
  }

  private static String capitalise(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
