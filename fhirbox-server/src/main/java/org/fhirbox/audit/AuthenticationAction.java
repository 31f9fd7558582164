package org.fhirbox.audit;

/**
 * What a person's authentication event was, with its AuditEvent coding: type DICOM
 * {@code 110114 User Authentication} for all, subtype {@code 110122 Login} for a sign-in or a
 * refresh (the app signs in again on the person's behalf) and {@code 110123 Logout} for a
 * revocation or a sign-out (the sign-in ends). Action {@code E} (execute), as in DICOM PS3.15's User
 * Authentication audit message.
 */
public enum AuthenticationAction {
  SIGN_IN(AuditCodes.LOGIN, "sign-in"),
  REFRESH(AuditCodes.LOGIN, "access token refreshed with a refresh token"),
  REVOKE(AuditCodes.LOGOUT, "refresh token revoked"),
  SIGN_OUT(AuditCodes.LOGOUT, "signed out (/oauth2/logout)");

  private final AuditCodes.Code subtype;
  private final String description;

  AuthenticationAction(AuditCodes.Code subtype, String description) {
    this.subtype = subtype;
    this.description = description;
  }

  AuditCodes.Code subtype() {
    return subtype;
  }

  public String description() {
    return description;
  }
}
