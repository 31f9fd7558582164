// The one rule for the FHIR ids the app puts in a URL path, wherever it read them (an address, a
// header, a resource, a reference).

/**
 * Whether `id` is a FHIR id the app may name in a path: the id grammar (R4 datatypes.html#id,
 * `[A-Za-z0-9\-\.]{1,64}`) and neither "." nor "..", which are ids by that grammar but path
 * segments a URL resolves away (RFC 3986 §5.2.4): a request for `Binary/..` would go to the FHIR
 * base, and one for `Binary/{id}/_history/..` to the Binary itself. The server refuses them in a
 * path; the app names nothing by them.
 */
export function isId(id) {
  return typeof id === 'string' && /^[A-Za-z0-9.-]{1,64}$/.test(id) && id !== '.' && id !== '..';
}

/**
 * Whether `id` is a client id the app may name in a path: the server's rule for client ids (a
 * letter or digit, then at most 127 letters, digits and `.` `_` `~` `-`), which covers the ids it
 * issues (UUIDs) and one an operator chose (`FHIRBOX_BOOTSTRAP_CLIENT_ID`). Its first character is
 * never a '.', so neither "." nor ".." is one, and each of its characters is unreserved (RFC 3986
 * §2.3): it stands in a path as it is, one segment.
 */
export function isClientId(id) {
  return typeof id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$/.test(id);
}
